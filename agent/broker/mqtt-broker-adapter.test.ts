/**
 * Our MQTT adapter (agent/transport/mqtt.ts) through the authorizing broker: the hub's own client
 * and two members with per-node credentials. Request/reply (inbox rules), queue groups (the
 * `$adaos/members` records and wills) and broadcasts must all work inside the policy.
 */
import { strict as assert } from "node:assert";
import { test, type TestContext } from "node:test";
import { agentCmd, agentEvt, hubSubject } from "../../abi/subjects.js";
import { silentLogger } from "../core/logger.js";
import { MetricsRegistry } from "../core/metrics.js";
import { collector, contractCatalog, DELIVERY_TIMEOUT_MS, echo, echoReply, nOf, ping } from "../transport/contract-support.js";
import { MqttTransport } from "../transport/mqtt.js";
import { HUB_ID, SETTLE_MS, startBroker, type BrokerFixture } from "./broker-fixture.js";
import { clientIdFor } from "./policy.js";

const JOBS = hubSubject(HUB_ID, "broadcast", "jobs");

async function transport(t: TestContext, f: BrokerFixture, login: { username: string; password: string }, clientId: string): Promise<MqttTransport> {
  const tr = new MqttTransport({
    url: `mqtt://${login.username}:${login.password}@127.0.0.1:${f.port}`,
    clientId,
    catalog: contractCatalog(),
    logger: silentLogger(),
    metrics: new MetricsRegistry(),
  });
  t.after(() => tr.close());
  await tr.connect(AbortSignal.timeout(SETTLE_MS));
  return tr;
}

async function subnet(t: TestContext): Promise<{ f: BrokerFixture; hub: MqttTransport; tv: MqttTransport; speaker: MqttTransport }> {
  const f = await startBroker(t);
  const hub = await transport(t, f, f.broker.hubLogin, clientIdFor(HUB_ID, "agent"));
  const login = async (nodeId: string): Promise<{ username: string; password: string }> => ({ username: nodeId, password: await f.store.add(nodeId, "member") });
  const tv = await transport(t, f, await login("tv"), clientIdFor("tv", "m1"));
  const speaker = await transport(t, f, await login("speaker"), clientIdFor("speaker", "m1"));
  return { f, hub, tv, speaker };
}

test("request/reply both ways: a member asks the hub, the hub commands a member", async (t) => {
  const { f, hub, tv, speaker } = await subnet(t);
  await hub.subscribe(hubSubject(HUB_ID, "req", "echo"), (m) => hub.reply(m, echoReply(m.envelope)));
  await speaker.subscribe(agentCmd("speaker"), (m) => speaker.reply(m, echoReply(m.envelope)));
  for (let n = 0; n < 5; n++) {
    assert.equal(nOf(await tv.request(hubSubject(HUB_ID, "req", "echo"), echo(n), { timeoutMs: DELIVERY_TIMEOUT_MS })), n);
    assert.equal(nOf(await hub.request(agentCmd("speaker"), echo(100 + n), { timeoutMs: DELIVERY_TIMEOUT_MS })), 100 + n);
  }
  assert.equal(f.count("denied", { action: "publish" }) + f.count("denied", { action: "subscribe" }), 0, "nothing the adapter does is refused");
});

test("a queue group of two members takes each broadcast job exactly once, and a group request gets one reply", async (t) => {
  const { f, hub, tv, speaker } = await subnet(t);
  const [a, b] = [collector(), collector()];
  await tv.subscribe(JOBS, (m) => (a.handler(m), m.replyTo === undefined ? undefined : tv.reply(m, echoReply(m.envelope))), { queue: "workers" });
  await speaker.subscribe(JOBS, (m) => (b.handler(m), m.replyTo === undefined ? undefined : speaker.reply(m, echoReply(m.envelope))), { queue: "workers" });
  for (let n = 0; n < 100; n++) hub.publish(JOBS, ping(n));
  await hub.flush();
  const deadline = Date.now() + DELIVERY_TIMEOUT_MS;
  while (a.messages.length + b.messages.length < 100 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  const all = [...a.ns(), ...b.ns()].sort((x, y) => x - y);
  assert.deepEqual(all, Array.from({ length: 100 }, (_, i) => i), "each job exactly once");
  assert.ok(a.messages.length > 0 && b.messages.length > 0, `both members worked (${a.messages.length}/${b.messages.length})`);
  const reply = await hub.request(JOBS, echo(7), { timeoutMs: DELIVERY_TIMEOUT_MS });
  assert.equal(nOf(reply), 7);
  assert.equal(f.count("denied", { action: "publish" }) + f.count("denied", { action: "subscribe" }), 0);
});

test("a member's events reach the hub and its commands reach it; another member's do not", async (t) => {
  const { f, hub, tv, speaker } = await subnet(t);
  const events = collector();
  await hub.subscribe("ada.agent.*.evt", events.handler);
  const tvCmds = collector();
  await tv.subscribe(agentCmd("tv"), tvCmds.handler);
  tv.publish(agentEvt("tv"), ping(1));
  await events.until(1);
  assert.equal(events.messages[0]?.subject, agentEvt("tv"));
  speaker.publish(agentEvt("tv"), ping(2)); // speaker pretending to be tv: dropped at the broker
  speaker.publish(agentEvt("speaker"), ping(3));
  await events.until(3);
  assert.deepEqual(events.ns(), [1, 3]);
  assert.equal(f.count("denied", { action: "publish" }), 1);
  hub.publish(agentCmd("speaker"), ping(4));
  hub.publish(agentCmd("tv"), ping(5));
  await tvCmds.until(5);
  assert.deepEqual(tvCmds.ns(), [5]);
});

/** How long the adapter gets to report a refused subscription (one SUBACK on loopback takes ~1 ms). */
const REFUSAL_WAIT_MS = 1000;

test(
  "the adapter reports a subscription the broker refuses (SUBACK 128) as UnauthorizedError, once",
  async (t) => {
    const { f, tv } = await subnet(t);
    const outcome = await Promise.race([
      tv.subscribe(agentCmd("speaker"), () => undefined).then(() => "subscribed", (err: { code?: string }) => err.code ?? "error"),
      new Promise<string>((resolve) => setTimeout(resolve, REFUSAL_WAIT_MS, "still pending")),
    ]);
    const refusals = f.count("denied", { action: "subscribe" });
    await tv.close();
    assert.equal(outcome, "E_UNAUTHORIZED", `after ${REFUSAL_WAIT_MS} ms: ${outcome}, ${refusals} refused SUBSCRIBEs`);
    assert.equal(refusals, 1);
  },
);
