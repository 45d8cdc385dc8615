/**
 * The downlink against real nats-servers: a root (JetStream domain root, leafnode listener, the
 * ADAOS account and hub user as `root config` writes them) and the hub's own nats-server from the
 * hub's config writer, linked as a leafnode; the Downlink reaches the root's JetStream through it.
 * Backlog after an outage, redeliveries, poison, invalid input, and the root going away and back.
 */
import { strict as assert } from "node:assert";
import { test } from "node:test";
import { connect, type JetStreamClient, type JetStreamManager, type NatsConnection, type StreamConfig } from "nats";
import type { Envelope } from "../../abi/envelope.js";
import { hubSubject } from "../../abi/subjects.js";
import { HUB_ID, makeHub } from "../../test/natsd-hub.js";
import { startNatsServer, type NatsServer } from "../../test/nats-server.js";
import { freePort, tempDir, waitFor } from "../../test/helpers.js";
import { systemClock } from "../core/clock.js";
import { createEnvelope } from "../core/envelope.js";
import { silentLogger } from "../core/logger.js";
import { MetricsRegistry } from "../core/metrics.js";
import { DOWNLINK_STREAM, downlinkConsumerName, downlinkStreamConfig } from "../natsd/root-stream.js";
import { precompiledCatalog } from "../registry/precompiled.js";
import { Downlink, PULL_BATCH, type DownlinkOptions } from "./downlink.js";
import { MemoryDeadLetters } from "./memory-dead-letters.js";
import { MemoryInbox } from "./memory-inbox.js";

interface After {
  after(fn: () => void | Promise<void>): void;
}

const never = new AbortController().signal;
const ROOT_USER = "hub";
const ROOT_PASSWORD = "root-secret";
const CONSUMER = downlinkConsumerName(HUB_ID);
/** Short retries keep the tests fast; the defaults are seconds. */
const FAST_RETRY = { baseMs: 50, capMs: 300 };
/**
 * Where a test waits for a redelivery: commands delivered into a pull request nobody reads any more,
 * and acks the root lost when SIGKILLed (JetStream writes consumer state lazily), come back after it.
 */
const SHORT_ACK_WAIT_MS = 2_000;

interface Rig {
  readonly root: NatsServer;
  /** An operator's connection straight to the root. */
  readonly nc: NatsConnection;
  readonly js: JetStreamClient;
  readonly jsm: JetStreamManager;
  /** Where the Downlink connects: the hub's nats-server (leaf) or the root itself. */
  readonly link: DownlinkOptions["connect"];
}

async function startRoot(t: After): Promise<{ root: NatsServer; leafPort: number }> {
  const store = tempDir(t, "adaos-root-js-");
  const leafPort = await freePort();
  const root = await startNatsServer(t, {
    config: [
      `jetstream { domain: "root", store_dir: "${store}" }`,
      `leafnodes { host: "127.0.0.1", port: ${leafPort} }`,
      `accounts { ADAOS { jetstream: "enabled", users: [{ user: "${ROOT_USER}", password: "${ROOT_PASSWORD}" }] } }`,
    ].join("\n"),
  });
  return { root, leafPort };
}

async function operator(t: After, root: NatsServer): Promise<Pick<Rig, "nc" | "js" | "jsm">> {
  const nc = await connect({ servers: root.url, user: ROOT_USER, pass: ROOT_PASSWORD, maxReconnectAttempts: -1, reconnectTimeWait: 100 });
  t.after(() => nc.close());
  const jsm = await nc.jetstreamManager();
  await jsm.streams.add(downlinkStreamConfig({ replicas: 1 }) as unknown as Partial<StreamConfig>);
  return { nc, js: nc.jetstream(), jsm };
}

/** The production shape: the Downlink talks to the hub's nats-server, a leafnode of the root. */
async function leafRig(t: After): Promise<Rig> {
  const { root, leafPort } = await startRoot(t);
  const hub = await makeHub(t, { leaf: { urls: [`nats-leaf://127.0.0.1:${leafPort}`], user: ROOT_USER, password: ROOT_PASSWORD } });
  await hub.sup.start(never);
  return { root, ...(await operator(t, root)), link: { servers: [hub.sup.url], user: HUB_ID, pass: hub.hubPassword, name: `${HUB_ID}-downlink` } };
}

async function directRig(t: After): Promise<Rig> {
  const { root } = await startRoot(t);
  return { root, ...(await operator(t, root)), link: { servers: [root.url], user: ROOT_USER, pass: ROOT_PASSWORD, name: `${HUB_ID}-downlink` } };
}

function command(n: number, headers: Record<string, string> = {}, extra: { ttl_ms?: number } = {}): Envelope {
  return createEnvelope({
    event_name: "scenario.run",
    version: 1,
    kind: "command",
    source: "agent://root/root-api",
    payload: { id: "movie-night", run_id: `run-${n}`, ctx: { room: "livingroom" } },
    headers,
    ...extra,
  });
}

const SUBJECT = hubSubject(HUB_ID, "cmd", "scenario", "run");
const bytes = (x: unknown): Uint8Array => new TextEncoder().encode(typeof x === "string" ? x : JSON.stringify(x));

async function publish(rig: Rig, data: Uint8Array, msgID: string): Promise<void> {
  await rig.js.publish(SUBJECT, data, { msgID });
}

interface Harness {
  readonly downlink: Downlink;
  readonly metrics: MetricsRegistry;
  /** Handler runs per envelope id. */
  readonly runs: Map<string, number>;
  total(): number;
}

interface Shared {
  readonly inbox: MemoryInbox;
  readonly dlq: MemoryDeadLetters;
}

function shared(): Shared {
  return { inbox: new MemoryInbox({ window: 10_000 }), dlq: new MemoryDeadLetters({ maxRows: 1_000, clock: systemClock }) };
}

async function startDownlink(
  t: After, rig: Rig, s: Shared, over: Partial<DownlinkOptions> & { work?: (env: Envelope, run: number) => Promise<void> } = {},
): Promise<Harness> {
  const runs = new Map<string, number>();
  const metrics = new MetricsRegistry();
  const { work, ...rest } = over;
  const downlink = new Downlink({
    hubId: HUB_ID,
    connect: rig.link,
    inbox: s.inbox,
    dlq: s.dlq,
    catalog: precompiledCatalog(),
    handler: async (env) => {
      const run = (runs.get(env.id) ?? 0) + 1;
      runs.set(env.id, run);
      await work?.(env, run);
    },
    retry: FAST_RETRY,
    logger: silentLogger(),
    metrics,
    ...rest,
  });
  t.after(() => downlink.stop());
  await downlink.start(never);
  return { downlink, metrics, runs, total: () => [...runs.values()].reduce((a, b) => a + b, 0) };
}

async function consumerState(rig: Rig): Promise<{ pending: number; ackPending: number; redelivered: number; ackWaitNs: number }> {
  const ci = await rig.jsm.consumers.info(DOWNLINK_STREAM, CONSUMER);
  return { pending: ci.num_pending, ackPending: ci.num_ack_pending, redelivered: ci.num_redelivered, ackWaitNs: ci.config.ack_wait ?? 0 };
}

async function drained(rig: Rig): Promise<void> {
  let last = {};
  await waitFor("the consumer has nothing pending or unacked", async () => {
    const s = await consumerState(rig);
    last = s;
    return s.pending === 0 && s.ackPending === 0 ? true : undefined;
  }, 10_000).catch((e: unknown) => { throw new Error(`${String(e)} ${JSON.stringify(last)}`); });
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

test("100 commands sent while the hub is offline each run exactly once after it reconnects (through the hub's leafnode)", async (t) => {
  const rig = await leafRig(t);
  const s = shared();
  const first = await startDownlink(t, rig, s, { ackWaitMs: SHORT_ACK_WAIT_MS });
  const warmUp = command(0);
  await publish(rig, bytes(warmUp), warmUp.id);
  await waitFor("the first command handled while online", () => first.runs.get(warmUp.id) === 1, 15_000);
  const t0 = performance.now();
  await first.downlink.stop();
  const stopMs = performance.now() - t0;
  assert.ok(stopMs < 2_500, `stop() took ${Math.round(stopMs)} ms`);

  // Published at once: the pull request the stopped downlink left at the root lives on until it
  // expires (PULL_EXPIRES_MS); nats-server 2.9 delivers into it, the same command again and again
  // until its batch is used up, and the command comes back after ack_wait — still to run once.
  const sent = Array.from({ length: 100 }, (_, i) => command(i + 1));
  for (const env of sent) await publish(rig, bytes(env), env.id);
  const kept = await consumerState(rig);
  assert.ok(kept.pending >= 100 - PULL_BATCH, `the root keeps them for the hub (at most one batch in the stale pull): ${JSON.stringify(kept)}`);
  assert.equal(first.total(), 1, "the stopped downlink ran nothing more");

  const back = await startDownlink(t, rig, s, { ackWaitMs: SHORT_ACK_WAIT_MS });
  await waitFor("all 100 handled", () => back.runs.size === 100, 20_000);
  await drained(rig);
  await sleep(300); // nothing more arrives
  assert.deepEqual(sent.filter((e) => back.runs.get(e.id) !== 1), [], "each command ran once");
  assert.equal(back.total(), 100);
  assert.equal(back.runs.has(warmUp.id), false, "the acked command is not delivered again");
  assert.equal(back.metrics.counter("adaos_downlink_received_total", "").get(), 100);
  assert.equal(back.metrics.counter("adaos_downlink_duplicates_total", "").get(), 0);
  assert.equal(s.inbox.size(), 101);
  const ci = await rig.jsm.consumers.info(DOWNLINK_STREAM, CONSUMER);
  assert.deepEqual([ci.config.filter_subject, ci.config.ack_policy, ci.config.deliver_policy, ci.config.max_deliver], ["ada.hub.hub-1.cmd.>", "explicit", "all", -1]);
  assert.equal(s.dlq.count().total, 0);
});

test("a redelivery is acked and dropped: the same command twice (another Nats-Msg-Id), and a handler slower than ack_wait", async (t) => {
  const rig = await leafRig(t);
  const s = shared();
  // The consumer exists with the default ack_wait; a Downlink with another one updates it.
  const before = await startDownlink(t, rig, s);
  await waitFor("consumer created", () => consumerState(rig).catch(() => undefined), 15_000);
  await before.downlink.stop();
  assert.equal((await consumerState(rig)).ackWaitNs, 30_000 * 1e6);

  const slow = command(1);
  const h = await startDownlink(t, rig, s, {
    ackWaitMs: 1_000,
    work: async (env, run) => {
      if (env.id === slow.id && run === 1) await sleep(1_600);
    },
  });
  await waitFor("the consumer updated to ack_wait 1 s", async () => ((await consumerState(rig)).ackWaitNs === 1e9 ? true : undefined), 15_000);

  const twice = command(2);
  await publish(rig, bytes(twice), "producer-try-1");
  await publish(rig, bytes(twice), "producer-try-2"); // a producer retry after its duplicate window
  await waitFor("both copies seen", () => h.metrics.counter("adaos_downlink_received_total", "").get() === 2, 15_000);
  assert.equal(h.runs.get(twice.id), 1);

  await publish(rig, bytes(slow), slow.id);
  await waitFor("the slow command redelivered after ack_wait and dropped", () => h.metrics.counter("adaos_downlink_duplicates_total", "").get() === 2, 10_000);
  await drained(rig);
  assert.equal(h.runs.get(slow.id), 1, "the slow handler ran once");
  assert.equal(h.metrics.counter("adaos_downlink_received_total", "").get(), 4, "two copies each");
  assert.equal(s.dlq.count().total, 0);
});

test("a handler that always fails: after maxAttempts the command is a poison dead letter and is not delivered again", async (t) => {
  const rig = await directRig(t);
  const s = shared();
  const bad = command(1);
  const good = command(2);
  const h = await startDownlink(t, rig, s, {
    maxAttempts: 3,
    work: (env) => (env.id === bad.id ? Promise.reject(new Error("scenario runner is broken")) : Promise.resolve()),
  });
  await publish(rig, bytes(bad), bad.id);
  await publish(rig, bytes(good), good.id);
  await waitFor("the poison command dead", () => s.dlq.count().byReason.poison === 1, 15_000);
  await drained(rig);
  await sleep(1_000); // FAST_RETRY delays are < 300 ms: a redelivery would have come
  assert.equal(h.runs.get(bad.id), 3);
  assert.equal(h.runs.get(good.id), 1, "a failing command does not block the others");
  const [dead] = s.dlq.list();
  assert.deepEqual(
    [dead?.reason, dead?.origin, dead?.id, dead?.eventName, dead?.attempts, dead?.lastError, dead?.subject],
    ["poison", "inbound", bad.id, "scenario.run", 3, "scenario runner is broken", SUBJECT],
  );
  assert.equal((JSON.parse(new TextDecoder().decode(dead?.data)) as Envelope).id, bad.id, "the command as received");
  assert.equal(h.metrics.counter("adaos_downlink_failed_total", "").get(), 3);
  assert.equal(h.metrics.counter("adaos_downlink_dead_total", "").get({ reason: "poison" }), 1);
  assert.equal(s.inbox.has(bad.id), false);
});

test("invalid bytes and expired commands go to the DLQ and are termed; no handler sees them", async (t) => {
  const rig = await directRig(t);
  const s = shared();
  const h = await startDownlink(t, rig, s);
  const unknown = { ...command(1), event_name: "scenario.nonexistent" };
  const badPayload = { ...command(2), payload: { id: "Not A Valid Id!" } };
  const expired = command(3, {}, { ttl_ms: 1 });
  await publish(rig, bytes("{not json"), "m-1");
  await publish(rig, bytes(unknown), "m-2");
  await publish(rig, bytes(badPayload), "m-3");
  await sleep(5);
  await publish(rig, bytes(expired), "m-4");
  await waitFor("4 dead letters", () => s.dlq.count().total === 4, 15_000);
  await drained(rig);
  await sleep(300);
  assert.equal(h.total(), 0);
  assert.deepEqual(s.dlq.count().byReason, { poison: 0, expired: 1, invalid: 3, overflow: 0 });
  const invalid = s.dlq.list({ reason: "invalid" });
  assert.deepEqual(invalid.map((d) => d.id), [null, unknown.id, badPayload.id]);
  assert.equal(new TextDecoder().decode(invalid[0]?.data), "{not json");
  assert.match(invalid[1]?.lastError ?? "", /unknown event scenario\.nonexistent@1/);
  assert.equal(s.dlq.list({ reason: "expired" })[0]?.id, expired.id);
  assert.equal(h.metrics.counter("adaos_downlink_dead_total", "").get({ reason: "invalid" }), 3);
});

async function publishWhenReady(rig: Rig, env: Envelope): Promise<void> {
  await waitFor("the root's JetStream takes a publish", () => publish(rig, bytes(env), env.id).then(() => true, () => undefined), 20_000, 100);
}

test("the root goes away and comes back while the hub runs (leafnode): commands sent after its return are handled", async (t) => {
  const rig = await leafRig(t);
  const s = shared();
  const h = await startDownlink(t, rig, s, { ackWaitMs: SHORT_ACK_WAIT_MS });
  const before = command(1);
  await publish(rig, bytes(before), before.id);
  await waitFor("handled before the outage", () => h.runs.get(before.id) === 1, 15_000);

  await rig.root.kill();
  await sleep(2_000);
  await rig.root.start();
  const t0 = performance.now();
  const after = Array.from({ length: 5 }, (_, i) => command(10 + i));
  for (const env of after) await publishWhenReady(rig, env);
  await waitFor("handled after the root's return", () => after.every((e) => h.runs.get(e.id) === 1), 30_000);
  t.diagnostic(`commands flowed again ${Math.round(performance.now() - t0)} ms after the root restarted`);
  await drained(rig);
  await sleep(SHORT_ACK_WAIT_MS);
  // A SIGKILLed root may forget the last acks before the outage: those commands come again and the inbox drops them.
  assert.deepEqual([before, ...after].map((e) => h.runs.get(e.id)), [1, 1, 1, 1, 1, 1]);
  t.diagnostic(`redeliveries dropped by the inbox: ${h.metrics.counter("adaos_downlink_duplicates_total", "").get()}`);
});

test("direct link: the hub starts while the root is away, then the root comes up, goes down and comes back", async (t) => {
  const rig = await directRig(t);
  const s = shared();
  await rig.root.kill();
  const h = await startDownlink(t, rig, s, { ackWaitMs: SHORT_ACK_WAIT_MS }); // start() does not wait for the root
  await sleep(500);
  await rig.root.start();
  const first = command(1);
  await publishWhenReady(rig, first);
  await waitFor("handled once the root is up", () => h.runs.get(first.id) === 1, 20_000);

  await rig.root.kill();
  await sleep(1_000);
  await rig.root.start();
  const second = command(2);
  await publishWhenReady(rig, second);
  await waitFor("handled after the root came back", () => h.runs.get(second.id) === 1, 20_000);
  await drained(rig);
  await sleep(SHORT_ACK_WAIT_MS);
  assert.deepEqual([h.runs.get(first.id), h.runs.get(second.id), h.total()], [1, 1, 2]);
});

test("the stream appears later: the downlink retries until an operator creates it", async (t) => {
  const { root } = await startRoot(t);
  const s = shared();
  const link = { servers: [root.url], user: ROOT_USER, pass: ROOT_PASSWORD, name: "late-stream" };
  const nc = await connect({ servers: root.url, user: ROOT_USER, pass: ROOT_PASSWORD });
  t.after(() => nc.close());
  const jsm = await nc.jetstreamManager();
  const rig: Rig = { root, nc, js: nc.jetstream(), jsm, link };
  const h = await startDownlink(t, rig, s);
  await sleep(500);
  await jsm.streams.add(downlinkStreamConfig({ replicas: 1 }) as unknown as Partial<StreamConfig>);
  const env = command(1);
  await publish(rig, bytes(env), env.id);
  await waitFor("handled once the stream exists", () => h.runs.get(env.id) === 1, 15_000);
  assert.equal(s.dlq.count().total, 0);
});
