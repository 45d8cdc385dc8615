/** The transport contract against a real in-process aedes per test, plus MQTT-only facts. */
import { strict as assert } from "node:assert";
import { test, type TestContext } from "node:test";
import { setTimeout as delay } from "node:timers/promises";
import { connectAsync } from "mqtt";
import { subjectToTopic } from "../../abi/subjects.js";
import { freePort } from "../../test/helpers.js";
import { startAedes } from "../../test/aedes-broker.js";
import { silentLogger } from "../core/logger.js";
import { MetricsRegistry } from "../core/metrics.js";
import { transportContract } from "./contract.js";
import { collector, contractCatalog, DELIVERY_TIMEOUT_MS, echo, echoReply, ping } from "./contract-support.js";
import { MqttTransport } from "./mqtt.js";
import { presenceTopic } from "./mqtt-groups.js";

/** Fast reconnects keep the outage test short; production uses the adapter's default. */
const TEST_RECONNECT_WAIT_MS = 200;

transportContract({
  name: "mqtt",
  capabilities: { nativeQueueGroups: false, noResponders: false, replyAddress: "header" },
  broker: async (t: TestContext) => {
    const broker = await startAedes(t);
    const nowhere = `mqtt://127.0.0.1:${await freePort()}`;
    const raw = await connectAsync(broker.url, { protocolVersion: 4, reconnectPeriod: TEST_RECONNECT_WAIT_MS });
    t.after(() => raw.endAsync(true));
    return {
      create: (options, target = "broker") => {
        const tr = new MqttTransport({ ...options, url: target === "broker" ? broker.url : nowhere, reconnectWaitMs: TEST_RECONNECT_WAIT_MS });
        t.after(() => tr.close());
        return tr;
      },
      rawPublish: async (subject, bytes) => void (await raw.publishAsync(subjectToTopic(subject), Buffer.from(bytes), { qos: 1 })),
      kill: () => broker.kill(),
      start: () => broker.start(),
    };
  },
});

// ---- MQTT-only facts ----

/** A QoS 1 round trip without TCP_NODELAY on both sides takes ~40–88 ms (Nagle × delayed ACK). */
const NAGLE_FREE_P50_MS = 20;

test("aedes 1.x has no shared subscriptions: `$share/g/t` is a literal topic (why groups are elected above it)", async (t) => {
  const broker = await startAedes(t);
  const members = await Promise.all([0, 1].map(() => connectAsync(broker.url, { protocolVersion: 4 })));
  const pub = await connectAsync(broker.url, { protocolVersion: 4 });
  t.after(() => Promise.all([...members, pub].map((c) => c.endAsync(true))));
  const got: string[] = [];
  for (const m of members) {
    m.on("message", (topic) => got.push(topic));
    await m.subscribeAsync("$share/g/x/y", { qos: 1 });
  }
  await pub.publishAsync("x/y", "to the group?", { qos: 1 });
  await pub.publishAsync("$share/g/x/y", "literal", { qos: 1 });
  await delay(200);
  assert.deepEqual(got, ["$share/g/x/y", "$share/g/x/y"], "only the literal topic arrives, at both members");
});

test("a topic that no subject maps to is refused as bad_subject", async (t) => {
  const broker = await startAedes(t);
  const metrics = new MetricsRegistry();
  const reported: string[] = [];
  const tr = new MqttTransport({
    catalog: contractCatalog(), logger: silentLogger(), metrics, url: broker.url,
    onInvalid: (_raw, reason, _err, where) => void reported.push(`${reason} ${where}`),
  });
  t.after(() => tr.close());
  await tr.connect(AbortSignal.timeout(DELIVERY_TIMEOUT_MS));
  const got = collector();
  await tr.subscribe("dev.>", got.handler);
  const raw = await connectAsync(broker.url, { protocolVersion: 4 });
  t.after(() => raw.endAsync(true));
  for (const topic of ["dev/50%", "dev/a.b", "dev/%2f"]) await raw.publishAsync(topic, JSON.stringify(ping(0)), { qos: 1 });
  await raw.publishAsync("dev/ok", JSON.stringify(ping(1)), { qos: 1 });
  await got.until(1);
  assert.deepEqual(got.ns(), [1]);
  assert.deepEqual(reported, ["bad_subject dev/50%", "bad_subject dev/a.b", "bad_subject dev/%2f"]);
  assert.equal(metrics.counter("adaos_transport_invalid_total", "").get({ transport: "mqtt", reason: "bad_subject" }), 3);
});

test("a group member whose connection dies is erased by its will, and the others take over its share", async (t) => {
  const broker = await startAedes(t);
  const options = { catalog: contractCatalog(), logger: silentLogger(), metrics: new MetricsRegistry(), url: broker.url };
  const [member, pub] = [new MqttTransport(options), new MqttTransport(options)];
  t.after(() => Promise.all([member.close(), pub.close()]));
  await member.connect(AbortSignal.timeout(DELIVERY_TIMEOUT_MS));
  await pub.connect(AbortSignal.timeout(DELIVERY_TIMEOUT_MS));
  const got = collector();
  await member.subscribe("jobs.*", got.handler, { queue: "workers" });
  // A second member speaking the documented record format directly (mqtt-groups.ts), with its will.
  const ghost = await connectAsync(broker.url, {
    protocolVersion: 4, clientId: "ghost", reconnectPeriod: 0,
    will: { topic: presenceTopic("ghost"), payload: Buffer.alloc(0), qos: 1, retain: true },
  });
  await ghost.subscribeAsync("jobs/+", { qos: 1 });
  await ghost.publishAsync(presenceTopic("ghost"), JSON.stringify({ v: 1, groups: [["workers", "jobs.*"]] }), { qos: 1, retain: true });
  await delay(100);
  const batch = async (from: number): Promise<number> => {
    for (let n = from; n < from + 100; n++) pub.publish("jobs.run", ping(n));
    await pub.flush();
    await delay(300);
    return got.ns().filter((n) => n >= from).length;
  };
  const shared = await batch(0);
  assert.ok(shared > 10 && shared < 90, `the live member took a share, not all (${shared}/100)`);
  ghost.stream.destroy();
  await delay(200);
  assert.equal(await batch(1000), 100, "after the will erased the ghost, the live member takes everything");
});

test(`request/reply round trips in milliseconds (TCP_NODELAY on both sides; p50 < ${NAGLE_FREE_P50_MS} ms)`, async (t) => {
  const broker = await startAedes(t);
  const options = { catalog: contractCatalog(), logger: silentLogger(), metrics: new MetricsRegistry(), url: broker.url };
  const [responder, requester] = [new MqttTransport(options), new MqttTransport(options)];
  t.after(() => Promise.all([responder.close(), requester.close()]));
  await responder.connect(AbortSignal.timeout(DELIVERY_TIMEOUT_MS));
  await requester.connect(AbortSignal.timeout(DELIVERY_TIMEOUT_MS));
  await responder.subscribe("svc.echo", (m) => responder.reply(m, echoReply(m.envelope)));
  const times: number[] = [];
  for (let i = 0; i < 21; i++) {
    const t0 = performance.now();
    await requester.request("svc.echo", echo(i), { timeoutMs: DELIVERY_TIMEOUT_MS });
    times.push(performance.now() - t0);
  }
  times.sort((a, z) => a - z);
  const p50 = times[10] ?? Infinity;
  assert.ok(p50 < NAGLE_FREE_P50_MS, `p50 ${p50.toFixed(2)} ms`);
});

test("a queue group is rebuilt after a broker restart (records are re-announced): still exactly once", async (t) => {
  const broker = await startAedes(t);
  const options = { catalog: contractCatalog(), logger: silentLogger(), metrics: new MetricsRegistry(), url: broker.url, reconnectWaitMs: TEST_RECONNECT_WAIT_MS };
  const [m1, m2, pub] = [new MqttTransport(options), new MqttTransport(options), new MqttTransport(options)];
  t.after(() => Promise.all([m1.close(), m2.close(), pub.close()]));
  for (const tr of [m1, m2, pub]) await tr.connect(AbortSignal.timeout(DELIVERY_TIMEOUT_MS));
  const [g1, g2] = [collector(), collector()];
  await m1.subscribe("jobs.*", g1.handler, { queue: "workers" });
  await m2.subscribe("jobs.*", g2.handler, { queue: "workers" });
  await broker.kill();
  await broker.start();
  // Until both records are back, a message may go to one member only; wait for a clean batch.
  for (let round = 0; ; round++) {
    assert.ok(round < 20, "the group recovered within 20 rounds");
    const from = (round + 1) * 1000;
    for (let n = from; n < from + 100; n++) pub.publish("jobs.run", ping(n));
    await delay(300);
    const [a, b] = [g1.ns().filter((n) => n >= from), g2.ns().filter((n) => n >= from)];
    if (a.length + b.length !== 100 || a.length === 0 || b.length === 0) continue;
    assert.deepEqual([...a, ...b].sort((x, z) => x - z), Array.from({ length: 100 }, (_, i) => from + i), "each message exactly once");
    break;
  }
});
