/**
 * The member's publisher over the project's fake transport: sent once flushed, retry while the
 * link is down or when a flush fails, hangs or is aborted, poison for what the transport refuses
 * as such — and a relay draining a member's outbox across a link outage.
 */
import { strict as assert } from "node:assert";
import { test } from "node:test";
import type { Envelope } from "../../abi/envelope.js";
import { ManualClock } from "../core/clock.js";
import { createEnvelope } from "../core/envelope.js";
import { PayloadTooLargeError, SubjectInvalidError } from "../core/errors.js";
import { silentLogger } from "../core/logger.js";
import { MetricsRegistry } from "../core/metrics.js";
import { FakeBroker, type FakeTransport } from "../link/fake-transport.js";
import { MemoryOutbox } from "./memory-outbox.js";
import type { OutgoingMessage } from "./publisher.js";
import { Relay } from "./relay.js";
import { TransportPublisher } from "./transport-publisher.js";

const SUBJECT = "ada.agent.tv.evt";
const never = new AbortController().signal;

async function link(clock = new ManualClock()): Promise<{ broker: FakeBroker; transport: FakeTransport; clock: ManualClock }> {
  const broker = new FakeBroker("nats", "nats://hub:4222", clock);
  const transport = broker.candidate().create() as FakeTransport;
  await transport.connect(never);
  return { broker, transport, clock };
}

function envelope(i: number, clock: ManualClock): Envelope {
  return createEnvelope({ event_name: "tv.power.changed", version: 1, source: "tv", payload: { i } }, clock);
}

function message(env: Envelope, subject = SUBJECT): OutgoingMessage {
  return { id: env.id, subject, data: Buffer.from(JSON.stringify(env)) };
}

async function settle(rounds = 10): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise((r) => setImmediate(r));
}

test("while the link is up: published, flushed, all sent, the envelopes intact", async () => {
  const { broker, transport, clock } = await link();
  const pub = new TransportPublisher(transport);
  const envs = [0, 1, 2].map((i) => envelope(i, clock));
  const outcomes = await pub.send(envs.map((e) => message(e)), never);
  assert.deepEqual(outcomes, envs.map((e) => ({ type: "sent", id: e.id })));
  assert.deepEqual(broker.published, envs.map((e) => ({ subject: SUBJECT, envelope: e })));
  assert.equal(pub.name, "nats-link");
  assert.equal(await pub.reachable(never), true);
});

test("what the transport refuses as such is poison; the rest of the batch is sent", async () => {
  const { broker, transport, clock } = await link();
  const [ok, big, bad] = [0, 1, 2].map((i) => envelope(i, clock)) as [Envelope, Envelope, Envelope];
  const publish = transport.publish.bind(transport);
  transport.publish = (subject, env) => {
    if (env.id === big.id) throw new PayloadTooLargeError("2000000 bytes encoded; the limit is 1048576");
    if (subject === "bad subject") throw new SubjectInvalidError("not a subject");
    publish(subject, env);
  };
  const notJson = { id: "broken", subject: SUBJECT, data: Buffer.from("{not json") };
  const outcomes = await new TransportPublisher(transport).send([message(ok), message(big), message(bad, "bad subject"), notJson], never);
  assert.deepEqual(outcomes.map((o) => [o.id, o.type]), [[ok.id, "sent"], [big.id, "poison"], [bad.id, "poison"], ["broken", "poison"]]);
  assert.deepEqual(broker.published.map((p) => p.envelope.id), [ok.id]);
});

test("while the link is down nothing is published and everything is retry; up again, reachable", async () => {
  const { broker, transport, clock } = await link();
  const pub = new TransportPublisher(transport);
  assert.equal(await pub.reachable(never), true);
  broker.down();
  await settle();
  assert.equal(await pub.reachable(never), false);
  const outcomes = await pub.send([message(envelope(0, clock))], never);
  assert.equal(outcomes[0]?.type, "retry");
  assert.match((outcomes[0] as { error: string }).error, /reconnecting|down/);
  assert.equal(broker.published.length, 0);
  broker.up();
  await settle();
  assert.equal(await pub.reachable(never), true);
});

test("a flush that fails, hangs past the timeout, or is aborted: retry for what was published", async () => {
  const { transport, clock } = await link();
  const pub = new TransportPublisher(transport, { flushTimeoutMs: 5000, clock });
  transport.flush = () => Promise.reject(new Error("socket reset"));
  const failed = await pub.send([message(envelope(0, clock))], never);
  assert.deepEqual(failed.map((o) => o.type), ["retry"]);
  assert.match((failed[0] as { error: string }).error, /socket reset/);

  transport.flush = () => new Promise(() => undefined);
  const hanging = pub.send([message(envelope(1, clock))], never);
  await settle();
  clock.advance(5000);
  const timedOut = await hanging;
  assert.match((timedOut[0] as { error: string }).error, /did not confirm within 5000 ms/);

  const stop = new AbortController();
  const aborting = pub.send([message(envelope(2, clock))], stop.signal);
  await settle();
  stop.abort();
  assert.match(((await aborting)[0] as { error: string }).error, /aborted/);
});

test("after the transport closes: not reachable, and sends are retry", async () => {
  const { transport, clock } = await link();
  const pub = new TransportPublisher(transport);
  await pub.reachable(never);
  await transport.close();
  await settle();
  assert.equal(await pub.reachable(never), false);
  assert.deepEqual((await pub.send([message(envelope(0, clock))], never)).map((o) => o.type), ["retry"]);
});

test("a member's relay keeps its events through a link outage and sends them in order when it returns", async (t) => {
  const { broker, transport, clock } = await link();
  const outbox = new MemoryOutbox({ limits: { maxRows: 1000, maxBytes: 1 << 20, ttlMs: 3_600_000 }, dlqMaxRows: 100, clock });
  const relay = new Relay({
    name: "hub", outbox, publisher: new TransportPublisher(transport), batch: 10, backoff: { baseMs: 500, capMs: 30_000 },
    clock, logger: silentLogger(), metrics: new MetricsRegistry(), random: () => 0.999,
  });
  t.after(() => relay.stop());
  await relay.start(never);
  broker.down();
  await settle();
  const envs = Array.from({ length: 25 }, (_, i) => envelope(i, clock));
  for (const e of envs) await outbox.enqueue(SUBJECT, e);
  await settle();
  assert.equal(broker.published.length, 0);
  assert.equal(relay.status().state, "backoff");
  // Grow the backoff, then bring the link back: the next probe (250 ms) resumes the drain.
  for (let i = 0; i < 4; i++) {
    clock.advance(relay.status().next_retry_in_ms ?? 0);
    await settle();
  }
  broker.up();
  await settle();
  clock.advance(250);
  await settle(50);
  assert.deepEqual(broker.published.map((p) => p.envelope.id), envs.map((e) => e.id));
  assert.equal(outbox.stats().depth, 0);
  assert.deepEqual(relay.status(), { state: "idle", attempt: 0 });
});
