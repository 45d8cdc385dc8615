import { strict as assert } from "node:assert";
import { test } from "node:test";
import type { Envelope, Priority } from "../../abi/envelope.js";
import { ManualClock } from "../core/clock.js";
import { createEnvelope } from "../core/envelope.js";
import {
  BusClosedError, EnvelopeExpiredError, EnvelopeInvalidError, NoRespondersError, PayloadInvalidError, SubjectInvalidError, TimeoutError,
  UnknownEventError,
} from "../core/errors.js";
import { silentLogger } from "../core/logger.js";
import { MetricsRegistry } from "../core/metrics.js";
import { MemoryCatalog, entry } from "../registry/memory-catalog.js";
import type { RejectReason } from "./bus.js";
import { LocalBus, type LocalBusOptions } from "./local-bus.js";

const catalog = new MemoryCatalog([
  { entry: entry("test.pinged"), schema: { type: "object", properties: { n: { type: "integer" } }, required: ["n"], additionalProperties: false } },
  { entry: entry("test.sub.happened"), schema: { type: "object" } },
  { entry: entry("test.do", "command", { reply: "test.do.result@1" }), schema: { type: "object", properties: { x: { type: "integer" } }, required: ["x"] } },
  { entry: entry("test.do.result", "reply"), schema: { type: "object", properties: { y: { type: "integer" } }, required: ["y"] } },
  { entry: entry("test.keyed", "event", { required_headers: ["idempotency_key"] }), schema: { type: "object" } },
]);

function makeBus(extra: Partial<LocalBusOptions> = {}) {
  const metrics = new MetricsRegistry();
  const rejected: { reason: RejectReason; error: Error }[] = [];
  const bus = new LocalBus({
    catalog,
    logger: silentLogger(),
    metrics,
    source: "agent://hub/test",
    onReject: (_data, reason, error) => rejected.push({ reason, error }),
    ...extra,
  });
  return { bus, metrics, rejected };
}

const ping = (n: number, priority: Priority = 3, extra: Partial<Parameters<typeof createEnvelope>[0]> = {}) =>
  createEnvelope({ event_name: "test.pinged", version: 1, payload: { n }, source: "test@node", priority, ...extra });

/** Let queued deliveries (setImmediate batches) run. */
async function flush(rounds = 5): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise((r) => setImmediate(r));
}

test("publish delivers to exact and wildcard subscribers, not to others", async () => {
  const { bus, metrics } = makeBus();
  const got: Record<string, string[]> = { exact: [], star: [], tail: [], other: [] };
  bus.subscribe("test.pinged", (e) => void got.exact?.push(e.event_name));
  bus.subscribe("test.*", (e) => void got.star?.push(e.event_name));
  bus.subscribe("test.>", (e, subject) => void got.tail?.push(subject));
  bus.subscribe("ui.>", (e) => void got.other?.push(e.event_name));
  const r1 = bus.publish(ping(1));
  bus.publish(createEnvelope({ event_name: "test.sub.happened", version: 1, payload: {}, source: "s" }));
  assert.equal(r1.matched, 3);
  assert.equal(r1.duplicate, false);
  await flush();
  assert.deepEqual(got.exact, ["test.pinged"]);
  assert.deepEqual(got.star, ["test.pinged"]);
  assert.deepEqual(got.tail, ["test.pinged", "test.sub.happened"]);
  assert.deepEqual(got.other, []);
  assert.equal(metrics.counter("adaos_bus_published_total", "").get(), 2);
  assert.equal(metrics.counter("adaos_bus_delivered_total", "").get(), 4);
  await bus.stop();
});

test("a queue group hands each envelope to exactly one member; plain subscribers still get all", async () => {
  const { bus } = makeBus();
  const perMember = [0, 0, 0];
  const seen = new Map<number, number>();
  perMember.forEach((_, i) =>
    bus.subscribe("test.pinged", (e) => {
      perMember[i] = (perMember[i] ?? 0) + 1;
      const n = (e.payload as { n: number }).n;
      seen.set(n, (seen.get(n) ?? 0) + 1);
    }, { queue: "workers" }),
  );
  let plain = 0;
  bus.subscribe("test.*", () => void plain++);
  for (let i = 0; i < 90; i++) bus.publish(ping(i));
  await flush(10);
  assert.equal(seen.size, 90);
  assert.ok([...seen.values()].every((c) => c === 1), "no envelope reached two members");
  assert.ok(perMember.every((c) => c > 0), `every member got work: ${perMember.join(",")}`);
  assert.equal(plain, 90);
  await bus.stop();
});

test("a subscriber that is behind receives pending envelopes in priority order (0 first), FIFO within a priority", async () => {
  const { bus } = makeBus();
  const order: string[] = [];
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  bus.subscribe("test.pinged", async (e) => {
    order.push(`${(e.payload as { n: number }).n}/p${e.priority}`);
    if (order.length === 1) await gate;
  });
  bus.publish(ping(0, 3));
  await flush(); // the first one is now inside the handler, blocked
  bus.publish(ping(1, 5));
  bus.publish(ping(2, 3));
  bus.publish(ping(3, 0));
  bus.publish(ping(4, 1));
  bus.publish(ping(5, 0));
  bus.publish(ping(6, 3));
  release();
  await flush(10);
  assert.deepEqual(order, ["0/p3", "3/p0", "5/p0", "4/p1", "2/p3", "6/p3", "1/p5"]);
  await bus.stop();
});

test("an envelope id seen within the dedup window is dropped", async () => {
  const { bus, metrics } = makeBus({ dedupWindow: 2 });
  let count = 0;
  bus.subscribe("test.pinged", () => void count++);
  const a = ping(1);
  assert.equal(bus.publish(a).duplicate, false);
  assert.equal(bus.publish(a).duplicate, true);
  assert.equal(bus.publish({ ...a }).duplicate, true, "same id, different object");
  bus.publish(ping(2));
  bus.publish(ping(3)); // window of 2 now holds 2 and 3
  assert.equal(bus.publish({ ...a }).duplicate, false, "outside the window it is new again");
  await flush();
  assert.equal(count, 4);
  assert.equal(metrics.counter("adaos_bus_duplicates_total", "").get(), 2);
  await bus.stop();
});

test("a throwing or rejecting subscriber is isolated and counted", async () => {
  const { bus, metrics } = makeBus();
  const good: number[] = [];
  let calls = 0;
  bus.subscribe("test.pinged", () => {
    calls++;
    throw new Error("sync boom");
  });
  bus.subscribe("test.pinged", async () => {
    await Promise.resolve();
    throw new Error("async boom");
  });
  bus.subscribe("test.pinged", (e) => void good.push((e.payload as { n: number }).n));
  bus.publish(ping(1));
  bus.publish(ping(2));
  await flush();
  assert.deepEqual(good, [1, 2]);
  assert.equal(calls, 2, "the throwing subscriber keeps receiving");
  assert.equal(metrics.counter("adaos_bus_handler_errors_total", "").get(), 4);
  await bus.stop();
});

test("request/reply: the reply is caused by the request and shares its correlation id", async () => {
  const { bus } = makeBus();
  bus.subscribe("test.do", (req) => {
    bus.reply(req, { event_name: "test.do.result", version: 1, payload: { y: (req.payload as { x: number }).x * 2 } });
  }, { queue: "doers" });
  const req = createEnvelope({ event_name: "test.do", version: 1, kind: "command", payload: { x: 21 }, source: "cli@node" });
  const reply = await bus.request(req, { timeoutMs: 1000 });
  assert.equal(reply.kind, "reply");
  assert.deepEqual(reply.payload, { y: 42 });
  assert.equal(reply.causation_id, req.id);
  assert.equal(reply.correlation_id, req.correlation_id);
  assert.equal(reply.source, "agent://hub/test");
  await bus.stop();
});

test("a request with no reply times out (injected clock), one with no subscriber fails at once", async () => {
  const clock = new ManualClock();
  const { bus } = makeBus({ clock });
  const cmd = () => createEnvelope({ event_name: "test.do", version: 1, kind: "command", payload: { x: 1 }, source: "s" }, clock);
  await assert.rejects(bus.request(cmd()), NoRespondersError);
  bus.subscribe("test.do", () => undefined);
  const pending = bus.request(cmd(), { timeoutMs: 250 });
  await flush();
  clock.advance(249);
  clock.advance(1);
  await assert.rejects(pending, TimeoutError);
  await bus.stop();
});

test("invalid, unknown and wrong-kind envelopes are refused with JSON pointers and reported", () => {
  const { bus, metrics, rejected } = makeBus();
  const bad = { ...ping(1), payload: { n: "one" } };
  assert.throws(() => bus.publish(bad), (e: unknown) => e instanceof PayloadInvalidError && e.issues.some((i) => i.pointer === "/payload/n"));
  assert.throws(
    () => bus.publish({ ...ping(1), event_name: "test.nope" }),
    (e: unknown) => e instanceof UnknownEventError && e.issues[0]?.pointer === "/event_name",
  );
  assert.throws(
    () => bus.publish({ ...ping(1), version: 7 }),
    (e: unknown) => e instanceof UnknownEventError && e.issues[0]?.pointer === "/version",
  );
  const { source: _s, ...noSource } = ping(1);
  assert.throws(() => bus.publish(noSource), (e: unknown) => e instanceof EnvelopeInvalidError && e.issues.some((i) => i.pointer === "/source"));
  assert.throws(() => bus.publish({ ...ping(1), kind: "command" }), (e: unknown) => e instanceof EnvelopeInvalidError && e.issues[0]?.pointer === "/kind");
  assert.throws(
    () => bus.publish(createEnvelope({ event_name: "test.keyed", version: 1, payload: {}, source: "s" })),
    (e: unknown) => e instanceof EnvelopeInvalidError && e.issues[0]?.pointer === "/headers/idempotency_key",
  );
  assert.throws(() => bus.publish("not an envelope"), EnvelopeInvalidError);
  assert.throws(() => bus.publish(null), EnvelopeInvalidError);
  assert.deepEqual(rejected.map((r) => r.reason), ["invalid", "unknown_event", "unknown_event", "invalid", "invalid", "invalid", "invalid", "invalid"]);
  assert.equal(metrics.counter("adaos_bus_rejected_total", "").get({ reason: "invalid" }), 6);
  assert.throws(() => bus.subscribe("a..b", () => undefined), SubjectInvalidError);
});

test("expired envelopes are refused at publish and dropped when they expire in a queue", async () => {
  const clock = new ManualClock();
  const { bus, rejected } = makeBus({ clock });
  const stale = createEnvelope({ event_name: "test.pinged", version: 1, payload: { n: 1 }, source: "s", ttl_ms: 100 }, clock);
  clock.advance(100);
  assert.throws(() => bus.publish(stale), EnvelopeExpiredError);
  let got = 0;
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  bus.subscribe("test.pinged", async () => {
    got++;
    await gate;
  });
  bus.publish(ping(2, 3, {}));
  await flush();
  bus.publish(createEnvelope({ event_name: "test.pinged", version: 1, payload: { n: 3 }, source: "s", ttl_ms: 50 }, clock));
  clock.advance(60);
  release();
  await flush();
  assert.equal(got, 1, "the queued envelope expired before its turn");
  assert.deepEqual(rejected.map((r) => r.reason), ["expired", "expired"]);
  await bus.stop();
});

test("a subscriber more than maxPending behind loses new envelopes, and each loss is reported", async () => {
  const { bus, rejected, metrics } = makeBus({ maxPending: 2 });
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  let got = 0;
  bus.subscribe("test.pinged", async () => {
    got++;
    await gate;
  });
  bus.publish(ping(0));
  await flush(); // one in the handler, queue empty
  for (let i = 1; i <= 4; i++) bus.publish(ping(i));
  release();
  await flush();
  assert.equal(got, 3);
  assert.deepEqual(rejected.map((r) => r.reason), ["slow_consumer", "slow_consumer"]);
  assert.equal(metrics.counter("adaos_bus_dropped_total", "").get({ reason: "slow_consumer" }), 2);
  await bus.stop();
});

test("after stop the bus refuses publishes and fails pending requests", async () => {
  const { bus } = makeBus();
  bus.subscribe("test.do", () => undefined);
  const pending = bus.request(createEnvelope({ event_name: "test.do", version: 1, kind: "command", payload: { x: 1 }, source: "s" }), { timeoutMs: 60_000 });
  await bus.stop();
  await assert.rejects(pending, BusClosedError);
  assert.throws(() => bus.publish(ping(1)), BusClosedError);
});

test("delivered envelopes are frozen so one subscriber cannot change what another sees", async () => {
  const { bus } = makeBus();
  const seen: Envelope[] = [];
  bus.subscribe("test.pinged", (e) => void seen.push(e));
  bus.publish(ping(1));
  await flush();
  assert.ok(Object.isFrozen(seen[0]));
  await bus.stop();
});

test("publishSettled resolves once every subscriber ran its handler, counting failures and drops", async () => {
  const { bus } = makeBus();
  const ran: string[] = [];
  bus.subscribe("test.pinged", async () => {
    await new Promise((r) => setTimeout(r, 20));
    ran.push("slow");
  });
  bus.subscribe("test.pinged", () => void ran.push("sync"));
  bus.subscribe("test.pinged", () => {
    throw new Error("boom");
  });
  bus.subscribe("test.pinged", () => Promise.reject(new Error("async boom")));
  bus.subscribe("test.*", () => void ran.push("group"), { queue: "g" });
  bus.subscribe("test.*", () => void ran.push("group"), { queue: "g" });
  const first = ping(1);
  const r = await bus.publishSettled(first);
  assert.deepEqual([r.matched, r.failed, r.duplicate], [5, 2, false]);
  assert.deepEqual(ran.sort(), ["group", "slow", "sync"]);

  assert.deepEqual(await bus.publishSettled(first), { id: first.id, duplicate: true, matched: 0, failed: 0 });
  const none = await bus.publishSettled(createEnvelope({ event_name: "test.sub.happened", version: 1, payload: {}, source: "s" }));
  assert.deepEqual([none.matched, none.failed], [0, 0], "nobody subscribed: settled at once");

  // A subscriber that is full drops it: counted as failed, and the publish still settles.
  const { bus: small } = makeBus();
  let release = (): void => undefined;
  small.subscribe("test.pinged", () => new Promise<void>((r) => (release = r)), { maxPending: 1 });
  const taken = small.publishSettled(ping(2));
  await flush();
  const queued = small.publishSettled(ping(3));
  const dropped = await small.publishSettled(ping(4));
  assert.deepEqual([dropped.matched, dropped.failed], [1, 1]);
  release();
  assert.equal((await taken).failed, 0);
  await flush();
  release();
  assert.equal((await queued).failed, 0);
  await assert.rejects(small.publishSettled({ bogus: true }), EnvelopeInvalidError);
});
