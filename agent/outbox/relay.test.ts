/**
 * The relay against a scripted publisher on a ManualClock: order and batching, backoff with a
 * pinned jitter, the reachability probe ending a long backoff early, poison into the DLQ, stop in
 * the middle of a send, an outbox that throws, sweeping, and progress lines for a long drain.
 */
import { strict as assert } from "node:assert";
import { Writable } from "node:stream";
import { test } from "node:test";
import { ManualClock, type Clock } from "../core/clock.js";
import { createEnvelope } from "../core/envelope.js";
import { StorageError } from "../core/errors.js";
import { createRootLogger, type Logger } from "../core/logger.js";
import { MetricsRegistry } from "../core/metrics.js";
import { MemoryOutbox } from "./memory-outbox.js";
import type { Outbox } from "./outbox.js";
import type { OutgoingMessage, Publisher, SendOutcome } from "./publisher.js";
import { Relay, type RelayOptions } from "./relay.js";

const SUBJECT = "ada.root.uplink.hub-1.telemetry.reading";
const TTL_MS = 3_600_000;

function memoryOutbox(clock: Clock): MemoryOutbox {
  return new MemoryOutbox({ limits: { maxRows: 100_000, maxBytes: 1 << 30, ttlMs: TTL_MS }, dlqMaxRows: 1000, clock });
}

type Script = (batch: readonly OutgoingMessage[], signal: AbortSignal) => SendOutcome[] | Promise<SendOutcome[]>;

/** A publisher whose answers the test scripts; it records every batch and every probe. */
class ScriptedPublisher implements Publisher {
  readonly name = "scripted";
  readonly batches: string[][] = [];
  probes = 0;
  up = false;
  script: Script = (batch) => batch.map((m) => ({ type: "sent", id: m.id }));

  send(batch: readonly OutgoingMessage[], signal: AbortSignal): Promise<SendOutcome[]> {
    this.batches.push(batch.map((m) => m.id));
    return Promise.resolve(this.script(batch, signal));
  }

  reachable(): Promise<boolean> {
    this.probes++;
    return Promise.resolve(this.up);
  }
}

interface LogLine {
  readonly level: number;
  readonly msg: string;
  readonly [k: string]: unknown;
}

function capture(): { logger: Logger; lines: LogLine[] } {
  const lines: LogLine[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _e, cb) {
      for (const l of chunk.toString("utf8").split("\n")) if (l.trim() !== "") lines.push(JSON.parse(l) as LogLine);
      cb();
    },
  });
  return { logger: createRootLogger({ level: "debug", nodeId: "hub-1", destination }).child({ component: "relay" }), lines };
}

/** Let the relay's promise chains run (no timers are involved: the clock is manual). */
async function settle(rounds = 20): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise((r) => setImmediate(r));
}

function setup(t: { after(fn: () => Promise<void>): void }, opts: Partial<RelayOptions> & { clock?: ManualClock } = {}) {
  const clock = opts.clock ?? new ManualClock();
  const outbox: Outbox = opts.outbox ?? memoryOutbox(clock);
  const publisher = new ScriptedPublisher();
  const metrics = new MetricsRegistry();
  const { logger, lines } = capture();
  const relay = new Relay({ name: "root", outbox, publisher, batch: 10, backoff: { baseMs: 500, capMs: 30_000 }, clock, logger, metrics, random: () => 0.999, ...opts });
  t.after(() => relay.stop());
  const add = async (n: number, prefix = "e", ttlMs?: number): Promise<string[]> => {
    const ids: string[] = [];
    for (let i = 0; i < n; i++) {
      const init = { event_name: "telemetry.reading", version: 1, source: "hub-1", payload: { i }, ...(ttlMs === undefined ? {} : { ttl_ms: ttlMs }) };
      const env = { ...createEnvelope(init, clock), id: `${prefix}${i}` };
      await outbox.enqueue(SUBJECT, env);
      ids.push(env.id);
    }
    return ids;
  };
  return { clock, outbox, publisher, metrics, relay, lines, add };
}

const never = new AbortController().signal;
const retryAll: Script = (batch) => batch.map((m) => ({ type: "retry", id: m.id, error: "503 no responders" }));

test("drains in enqueue order, in batches, and wakes on enqueue when idle", async (t) => {
  const { outbox, publisher, metrics, relay, add } = setup(t);
  const ids = await add(25);
  await relay.start(never);
  await settle();
  assert.deepEqual(publisher.batches.map((b) => b.length), [10, 10, 5]);
  assert.deepEqual(publisher.batches.flat(), ids);
  assert.equal(outbox.stats().depth, 0);
  assert.deepEqual(relay.status(), { state: "idle", attempt: 0 });
  assert.equal(relay.draining, false);

  const more = await add(3, "late");
  await settle();
  assert.deepEqual(publisher.batches.at(-1), more);
  assert.equal(metrics.counter("adaos_outbox_sent_total", "").get({ relay: "root" }), 28);
});

test("a failed batch backs off with full jitter (first retry < 1 s); success resets the attempt", async (t) => {
  const { clock, outbox, publisher, metrics, relay, lines, add } = setup(t);
  await add(3);
  let failures = 3;
  publisher.script = (batch) => (failures-- > 0 ? retryAll(batch, never) : batch.map((m) => ({ type: "sent", id: m.id })));
  await relay.start(never);
  await settle();
  assert.equal(publisher.batches.length, 1);
  // random 0.999: delays 499, 999, 1998 ms (base 500 · 2^attempt).
  assert.deepEqual(relay.status(), { state: "backoff", attempt: 1, next_retry_in_ms: 499, last_error: "503 no responders" });
  assert.equal(relay.draining, true);
  assert.deepEqual([outbox.stats().retried, outbox.stats().inFlight], [3, 0]);
  clock.advance(498);
  await settle();
  assert.equal(publisher.batches.length, 1);
  clock.advance(1);
  await settle();
  assert.equal(publisher.batches.length, 2);
  assert.equal(relay.status().next_retry_in_ms, 999);
  clock.advance(999);
  await settle();
  assert.equal(relay.status().next_retry_in_ms, 1998);
  clock.advance(1998);
  await settle();
  assert.equal(publisher.batches.length, 4);
  assert.deepEqual(relay.status(), { state: "idle", attempt: 0 });
  assert.equal(outbox.stats().depth, 0);
  assert.equal(metrics.counter("adaos_outbox_retries_total", "").get({ relay: "root" }), 9);
  assert.equal(lines.filter((l) => l.msg.startsWith("could not send")).length, 1, "one warning per outage, not per attempt");
  assert.ok(lines.some((l) => l.msg === "sending again" && l.attempts === 3));
});

test("while backing off the probe resumes within one probe interval of the far side's return", async (t) => {
  const { clock, publisher, relay, add } = setup(t);
  await add(5);
  publisher.script = retryAll;
  await relay.start(never);
  await settle();
  // Grow the backoff to its cap: 499, 999, 1998, 3996, 7992, 15984, 29970 ms.
  for (let i = 0; i < 8; i++) {
    clock.advance(relay.status().next_retry_in_ms ?? 0);
    await settle();
  }
  assert.equal(relay.status().next_retry_in_ms, 29_970);
  const probes = publisher.probes;
  for (let i = 0; i < 4; i++) {
    clock.advance(250);
    await settle();
  }
  assert.equal(publisher.probes - probes, 4, "a probe every 250 ms");
  const sends = publisher.batches.length;
  publisher.up = true;
  publisher.script = (batch) => batch.map((m) => ({ type: "sent", id: m.id }));
  clock.advance(250);
  await settle();
  assert.equal(publisher.batches.length, sends + 1, "resumed at the next probe, not after 30 s");
  assert.deepEqual(relay.status(), { state: "idle", attempt: 0 });
});

test("poison goes to the DLQ and does not back off; the rest of the batch is sent", async (t) => {
  const { outbox, publisher, metrics, relay, add } = setup(t);
  await add(3);
  publisher.script = (batch) => batch.map((m) => (m.id === "e1" ? { type: "poison", id: m.id, error: "message size exceeds maximum allowed" } : { type: "sent", id: m.id }));
  await relay.start(never);
  await settle();
  assert.equal(outbox.stats().depth, 0);
  assert.deepEqual(outbox.dlq.list().map((d) => [d.id, d.reason, d.lastError]), [["e1", "poison", "message size exceeds maximum allowed"]]);
  assert.deepEqual(relay.status(), { state: "idle", attempt: 0 });
  assert.equal(metrics.counter("adaos_outbox_poisoned_total", "").get({ relay: "root" }), 1);
  assert.equal(metrics.counter("adaos_outbox_sent_total", "").get({ relay: "root" }), 2);
});

test("stop in the middle of a send: the send is aborted and awaited; its entries go back with retry", async (t) => {
  const { outbox, publisher, relay, add } = setup(t);
  await add(4);
  let seen: AbortSignal | undefined;
  publisher.script = (batch, signal) =>
    new Promise((resolve) => {
      seen = signal;
      signal.addEventListener("abort", () => resolve(batch.map((m, i) => (i === 0 ? { type: "sent", id: m.id } : { type: "retry", id: m.id, error: "aborted" }))));
    });
  await relay.start(never);
  await settle();
  assert.equal(seen?.aborted, false);
  await relay.stop();
  assert.equal(seen?.aborted, true);
  assert.deepEqual([outbox.stats().depth, outbox.stats().inFlight], [3, 0]);
  assert.deepEqual(outbox.next(10).map((e) => [e.id, e.attempts]), [["e1", 1], ["e2", 1], ["e3", 1]]);
  assert.equal(relay.draining, false);
});

test("stop during a long backoff is prompt", async (t) => {
  const { publisher, relay, add } = setup(t);
  await add(1);
  publisher.script = retryAll;
  await relay.start(never);
  await settle();
  assert.equal(relay.status().state, "backoff");
  await relay.stop(); // no clock advance: the wait is aborted, not run out
  assert.equal(relay.status().state, "idle");
});

test("an outbox that throws does not end the loop: logged, retried with backoff, then drained", async (t) => {
  const clock = new ManualClock();
  const inner = memoryOutbox(clock);
  let failures = 2;
  const outbox: Outbox = new Proxy(inner, {
    get(target, prop) {
      if (prop === "next" && failures > 0) {
        return () => {
          failures--;
          throw new StorageError("disk I/O error");
        };
      }
      const v: unknown = Reflect.get(target, prop, target);
      return typeof v === "function" ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
  const { relay, publisher, lines, add } = setup(t, { outbox, clock });
  const ids = await add(3); // `add` enqueues through the proxy into `inner`
  await relay.start(never);
  await settle();
  assert.deepEqual(relay.status(), { state: "backoff", attempt: 1, next_retry_in_ms: 499, last_error: "disk I/O error" });
  assert.equal(publisher.probes, 0, "an outbox failure is not the far side's: no probing");
  clock.advance(499);
  await settle();
  clock.advance(999);
  await settle();
  assert.deepEqual(publisher.batches, [ids]);
  assert.equal(inner.stats().depth, 0);
  assert.equal(lines.filter((l) => l.level === 50 && l.msg.startsWith("relay step failed")).length, 2);
});

test("a publisher that breaks the contract (rejects, or leaves out an outcome) gets those entries retried", async (t) => {
  const { clock, outbox, publisher, relay, add } = setup(t);
  await add(2);
  let round = 0;
  publisher.script = (batch) => {
    round++;
    if (round === 1) throw new Error("boom");
    if (round === 2) return [{ type: "sent", id: batch[0]?.id ?? "" }];
    return batch.map((m) => ({ type: "sent", id: m.id }));
  };
  await relay.start(never);
  await settle();
  assert.deepEqual([outbox.stats().depth, outbox.stats().retried, relay.status().last_error], [2, 2, "publisher failed: boom"]);
  clock.advance(499);
  await settle();
  assert.deepEqual([outbox.stats().depth, outbox.stats().retried, relay.status().last_error], [1, 3, "the publisher reported no outcome"]);
  clock.advance(999);
  await settle();
  assert.equal(outbox.stats().depth, 0);
});

test("expired entries are swept into the DLQ on start and every sweep interval, never sent", async (t) => {
  const { clock, outbox, publisher, relay, lines, add } = setup(t, { sweepIntervalMs: 30_000 });
  await add(2, "old", 1000);
  clock.advance(2000);
  publisher.script = retryAll;
  await relay.start(never);
  await settle();
  assert.deepEqual(outbox.dlq.list().map((d) => [d.id, d.reason]), [["old0", "expired"], ["old1", "expired"]]);
  assert.deepEqual(publisher.batches, []);

  await add(1, "young", 10_000); // sent, refused (retry), kept waiting in backoff until it expires
  await settle();
  assert.deepEqual(publisher.batches, [["young0"]]);
  clock.advance(30_000);
  await settle();
  assert.deepEqual(outbox.dlq.list().map((d) => d.id), ["old0", "old1", "young0"]);
  assert.equal(outbox.stats().depth, 0);
  assert.equal(lines.filter((l) => l.level === 40 && l.msg.includes("expired")).length, 2);
  await relay.stop();
});

test("a closed outbox (changed() resolves at once) does not make the relay spin", async (t) => {
  const { clock, outbox, relay } = setup(t);
  let nexts = 0;
  const next = outbox.next.bind(outbox);
  outbox.next = (max) => {
    nexts++;
    return next(max);
  };
  await relay.start(never);
  await settle();
  await outbox.close();
  await settle(100);
  assert.ok(nexts <= 3, `paced by the clock, not spinning (${nexts} calls)`);
  clock.advance(1000);
  await settle(100);
  assert.ok(nexts <= 8, `about one look per probe interval (${nexts} calls)`);
});

test("a long drain logs progress every 5 s (sent, left, rate, ETA) and one line when done", async (t) => {
  const { clock, publisher, relay, lines, add } = setup(t, { batch: 100 });
  await add(3000);
  // Each batch takes 200 ms: 30 batches, 6 s.
  publisher.script = (batch) => {
    clock.advance(200);
    return batch.map((m) => ({ type: "sent", id: m.id }));
  };
  await relay.start(never);
  await settle(200);
  assert.equal(publisher.batches.length, 30);
  const info = lines.filter((l) => l.level === 30).map((l) => l.msg);
  assert.deepEqual(info, ["draining a backlog of 3000", "drain: sent 2500, 500 left, 500/s, ETA 1 s", "drained 3000 in 6.0 s"]);
  const progress = lines.find((l) => l.msg.startsWith("drain:"));
  assert.deepEqual([progress?.sent, progress?.left, progress?.ratePerS, progress?.etaS], [2500, 500, 500, 1]);
});

test("a small drain logs nothing at info", async (t) => {
  const { relay, lines, add } = setup(t);
  await add(20);
  await relay.start(never);
  await settle();
  assert.deepEqual(lines.filter((l) => l.level >= 30), []);
});

test("a small drain that lasts longer than 5 s is reported too", async (t) => {
  const { clock, publisher, relay, lines, add } = setup(t, { batch: 1 });
  await add(20);
  publisher.script = (batch) => {
    clock.advance(400);
    return batch.map((m) => ({ type: "sent", id: m.id }));
  };
  await relay.start(never);
  await settle(100);
  const info = lines.filter((l) => l.level === 30).map((l) => l.msg);
  assert.deepEqual(info, ["drain: sent 13, 7 left, 3/s, ETA 3 s", "drained 20 in 8.0 s"]);
});
