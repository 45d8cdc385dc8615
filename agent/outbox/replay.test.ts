import { strict as assert } from "node:assert";
import { test } from "node:test";
import type { Envelope } from "../../abi/envelope.js";
import type { RejectReason } from "../bus/bus.js";
import { LocalBus } from "../bus/local-bus.js";
import { ManualClock } from "../core/clock.js";
import { createEnvelope } from "../core/envelope.js";
import { silentLogger } from "../core/logger.js";
import { MetricsRegistry } from "../core/metrics.js";
import { MemoryCatalog, entry } from "../registry/memory-catalog.js";
import type { DeadLetter, DeadOrigin } from "./dead-letters.js";
import type { Outbox } from "./outbox.js";
import { replayDeadLetter, type ReplayDeps } from "./replay.js";

const catalog = new MemoryCatalog([
  { entry: entry("ui.notify"), schema: { type: "object", properties: { text: { type: "string" } }, required: ["text"] } },
]);

interface Harness {
  readonly deps: ReplayDeps;
  readonly bus: LocalBus;
  readonly clock: ManualClock;
  readonly delivered: Envelope[];
  readonly enqueued: { subject: string; id: string }[];
  readonly rejected: RejectReason[];
}

function harness(withOutbox = true): Harness {
  const clock = new ManualClock(Date.parse("2026-03-01T10:00:00Z"));
  const rejected: RejectReason[] = [];
  const bus = new LocalBus({
    catalog, logger: silentLogger(), metrics: new MetricsRegistry(), source: "agent://hub/t", clock,
    onReject: (_data, reason) => void rejected.push(reason),
  });
  const delivered: Envelope[] = [];
  bus.subscribe(">", (e) => void delivered.push(e));
  const enqueued: { subject: string; id: string }[] = [];
  // Replay only ever calls enqueue: the rest of the port is not needed here.
  const outbox = {
    enqueue(subject: string, envelope: Envelope) {
      const duplicate = enqueued.some((e) => e.id === envelope.id);
      if (!duplicate) enqueued.push({ subject, id: envelope.id });
      return Promise.resolve({ duplicate });
    },
  } as unknown as Outbox;
  return { deps: { bus, catalog, clock, ...(withOutbox ? { outbox } : {}) }, bus, clock, delivered, enqueued, rejected };
}

function envelope(clock: ManualClock, payload: Record<string, unknown> = { text: "hi" }, extra: { ttl_ms?: number } = {}): Envelope {
  return createEnvelope({ event_name: "ui.notify", version: 1, payload, source: "t@x", ...extra }, clock);
}

function dead(data: unknown, origin: DeadOrigin, subject: string | null = "uplink.ui.notify"): DeadLetter {
  const bytes = typeof data === "string" ? data : JSON.stringify(data);
  return {
    dlqId: 7, reason: "poison", origin, id: null, eventName: "ui.notify", subject, source: "t@x",
    attempts: 3, lastError: "boom", deadAt: 0, data: new TextEncoder().encode(bytes),
  };
}

async function settle(): Promise<void> {
  await new Promise((r) => setImmediate(r));
}

test("replay inbound: the bus publishes it again", async () => {
  const h = harness();
  const env = envelope(h.clock);
  assert.deepEqual(await replayDeadLetter(dead(env, "inbound"), h.deps), { ok: true, duplicate: false });
  await settle();
  assert.deepEqual(h.delivered.map((e) => e.id), [env.id]);
  assert.deepEqual(h.enqueued, []);
});

test("replay inbound of an id the bus still remembers: a failure, nothing delivered twice", async () => {
  const h = harness();
  const env = envelope(h.clock);
  h.bus.publish(env);
  const r = await replayDeadLetter(dead(env, "inbound"), h.deps);
  assert.equal(r.ok, false);
  assert.ok(!r.ok);
  assert.equal(r.code, "E_ENVELOPE_INVALID");
  assert.match(r.message, /duplicate.*stays in the DLQ/);
  await settle();
  assert.equal(h.delivered.length, 1);
});

test("replay outbox: re-enqueued for its subject; an id already waiting counts as replayed", async () => {
  const h = harness();
  const env = envelope(h.clock);
  assert.deepEqual(await replayDeadLetter(dead(env, "outbox"), h.deps), { ok: true, duplicate: false });
  assert.deepEqual(await replayDeadLetter(dead(env, "outbox"), h.deps), { ok: true, duplicate: true });
  assert.deepEqual(h.enqueued, [{ subject: "uplink.ui.notify", id: env.id }]);
  await settle();
  assert.equal(h.delivered.length, 0, "an outbox replay does not go on the local bus");
});

test("replay outbox without an outbox or without a subject fails and says why", async () => {
  const none = harness(false);
  const a = await replayDeadLetter(dead(envelope(none.clock), "outbox"), none.deps);
  assert.ok(!a.ok);
  assert.equal(a.code, "E_NOT_FOUND");
  assert.match(a.message, /no outbox/);
  const h = harness();
  const b = await replayDeadLetter(dead(envelope(h.clock), "outbox", null), h.deps);
  assert.ok(!b.ok);
  assert.equal(b.code, "E_BAD_REQUEST");
  assert.match(b.message, /no subject/);
});

test("replay of an invalid envelope fails with the validator's code and JSON pointers; the bus never sees it", async () => {
  const h = harness();
  for (const origin of ["inbound", "outbox"] as const) {
    const r = await replayDeadLetter(dead(envelope(h.clock, { text: 5 }), origin), h.deps);
    assert.ok(!r.ok);
    assert.equal(r.code, "E_PAYLOAD_INVALID");
    assert.match(r.message, /\/payload\/text must be string/);
    assert.deepEqual(r.issues, [{ pointer: "/payload/text", message: "must be string" }]);
  }
  const notJson = await replayDeadLetter(dead("{nope", "inbound"), h.deps);
  assert.ok(!notJson.ok);
  assert.equal(notJson.code, "E_ENVELOPE_INVALID");
  assert.match(notJson.message, /dead letter 7 is not JSON/);
  const unknown = await replayDeadLetter(dead({ ...envelope(h.clock), event_name: "ui.gone" }, "inbound"), h.deps);
  assert.ok(!unknown.ok);
  assert.equal(unknown.code, "E_EVENT_UNKNOWN");
  assert.deepEqual(h.rejected, [], "a failed replay does not pass through the bus's reject path (no second dead letter)");
  assert.deepEqual(h.enqueued, []);
});

test("replay of an expired envelope fails with E_ENVELOPE_EXPIRED (ttl_ms is never overridden)", async () => {
  const h = harness();
  const env = envelope(h.clock, { text: "late" }, { ttl_ms: 1000 });
  h.clock.advance(999);
  assert.deepEqual(await replayDeadLetter(dead(env, "outbox"), h.deps), { ok: true, duplicate: false });
  h.clock.advance(1);
  for (const origin of ["inbound", "outbox"] as const) {
    const r = await replayDeadLetter(dead(env, origin), h.deps);
    assert.ok(!r.ok);
    assert.equal(r.code, "E_ENVELOPE_EXPIRED");
    assert.match(r.message, /has expired.*purge it/);
  }
  await settle();
  assert.equal(h.delivered.length, 0);
  assert.deepEqual(h.rejected, []);
});

test("a stopped bus is a failure result, not a throw", async () => {
  const h = harness();
  await h.bus.stop();
  const r = await replayDeadLetter(dead(envelope(h.clock), "inbound"), h.deps);
  assert.ok(!r.ok);
  assert.equal(r.code, "E_BUS_CLOSED");
});
