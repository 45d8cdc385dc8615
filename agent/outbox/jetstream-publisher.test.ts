/**
 * The JetStream publisher against real nats-servers with JetStream: acks and dedup by envelope id,
 * poison for what the server can never take, retry and "not reachable" while the root is killed,
 * and back to work after its restart — on a direct connection to the root, and through a hub's
 * nats-server that is a leafnode of the root (JetStream domains "root" and "hub-1").
 */
import { strict as assert } from "node:assert";
import { join } from "node:path";
import { test } from "node:test";
import { connect, type NatsConnection, type StreamConfig } from "nats";
import { freePort, tempDir, waitFor, within } from "../../test/helpers.js";
import { startNatsServer, type NatsServer } from "../../test/nats-server.js";
import { systemClock } from "../core/clock.js";
import { createEnvelope } from "../core/envelope.js";
import { silentLogger } from "../core/logger.js";
import { MetricsRegistry } from "../core/metrics.js";
import { quote } from "../natsd/conf-text.js";
import { UPLINK_STREAM, uplinkStreamConfig } from "../natsd/root-stream.js";
import { JetStreamPublisher } from "./jetstream-publisher.js";
import { MemoryOutbox } from "./memory-outbox.js";
import type { OutgoingMessage, SendOutcome } from "./publisher.js";
import { Relay } from "./relay.js";

interface After {
  after(fn: () => void | Promise<void>): void;
}

/** Small limits so the poison cases are cheap: the stream takes 64 KiB, the server 256 KiB. */
const MAX_MSG_SIZE = 64 * 1024;
const MAX_PAYLOAD = 256 * 1024;
const SUBJECT = "ada.root.uplink.hub-1.telemetry.reading";

async function startRoot(t: After, leafPort?: number): Promise<NatsServer> {
  const store = tempDir(t, "adaos-js-root-");
  return startNatsServer(t, {
    config: [
      `max_payload: ${MAX_PAYLOAD}`,
      `jetstream { domain: "root", store_dir: ${quote(store)} }`,
      leafPort === undefined ? "" : `leafnodes { host: "127.0.0.1", port: ${leafPort} }`,
    ].join("\n"),
  });
}

async function startHub(t: After, leafPort: number): Promise<NatsServer> {
  const store = tempDir(t, "adaos-js-hub-");
  return startNatsServer(t, {
    config: [
      `jetstream { domain: "hub-1", store_dir: ${quote(join(store, "js"))} }`,
      `leafnodes { reconnect: 1, remotes: [ { url: "nats-leaf://127.0.0.1:${leafPort}" } ] }`,
    ].join("\n"),
  });
}

async function admin(t: After, url: string): Promise<NatsConnection> {
  const nc = await connect({ servers: url, reconnectTimeWait: 50, maxReconnectAttempts: -1 });
  t.after(() => nc.close());
  return nc;
}

async function createStream(nc: NatsConnection): Promise<void> {
  const jsm = await nc.jetstreamManager();
  await jsm.streams.add(uplinkStreamConfig({ duplicateWindowMs: 120_000, replicas: 1, maxMsgSize: MAX_MSG_SIZE }) as unknown as Partial<StreamConfig>);
}

async function storedCount(nc: NatsConnection): Promise<number> {
  const jsm = await nc.jetstreamManager();
  return (await jsm.streams.info(UPLINK_STREAM)).state.messages;
}

async function publisher(t: After, url: string): Promise<JetStreamPublisher> {
  const p = await JetStreamPublisher.connect({ servers: [url], name: "hub-1-relay", logger: silentLogger(), signal: new AbortController().signal });
  t.after(() => p.close());
  return p;
}

function messages(n: number, prefix: string, bytes = 200): OutgoingMessage[] {
  return Array.from({ length: n }, (_, i) => ({ id: `${prefix}-${i}`, subject: SUBJECT, data: Buffer.alloc(bytes, 0x61) }));
}

const types = (outcomes: readonly SendOutcome[]): Record<string, number> => {
  const out: Record<string, number> = {};
  for (const o of outcomes) out[o.type] = (out[o.type] ?? 0) + 1;
  return out;
};

const never = new AbortController().signal;

test("direct to the root: 1000 acked, repeats deduplicated, poison for oversized, retry while the root is down, then back", async (t) => {
  const root = await startRoot(t);
  const nc = await admin(t, root.url);
  await createStream(nc);
  const pub = await publisher(t, root.url);
  assert.equal(await pub.reachable(never), true);

  const batch = messages(1000, "a");
  const t0 = performance.now();
  const first = await pub.send(batch, never);
  t.diagnostic(`1000 pipelined publishes acked in ${Math.round(performance.now() - t0)} ms`);
  assert.deepEqual(types(first), { sent: 1000 });
  assert.deepEqual(first.map((o) => o.id), batch.map((m) => m.id), "one outcome per message, in order");
  assert.equal(await storedCount(nc), 1000);

  assert.deepEqual(types(await pub.send(batch, never)), { sent: 1000 }, "a duplicate ack is sent too");
  assert.equal(await storedCount(nc), 1000, "deduplicated by Nats-Msg-Id");

  const mixed = [...messages(1, "ok"), ...messages(1, "too-big-for-stream", MAX_MSG_SIZE + 1), ...messages(1, "too-big-for-server", MAX_PAYLOAD + 1)];
  const outcomes = await pub.send(mixed, never);
  assert.deepEqual(outcomes.map((o) => o.type), ["sent", "poison", "poison"]);
  assert.match((outcomes[1] as { error: string }).error, /10054/);
  assert.match((outcomes[2] as { error: string }).error, /MAX_PAYLOAD_EXCEEDED/);

  await root.kill();
  const t1 = performance.now();
  const down = await pub.send(messages(10, "down"), never);
  assert.deepEqual(types(down), { retry: 10 });
  assert.equal(await pub.reachable(never), false);
  const tookMs = performance.now() - t1;
  t.diagnostic(`root killed: ${down.length} retry outcomes and unreachable in ${Math.round(tookMs)} ms (${(down[0] as { error: string }).error})`);
  assert.ok(tookMs < 5000 + 500, `retry and unreachable within the ack and probe timeouts (took ${Math.round(tookMs)} ms)`);

  await root.start();
  const t2 = performance.now();
  await waitFor("reachable again after the restart", () => pub.reachable(never), 10_000, 50);
  t.diagnostic(`reachable ${Math.round(performance.now() - t2)} ms after the root accepted connections again`);
  assert.deepEqual(types(await pub.send(messages(10, "back"), never)), { sent: 10 });
  assert.equal(await storedCount(nc), 1011);
});

test("a send aborted while waiting for acks ends at once with retry for what was not acked", async (t) => {
  const root = await startRoot(t);
  const nc = await admin(t, root.url);
  await createStream(nc);
  // A subscriber that never answers: a publish outside the stream waits for an ack that never comes.
  nc.subscribe("silent.>", { callback: () => undefined });
  await nc.flush();
  const pub = await publisher(t, root.url);
  const stop = new AbortController();
  const batch = [...messages(2, "y"), { id: "z", subject: "silent.x", data: Buffer.from("{}") }];
  const sending = pub.send(batch, stop.signal);
  await new Promise((r) => setTimeout(r, 100));
  const t0 = performance.now();
  stop.abort();
  const outcomes = await sending;
  assert.ok(performance.now() - t0 < 100, "ends at once, not after the 5 s ack timeout");
  assert.deepEqual(outcomes.map((o) => [o.id, o.type]), [["y-0", "sent"], ["y-1", "sent"], ["z", "retry"]]);
  assert.match((outcomes[2] as { error: string }).error, /aborted/);
  assert.equal(await pub.reachable(stop.signal), false, "no probe after abort");
});

test("connect() waits for a root that is not there yet, and an abort ends the wait", async (t) => {
  const root = await startRoot(t);
  await root.kill();
  const stop = new AbortController();
  const aborted = JetStreamPublisher.connect({ servers: [root.url], name: "r", logger: silentLogger(), signal: stop.signal });
  setTimeout(() => stop.abort(new Error("stopped while connecting")), 300);
  await assert.rejects(aborted, /stopped while connecting/);

  const waiting = JetStreamPublisher.connect({ servers: [root.url], name: "r", logger: silentLogger(), signal: never });
  await new Promise((r) => setTimeout(r, 300));
  await root.start();
  const pub = await within(3000, "connected once the root is up", waiting);
  t.after(() => pub.close());
  assert.deepEqual(types(await pub.send(messages(1, "c"), never)), { retry: 1 }, "no stream yet: 503");
});

test("no stream at the root: not reachable, and sends are retry (503)", async (t) => {
  const root = await startRoot(t);
  const pub = await publisher(t, root.url);
  assert.equal(await pub.reachable(never), false);
  const outcomes = await pub.send(messages(2, "n"), never);
  assert.deepEqual(types(outcomes), { retry: 2 });
  assert.match((outcomes[0] as { error: string }).error, /503/);
});

test("through a hub's leafnode (domains hub-1 → root): reachable and send work, and neither while the root is down", async (t) => {
  const leafPort = await freePort();
  const root = await startRoot(t, leafPort);
  const hub = await startHub(t, leafPort);
  const rootNc = await admin(t, root.url);
  await createStream(rootNc);
  const pub = await publisher(t, hub.url);
  // The leaf link and the stream's interest cross asynchronously: reachable() turns true once they have.
  await waitFor("the root's stream reachable through the leaf", () => pub.reachable(never), 10_000, 50);
  assert.deepEqual(types(await pub.send(messages(100, "leaf"), never)), { sent: 100 });
  assert.equal(await storedCount(rootNc), 100);

  await root.kill();
  await waitFor("unreachable while the root is down", async () => !(await pub.reachable(never)), 5_000, 50);
  const down = await pub.send(messages(5, "leaf-down"), never);
  assert.deepEqual(types(down), { retry: 5 });
  assert.match((down[0] as { error: string }).error, /503/, "the hub answers no responders at once");

  await root.start();
  const t0 = performance.now();
  await waitFor("reachable again through the leaf", () => pub.reachable(never), 10_000, 50);
  t.diagnostic(`reachable through the leaf ${Math.round(performance.now() - t0)} ms after the root accepted connections again`);
  const back = await waitFor("a send through the leaf after the root's return", async () => {
    const o = await pub.send(messages(5, "leaf-back"), never);
    return types(o).sent === 5 ? o : undefined;
  }, 5_000, 100);
  assert.equal(back.length, 5);
  assert.equal(await storedCount(rootNc), 105);
});

test("relay through the leaf: events buffered during a root outage reach the root within 1.5 s of its return", async (t) => {
  const leafPort = await freePort();
  const root = await startRoot(t, leafPort);
  const hub = await startHub(t, leafPort);
  const rootNc = await admin(t, root.url);
  await createStream(rootNc);
  const pub = await publisher(t, hub.url);
  await waitFor("the root's stream reachable through the leaf", () => pub.reachable(never), 10_000, 50);
  const outbox = new MemoryOutbox({ limits: { maxRows: 10_000, maxBytes: 1 << 24, ttlMs: 3_600_000 }, dlqMaxRows: 100, clock: systemClock });
  const relay = new Relay({
    name: "root", outbox, publisher: pub, batch: 100, backoff: { baseMs: 500, capMs: 30_000 },
    clock: systemClock, logger: silentLogger(), metrics: new MetricsRegistry(),
  });
  t.after(() => relay.stop());
  await relay.start(never);

  await root.kill();
  const envs = Array.from({ length: 50 }, (_, i) => createEnvelope({ event_name: "telemetry.reading", version: 1, source: "hub-1", payload: { i } }));
  for (const e of envs) await outbox.enqueue(SUBJECT, e);
  // Long enough for the backoff to grow past the probe interval several times over.
  await waitFor("the relay backing off", () => (relay.status().attempt >= 3 ? true : undefined), 10_000, 20);
  await new Promise((r) => setTimeout(r, 2000));
  t.diagnostic(`relay before the root's return: ${JSON.stringify(relay.status())}`);

  await root.start();
  const back = performance.now();
  const nc = await admin(t, root.url);
  const arrived: number[] = [];
  nc.subscribe("ada.root.uplink.>", { callback: () => arrived.push(performance.now()) });
  await waitFor("all 50 stored at the root", async () => ((await storedCount(rootNc)) === 50 ? true : undefined), 10_000, 50);
  const firstMs = (arrived[0] ?? performance.now()) - back;
  t.diagnostic(`first buffered event at the root ${Math.round(firstMs)} ms after the root accepted connections`);
  assert.ok(firstMs < 1500, `first buffered event within 1.5 s of the root's return (took ${Math.round(firstMs)} ms)`);
  assert.equal(outbox.stats().depth, 0);
});
