import { strict as assert } from "node:assert";
import { test } from "node:test";
import { ManualClock } from "../core/clock.js";
import { createEnvelope } from "../core/envelope.js";
import { silentLogger } from "../core/logger.js";
import type { Scenario, Trigger } from "./scenario.js";
import { ScheduleStore } from "./schedule-store.js";
import { Scheduler } from "./scheduler.js";
import { openScenarioDb } from "./scenario-db.js";
import { publish, rig, scenario, SOURCE, step, until } from "./test-fixture.js";
import { triggerScheduleId, Triggers } from "./triggers.js";

const signal = () => new AbortController().signal;
const flush = async () => {
  for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
};

function setup(t: Parameters<typeof rig>[0], scenarios: Scenario[], clock = new ManualClock(Date.parse("2026-03-01T10:00:00.000Z"))) {
  const r = rig(t, scenarios, clock);
  const runner = r.runner();
  const db = openScenarioDb(r.dir);
  const store = new ScheduleStore(db);
  const list = { current: scenarios };
  const late: { triggers?: Triggers } = {};
  const scheduler = new Scheduler({ store, bus: r.bus, clock, logger: silentLogger(), source: SOURCE, onTick: (tick) => late.triggers?.onTick(tick) });
  const triggers = new Triggers({ scenarios: () => list.current, bus: r.bus, scheduler, submit: (req) => runner.submit(req), logger: silentLogger() });
  late.triggers = triggers;
  t.after(async () => {
    await scheduler.stop();
    await triggers.stop();
    db.close();
  });
  const start = async () => {
    await runner.start(signal());
    await triggers.start(signal());
    await scheduler.start(signal());
  };
  return { r, runner, scheduler, triggers, list, clock, start };
}

const weather = scenario("weather_now", [step("say", { kind: "say", text: "Weather in ${ctx.city}" })], {
  triggers: [{ kind: "event", event: "nlp.intent.detected", version: 1, filter: '$.payload.intent == "weather.now"', ctx: { city: "${$.payload.slots.city}" } }],
  max_concurrent: 5,
});

const intent = (name: string, slots: Record<string, unknown> = {}) =>
  createEnvelope({ event_name: "nlp.intent.detected", version: 1, source: SOURCE, correlation_id: "voice-1", payload: { intent_id: "i1", intent: name, slots, locale: "en-US" } });

test("an event trigger starts a run when its filter holds, with ctx filled from the event and the event's correlation id", async (t) => {
  const { r, start } = setup(t, [weather]);
  await start();
  r.bus.publish(intent("weather.now", { city: "Berlin" }));
  r.bus.publish(intent("music.play", { city: "Paris" }));
  r.bus.publish(intent("weather.now"));
  await until(() => r.events.filter((e) => e.event_name === "scenario.completed").length === 2);
  const runs = r.store.list({ scenario_id: "weather_now" });
  assert.equal(runs.length, 2, "music.play did not match the filter");
  const byCity = runs.map((x) => x.ctx.city ?? null).sort();
  assert.deepEqual(byCity, ["Berlin", null].sort(), "a missing slot is null, not a failure");
  assert.ok(runs.every((x) => x.trigger === "event:nlp.intent.detected" && x.correlation_id === "voice-1"));
  const said = r.events.filter((e) => e.event_name === "ui.say").map((e) => [e.payload.text, e.correlation_id]);
  assert.deepEqual(said.find((x) => x[0] === "Weather in Berlin"), ["Weather in Berlin", "voice-1"]);
});

test("a scenario never triggers itself with what it publishes (no loops)", async (t) => {
  const echo = scenario("echo", [step("again", publish("test.effect", { n: 1 }))], {
    triggers: [{ kind: "event", event: "test.effect" }],
    max_concurrent: 10,
  });
  const { r, start } = setup(t, [echo]);
  await start();
  r.bus.publish(createEnvelope({ event_name: "test.effect", version: 1, source: SOURCE, payload: { n: 0 } }));
  await until(() => r.events.some((e) => e.event_name === "scenario.completed"));
  await flush();
  assert.equal(r.store.list({ scenario_id: "echo" }).length, 1);
});

test("time triggers become trigger.<id>.<n> schedules; reconcile replaces changed ones, drops gone ones, keeps API schedules", async (t) => {
  const cron: Trigger = { kind: "cron", cron: "0 7 * * *", tz: "Europe/Berlin", catch_up: false };
  const every: Trigger = { kind: "interval", every_ms: 60_000, catch_up: false };
  const brief = scenario("brief", [step("s", { kind: "set", values: { x: 1 } })], { triggers: [cron, every] });
  const { scheduler, triggers, list, start } = setup(t, [brief]);
  scheduler.create({ id: "mine", spec: { type: "interval", every_ms: 5000 } });
  await start();
  assert.deepEqual(scheduler.list().map((s) => s.id).sort(), ["mine", triggerScheduleId("brief", 0), triggerScheduleId("brief", 1)].sort());
  const createdAt = scheduler.get("trigger.brief.0")?.created_at;

  list.current = [scenario("brief", brief.steps, { triggers: [cron, { ...every, every_ms: 120_000 }] })];
  triggers.reconcile();
  assert.equal(scheduler.get("trigger.brief.0")?.created_at, createdAt, "an unchanged trigger keeps its schedule");
  assert.deepEqual(scheduler.get("trigger.brief.1")?.spec, { type: "interval", every_ms: 120_000 });

  list.current = [];
  triggers.reconcile();
  assert.deepEqual(scheduler.list().map((s) => s.id), ["mine"]);
});

test("a schedule tick starts one run keyed by the tick; the same tick again (a crash before it was recorded) is the same run", async (t) => {
  const s = scenario("blink", [step("s", { kind: "set", values: { x: 1 } })], { triggers: [{ kind: "interval", every_ms: 1000, catch_up: false, ctx: { led: 2 } }] });
  const { r, clock, scheduler, triggers, start } = setup(t, [s]);
  await start();
  clock.advance(1000);
  await until(() => r.events.some((e) => e.event_name === "scenario.completed"));
  const [run] = r.store.list({ scenario_id: "blink" });
  assert.equal(run?.trigger, "schedule:trigger.blink.0");
  assert.equal(run?.ctx.led, 2);
  assert.deepEqual(run?.ctx.tick, { schedule_id: "trigger.blink.0", scheduled_at: "2026-03-01T10:00:01.000Z", seq: 1, missed: 0 });
  assert.equal(run?.trigger_key, "trigger.blink.0@2026-03-01T10:00:01.000Z");

  const record = scheduler.get("trigger.blink.0");
  assert.ok(record !== undefined);
  triggers.onTick({ schedule: record, scheduledAt: Date.parse("2026-03-01T10:00:01.000Z"), seq: 1, missed: 0, key: "trigger.blink.0@2026-03-01T10:00:01.000Z" });
  assert.equal(r.store.list({ scenario_id: "blink" }).length, 1);
  assert.match(r.metrics.render(), /adaos_scenario_runs_refused_total\{reason="duplicate",scenario="blink"\} 1/);
});
