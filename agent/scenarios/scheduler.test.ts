import { strict as assert } from "node:assert";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { test } from "node:test";
import type { Envelope } from "../../abi/envelope.js";
import { LocalBus } from "../bus/local-bus.js";
import { ManualClock, type Clock } from "../core/clock.js";
import { ScheduleInvalidError } from "../core/errors.js";
import { createRootLogger, silentLogger, type Logger } from "../core/logger.js";
import { MetricsRegistry } from "../core/metrics.js";
import { checkEnvelope } from "../registry/check.js";
import { precompiledCatalog } from "../registry/precompiled.js";
import { countOccurrences, nextOccurrence, type ScheduleInput } from "./schedule.js";
import { ScheduleStore } from "./schedule-store.js";
import { MAX_MISSED_COUNT, Scheduler, type SchedulerOptions, type Tick } from "./scheduler.js";

const T0 = Date.parse("2026-01-15T00:00:00.000Z");
const iso = (ms: number) => new Date(ms).toISOString();
const everySecond = (extra: Partial<ScheduleInput> = {}): ScheduleInput => ({ id: "every-second", spec: { type: "cron", cron: "* * * * * *" }, ...extra });

const flush = async () => {
  for (let i = 0; i < 10; i++) await new Promise((r) => setImmediate(r));
};

type TestContext = { after(fn: () => Promise<void> | void): void };

function setup(t: TestContext, start = T0, clockOverride?: (manual: ManualClock) => Clock) {
  const dir = mkdtempSync(join(tmpdir(), "adaos-scheduler-"));
  const manual = new ManualClock(start);
  const clock = clockOverride?.(manual) ?? manual;
  const catalog = precompiledCatalog();
  const bus = new LocalBus({ catalog, logger: silentLogger(), metrics: new MetricsRegistry(), source: "agent://hub/hub-1", clock });
  const events: Envelope[] = [];
  bus.subscribe(">", (e) => void events.push(e));
  const store = ScheduleStore.open(dir);
  const schedulers: Scheduler[] = [];
  t.after(async () => {
    for (const s of schedulers) await s.stop();
    store.close();
    await bus.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  const ticks: Tick[] = [];
  /** A scheduler on the shared store; by default onTick records the tick. */
  const scheduler = (opts: Partial<SchedulerOptions> = {}) => {
    const s = new Scheduler({ store, bus, clock, logger: silentLogger(), source: "agent://hub/hub-1", onTick: (tick) => void ticks.push(tick), ...opts });
    schedulers.push(s);
    return s;
  };
  const started = async (opts: Partial<SchedulerOptions> = {}) => {
    const s = scheduler(opts);
    await s.start(new AbortController().signal);
    return s;
  };
  return { manual, clock, catalog, bus, events, store, ticks, scheduler, started };
}

test("a cron every second fires 5 ticks over 5 s: seq 1..5, scheduled on the second, valid timer.tick envelopes", async (t) => {
  const { manual, catalog, events, store, ticks, started } = setup(t, T0 + 250);
  const s = await started();
  s.create(everySecond({ scenario_id: "blink", ctx: { led: 1 } }));
  manual.advance(5000);
  await flush();
  const due = [1, 2, 3, 4, 5].map((k) => T0 + k * 1000);
  assert.deepEqual(ticks.map((x) => [x.seq, x.scheduledAt, x.missed, x.key]), due.map((at, i) => [i + 1, at, 0, `every-second@${iso(at)}`]));
  assert.equal(ticks[0]?.schedule.scenario_id, "blink");
  assert.deepEqual(ticks[0]?.schedule.ctx, { led: 1 });

  assert.equal(events.length, 5, "every publish passed the bus's validation");
  for (const e of events) assert.doesNotThrow(() => checkEnvelope(catalog, structuredClone(e)));
  assert.deepEqual(events.map((e) => [e.event_name, e.source, e.headers]), due.map((at) => ["timer.tick", "agent://hub/hub-1", { idempotency_key: `every-second@${iso(at)}` }]));
  assert.deepEqual(events[2]?.payload, {
    timer_id: "every-second", schedule_type: "cron", schedule: "* * * * * *", scheduled_at: "2026-01-15T00:00:03.000Z", fired_at: "2026-01-15T00:00:03.000Z", seq: 3, missed: 0,
  });
  assert.deepEqual([store.get("every-second")?.seq, store.get("every-second")?.last_tick_at], [5, due[4]]);
});

test("a cron in a time zone: 0 8 * * * in Europe/Berlin fires at 07:00Z in winter (06:00Z in summer)", async (t) => {
  const { manual, events, ticks, started } = setup(t);
  const s = await started();
  s.create({ id: "wake-up", spec: { type: "cron", cron: "0 8 * * *", tz: "Europe/Berlin" } });
  manual.advance(24 * 3600_000);
  await flush();
  assert.deepEqual(ticks.map((x) => iso(x.scheduledAt)), ["2026-01-15T07:00:00.000Z"]);
  assert.deepEqual(events[0]?.payload, {
    timer_id: "wake-up", schedule_type: "cron", schedule: "0 8 * * *", tz: "Europe/Berlin",
    scheduled_at: "2026-01-15T07:00:00.000Z", fired_at: "2026-01-15T07:00:00.000Z", seq: 1, missed: 0,
  });
  const summer = nextOccurrence({ type: "cron", cron: "0 8 * * *", tz: "Europe/Berlin" }, Date.parse("2026-07-01T00:00:00Z"), 0);
  assert.equal(summer === undefined ? undefined : iso(summer), "2026-07-01T06:00:00.000Z");
  const utc = nextOccurrence({ type: "cron", cron: "0 8 * * *" }, T0, 0);
  assert.equal(utc === undefined ? undefined : iso(utc), "2026-01-15T08:00:00.000Z", "no tz is UTC, not the process's zone");
});

test("an interval fires every every_ms counted from created_at", async (t) => {
  const { manual, events, ticks, started } = setup(t, T0 + 123);
  const s = await started();
  s.create({ id: "poll", spec: { type: "interval", every_ms: 1500 } });
  manual.advance(4499);
  await flush();
  assert.deepEqual(ticks.map((x) => x.scheduledAt - T0), [1623, 3123]);
  manual.advance(1);
  await flush();
  assert.deepEqual(ticks.map((x) => x.scheduledAt - T0), [1623, 3123, 4623]);
  assert.deepEqual(events.map((e) => [e.payload.schedule_type, e.payload.schedule]), [["interval", "1500"], ["interval", "1500"], ["interval", "1500"]]);
});

test("a once in the future fires once and is deleted; a once in the past is refused", async (t) => {
  const { manual, events, store, ticks, started } = setup(t);
  const s = await started();
  // 2026-01-15T01:30:00Z written with an offset.
  s.create({ id: "reminder", spec: { type: "once", at: "2026-01-15T03:30:00+02:00" } });
  manual.advance(90 * 60_000 - 1);
  assert.equal(ticks.length, 0);
  manual.advance(1);
  await flush();
  assert.deepEqual(ticks.map((x) => [x.key, x.seq]), [["reminder@2026-01-15T01:30:00.000Z", 1]]);
  assert.deepEqual(events[0]?.payload, {
    timer_id: "reminder", schedule_type: "once", schedule: "2026-01-15T03:30:00+02:00", scheduled_at: "2026-01-15T01:30:00.000Z", fired_at: "2026-01-15T01:30:00.000Z", seq: 1, missed: 0,
  });
  assert.equal(store.get("reminder"), undefined, "removed after it fired");
  manual.advance(24 * 3600_000);
  assert.equal(ticks.length, 1);

  assert.throws(() => s.create({ id: "late", spec: { type: "once", at: "2026-01-15T01:00:00Z" } }), (err: unknown) =>
    err instanceof ScheduleInvalidError && /once at "2026-01-15T01:00:00Z" is not in the future/.test(err.message));
  assert.throws(() => s.create({ id: "now", spec: { type: "once", at: iso(manual.now()) } }), ScheduleInvalidError, "now is not the future either");
  assert.equal(store.get("late"), undefined);
});

test("bad specs are ScheduleInvalidError naming the problem, and nothing is stored", async (t) => {
  const { store, started } = setup(t);
  const s = await started();
  const bad: [unknown, RegExp][] = [
    [{ spec: { type: "cron", cron: "x" } }, /^cron "x": .*invalid configuration format/],
    [{ spec: { type: "cron", cron: "61 * * * *" } }, /^cron "61 \* \* \* \*": .*minute/],
    [{ spec: { type: "cron", cron: "* * * * * * *" } }, /^cron "\* \* \* \* \* \* \*": .*5 or 6 parts/],
    [{ spec: { type: "cron", cron: "0 0 30 2 *" } }, /^cron "0 0 30 2 \*": never fires/],
    [{ spec: { type: "cron", cron: "0 8 * * *", tz: "Mars/Olympus" } }, /^unknown time zone "Mars\/Olympus"/],
    [{ spec: { type: "interval", every_ms: 10 } }, /^interval every_ms 10 is below the minimum of 1000 ms/],
    [{ spec: { type: "interval", every_ms: 1.5e3 + 0.5 } }, /whole number/],
    [{ spec: { type: "once", at: "tomorrow" } }, /^once at "tomorrow": not an ISO-8601 time/],
    [{ spec: { type: "once", at: "2026-09-21T07:00:00" } }, /^once at "2026-09-21T07:00:00": not an ISO-8601 time with an offset/],
    [{ spec: { type: "once", at: "2026-02-30T07:00:00Z" } }, /^once at "2026-02-30T07:00:00Z": no such date/],
    [{ spec: { type: "weekly" } }, /spec type "weekly" is not one of cron, interval, once/],
    [{ spec: { type: "interval", every: 1000 } }, /^interval spec has an unknown field "every"/],
    [{ id: "Bad Id", spec: { type: "interval", every_ms: 1000 } }, /schedule id "Bad Id" must match/],
    [{ spec: { type: "interval", every_ms: 1000 }, event: "Tick" }, /event "Tick" is not an event name/],
    [{ spec: { type: "interval", every_ms: 1000 }, catch_up: "yes" }, /catch_up must be true or false/],
    [{ spec: { type: "interval", every_ms: 1000 }, ctx: [] }, /ctx must be an object/],
    ["every minute", /a schedule must be an object/],
  ];
  for (const [input, message] of bad) {
    assert.throws(() => s.create(input as ScheduleInput), (err: unknown) => err instanceof ScheduleInvalidError && message.test(err.message), `${JSON.stringify(input)} → ${message}`);
  }
  assert.deepEqual(store.list(), []);
  s.create(everySecond());
  assert.throws(() => s.create(everySecond()), /schedule every-second exists/);
});

test("restart with catch_up false: no tick for the 10 s gap; the next tick reports missed = 10", async (t) => {
  const { manual, ticks, scheduler, started } = setup(t);
  const first = await started();
  first.create(everySecond());
  manual.advance(3000); // ticks at +1, +2, +3
  await first.stop();
  manual.advance(10_000); // now +13: occurrences +4 … +13 pass unattended (+13 is due, not future)
  const second = scheduler();
  await second.start(new AbortController().signal);
  await flush();
  assert.equal(ticks.length, 3, "nothing fired for the gap");
  manual.advance(1000);
  manual.advance(1000);
  assert.deepEqual(ticks.slice(3).map((x) => [x.seq, x.scheduledAt - T0, x.missed]), [[4, 14_000, 10], [5, 15_000, 0]]);
});

test("restart with catch_up true: exactly one tick at once, for the latest missed occurrence, missed = 9", async (t) => {
  const { manual, events, ticks, started } = setup(t);
  const first = await started();
  first.create(everySecond({ catch_up: true }));
  manual.advance(3000);
  await first.stop();
  manual.advance(10_000);
  await started();
  await flush();
  assert.deepEqual(ticks.slice(3).map((x) => [x.seq, x.scheduledAt - T0, x.missed]), [[4, 13_000, 9]]);
  assert.deepEqual([events[3]?.payload.scheduled_at, events[3]?.payload.fired_at], [iso(T0 + 13_000), iso(T0 + 13_000)]);
  manual.advance(1000);
  assert.deepEqual(ticks.slice(3).map((x) => [x.seq, x.scheduledAt - T0, x.missed]), [[4, 13_000, 9], [5, 14_000, 0]]);
});

test("a once that came due while stopped: removed unfired without catch_up, fired once at start with it", async (t) => {
  const { manual, store, ticks, scheduler, started } = setup(t);
  const first = scheduler();
  first.create({ id: "skip", spec: { type: "once", at: "2026-01-15T00:00:05Z" } });
  first.create({ id: "keep", spec: { type: "once", at: "2026-01-15T00:00:05Z" }, catch_up: true });
  manual.advance(60_000);
  await started();
  assert.deepEqual(ticks.map((x) => [x.key, x.seq, x.missed]), [["keep@2026-01-15T00:00:05.000Z", 1, 0]]);
  assert.deepEqual(store.list(), [], "both are done");
});

test("no duplicates across a restart: tick keys from two schedulers on one db are unique and consecutive", async (t) => {
  const { manual, ticks, started } = setup(t);
  const first = await started();
  first.create(everySecond());
  first.create({ id: "poll", spec: { type: "interval", every_ms: 2000 } });
  manual.advance(3500);
  await first.stop();
  const second = await started();
  manual.advance(3500);
  await second.stop();
  const keys = (id: string) => ticks.filter((x) => x.schedule.id === id).map((x) => x.key);
  assert.deepEqual(keys("every-second"), [1, 2, 3, 4, 5, 6, 7].map((k) => `every-second@${iso(T0 + k * 1000)}`));
  assert.deepEqual(keys("poll"), [2, 4, 6].map((k) => `poll@${iso(T0 + k * 1000)}`));
  assert.equal(new Set(ticks.map((x) => x.key)).size, ticks.length);
  assert.deepEqual(ticks.filter((x) => x.schedule.id === "every-second").map((x) => x.seq), [1, 2, 3, 4, 5, 6, 7]);
});

test("a crash between onTick and markFired: with catch_up the restart re-fires the same key (the runner dedups); without, it is counted missed", async (t) => {
  for (const catchUp of [true, false]) {
    const { manual, bus, store, ticks } = setup(t);
    // Not registered for stop(): its stuck onTick would never let stop() return.
    const crashing = new Scheduler({
      store, bus, clock: manual, logger: silentLogger(), source: "agent://hub/hub-1",
      onTick: (tick) => {
        ticks.push(tick);
        // The third tick never finishes: the process "dies" before recording it.
        return tick.seq === 3 ? new Promise<void>(() => {}) : undefined;
      },
    });
    await crashing.start(new AbortController().signal);
    crashing.create(everySecond({ catch_up: catchUp }));
    manual.advance(5000);
    assert.equal(ticks.length, 3, "stuck in the third onTick: nothing more is armed");
    assert.equal(store.get("every-second")?.seq, 2);
    // A new process on the same file (the stuck one is abandoned, never stopped).
    const restarted = new Scheduler({ store, bus, clock: manual, logger: silentLogger(), source: "agent://hub/hub-1", onTick: (tick) => void ticks.push(tick) });
    await restarted.start(new AbortController().signal);
    manual.advance(1000);
    await restarted.stop();
    const seen = ticks.map((x) => [x.key.slice(x.key.indexOf("@") + 1), x.seq, x.missed]);
    if (catchUp) {
      // +3 (unrecorded) … +5 due at restart: the latest, +5, fires at once with missed 2.
      assert.deepEqual(seen, [[iso(T0 + 1000), 1, 0], [iso(T0 + 2000), 2, 0], [iso(T0 + 3000), 3, 0], [iso(T0 + 5000), 3, 2], [iso(T0 + 6000), 4, 0]]);
    } else {
      assert.deepEqual(seen, [[iso(T0 + 1000), 1, 0], [iso(T0 + 2000), 2, 0], [iso(T0 + 3000), 3, 0], [iso(T0 + 6000), 3, 3]]);
    }
    assert.equal(new Set(ticks.map((x) => x.key)).size, ticks.length, "never a key twice");
    ticks.length = 0;
  }
});

test("a crash right after firing, restarted at the same instant with catch_up: the very same tick key again", async (t) => {
  const { manual, bus, store, ticks } = setup(t);
  const crashing = new Scheduler({
    store, bus, clock: manual, logger: silentLogger(), source: "agent://hub/hub-1",
    onTick: (tick) => { ticks.push(tick); return tick.seq === 2 ? new Promise<void>(() => {}) : undefined; },
  });
  await crashing.start(new AbortController().signal);
  crashing.create(everySecond({ catch_up: true }));
  manual.advance(2000);
  const restarted = new Scheduler({ store, bus, clock: manual, logger: silentLogger(), source: "agent://hub/hub-1", onTick: (tick) => void ticks.push(tick) });
  await restarted.start(new AbortController().signal);
  await restarted.stop();
  assert.deepEqual(ticks.map((x) => [x.key, x.seq, x.missed]), [
    [`every-second@${iso(T0 + 1000)}`, 1, 0], [`every-second@${iso(T0 + 2000)}`, 2, 0], [`every-second@${iso(T0 + 2000)}`, 2, 0],
  ]);
});

test("a throwing or rejecting onTick does not stop later ticks, and each is still recorded", async (t) => {
  const { manual, store, events, ticks, started } = setup(t);
  const s = await started({
    onTick: (tick) => {
      ticks.push(tick);
      if (tick.seq === 1) throw new Error("boom");
      return tick.seq === 2 ? Promise.reject(new Error("async boom")) : undefined;
    },
  });
  s.create(everySecond());
  for (let i = 0; i < 4; i++) {
    manual.advance(1000);
    await flush();
  }
  assert.deepEqual(ticks.map((x) => x.seq), [1, 2, 3, 4]);
  assert.equal(store.get("every-second")?.seq, 4);
  assert.equal(events.length, 4);
});

test("delete stops a schedule at once; create before start only stores, start arms it", async (t) => {
  const { manual, store, ticks, scheduler } = setup(t);
  const s = scheduler();
  s.create(everySecond());
  s.create({ id: "poll", spec: { type: "interval", every_ms: 1000 } });
  manual.advance(500);
  assert.equal(ticks.length, 0, "not started: nothing armed");
  assert.deepEqual(s.list().map((x) => x.id), ["every-second", "poll"]);
  await s.start(new AbortController().signal);
  manual.advance(2000);
  assert.deepEqual(ticks.map((x) => x.schedule.id), ["every-second", "poll", "every-second", "poll"]);
  assert.equal(s.delete("every-second"), true);
  assert.equal(s.delete("every-second"), false);
  manual.advance(3000);
  assert.deepEqual(ticks.slice(4).map((x) => x.schedule.id), ["poll", "poll", "poll"]);
  assert.equal(s.get("every-second"), undefined);
  assert.equal(store.get("poll")?.seq, 5);
  await s.stop();
  manual.advance(5000);
  assert.equal(ticks.length, 7, "stop cancels every timer");
});

test("a custom event the catalog does not know: one warning, timer.tick published instead", async (t) => {
  const { manual, events, started } = setup(t);
  const lines: string[] = [];
  const sink = new Writable({ write(chunk: Buffer, _enc, done) { lines.push(chunk.toString()); done(); } });
  const logger: Logger = createRootLogger({ level: "warn", nodeId: "hub-1", destination: sink });
  const s = await started({ logger });
  s.create(everySecond({ event: "home.lights.morning" }));
  manual.advance(3000);
  await flush();
  assert.deepEqual(events.map((e) => e.event_name), ["timer.tick", "timer.tick", "timer.tick"]);
  assert.equal(lines.filter((l) => l.includes("home.lights.morning")).length, 1, "warned once");
});

test("long waits are re-armed in steps: a forward wall-clock jump is noticed within maxWaitMs, and the late tick keeps its scheduled time", async (t) => {
  let offset = 0;
  const { manual, events, ticks, started } = setup(t, T0, (m) => ({ now: () => m.now() + offset, setTimer: (fn, ms) => m.setTimer(fn, ms) }));
  const s = await started({ maxWaitMs: 60_000 });
  s.create({ id: "hourly", spec: { type: "cron", cron: "0 * * * *" } });
  offset = 3600_000 + 5000; // NTP fixes the clock: it is suddenly 01:00:05, the timer still thinks 00:00
  manual.advance(59_999);
  assert.equal(ticks.length, 0);
  manual.advance(1);
  await flush();
  assert.deepEqual(ticks.map((x) => [iso(x.scheduledAt), x.missed]), [["2026-01-15T01:00:00.000Z", 0]]);
  assert.deepEqual([events[0]?.payload.scheduled_at, events[0]?.payload.fired_at], ["2026-01-15T01:00:00.000Z", "2026-01-15T01:01:05.000Z"]);
});

test("a busy onTick past the next occurrence: nothing fired twice, the skipped ones reported as missed", async (t) => {
  const { manual, ticks, started } = setup(t);
  let release: () => void = () => {};
  const s = await started({
    onTick: (tick) => {
      ticks.push(tick);
      return tick.seq === 1 ? new Promise<void>((r) => (release = r)) : undefined;
    },
  });
  s.create(everySecond());
  manual.advance(3500); // +1 fires; its onTick holds on while +2 and +3 pass
  release();
  await flush();
  manual.advance(500);
  assert.deepEqual(ticks.map((x) => [x.scheduledAt - T0, x.seq, x.missed]), [[1000, 1, 0], [4000, 2, 2]]);
});

test("counting missed runs is bounded: a month off for an every-second cron reports MAX_MISSED_COUNT quickly", async (t) => {
  const { manual, ticks, started } = setup(t);
  const first = await started();
  first.create(everySecond());
  first.create({ id: "poll", spec: { type: "interval", every_ms: 1000 } });
  await first.stop();
  manual.advance(30 * 86_400_000);
  const began = performance.now();
  await started();
  assert.ok(performance.now() - began < 2000, "start does not walk a month of seconds");
  manual.advance(1000);
  assert.deepEqual(ticks.map((x) => [x.schedule.id, x.missed]), [["every-second", MAX_MISSED_COUNT], ["poll", MAX_MISSED_COUNT]]);
  const interval = countOccurrences({ type: "interval", every_ms: 1000 }, T0, T0 + 30 * 86_400_000, T0, MAX_MISSED_COUNT);
  assert.deepEqual(interval, { count: MAX_MISSED_COUNT, latest: T0 + 30 * 86_400_000 });
});
