/** The hub broker with real mqtt.js clients: who gets in, and what each may publish and hear. */
import { strict as assert } from "node:assert";
import { test } from "node:test";
import { HUB_ID, SUBNET_TOKEN, nextMessage, received, startBroker, subscribeCodes, type BrokerFixture } from "./broker-fixture.js";

/** [MQTT-3.2.2.3] CONNACK return codes. */
const IDENTIFIER_REJECTED = 2;
const BAD_USERNAME_OR_PASSWORD = 4;
const NOT_AUTHORIZED = 5;
/** SUBACK return code of a refused subscription [MQTT-3.9.3]. */
const SUBACK_FAILURE = 128;

async function refused(f: BrokerFixture, options: Parameters<BrokerFixture["client"]>[0]): Promise<number> {
  try {
    await f.client(options);
  } catch (err) {
    return (err as { code?: number }).code ?? -1;
  }
  assert.fail(`the broker let ${options.username ?? "(no username)"} in`);
}

test("a wrong password is refused at CONNACK, counted, and logged once per peer however often it is retried", async (t) => {
  const f = await startBroker(t);
  await f.store.add("tv", "member");
  for (let i = 0; i < 5; i++) assert.equal(await refused(f, { username: "tv", password: "wrong", clientId: "tv@t" }), BAD_USERNAME_OR_PASSWORD);
  assert.equal(f.count("auth_failures", { reason: "bad_password" }), 5);
  assert.equal(f.log.matching("MQTT connection refused").length, 1, "rate-limited per peer");
  assert.equal(await refused(f, { clientId: "tv@t" }), BAD_USERNAME_OR_PASSWORD, "no credentials at all");
  assert.equal(f.count("auth_failures", { reason: "missing_credentials" }), 1);
  assert.equal(await refused(f, { username: "Not An Id", password: "x", clientId: "x" }), BAD_USERNAME_OR_PASSWORD);
  assert.equal(f.count("auth_failures", { reason: "malformed_node_id" }), 1);
});

test("a connection's client id must be bound to its node id (no session takeover across nodes)", async (t) => {
  const f = await startBroker(t);
  const password = await f.store.add("tv", "member");
  assert.equal(await refused(f, { username: "tv", password, clientId: "speaker@t" }), IDENTIFIER_REJECTED);
  assert.equal(await refused(f, { username: "tv", password, clientId: "" }), IDENTIFIER_REJECTED, "a broker-assigned id is bound to no node");
  assert.equal(f.count("auth_failures", { reason: "client_id" }), 2);
  await f.client({ username: "tv", password, clientId: "tv" });
  await f.client({ username: "tv", password, clientId: "tv@second" });
});

test("a member with its own credential publishes its events and hears its commands", async (t) => {
  const f = await startBroker(t);
  const hub = await f.hubClient();
  await hub.subscribeAsync("ada/agent/+/evt", { qos: 1 });
  const tv = await f.member("tv");
  assert.deepEqual(await subscribeCodes(tv, "ada/agent/tv/cmd"), [1]);
  const evt = nextMessage(hub, "ada/agent/tv/evt");
  await tv.publishAsync("ada/agent/tv/evt", "hello", { qos: 1 });
  assert.equal((await evt).toString(), "hello");
  const cmd = nextMessage(tv, "ada/agent/tv/cmd");
  await hub.publishAsync("ada/agent/tv/cmd", "play", { qos: 1 });
  assert.equal((await cmd).toString(), "play");
  assert.equal(f.metrics.gauge("adaos_broker_clients", "").get(), 2);
});

test("a member cannot publish as another member: acknowledged, not delivered, counted; its link stays up", async (t) => {
  const f = await startBroker(t);
  const hub = await f.hubClient();
  await hub.subscribeAsync(["ada/agent/+/evt", "ada/agent/+/cmd"], { qos: 1 });
  const topics = received(hub);
  const tv = await f.member("tv");
  await tv.publishAsync("ada/agent/speaker/evt", "spoofed", { qos: 1 });
  await tv.publishAsync("ada/agent/speaker/cmd", "spoofed", { qos: 0 });
  await tv.publishAsync("ada/agent/speaker/evt", "retained spoof", { qos: 1, retain: true });
  // Messages of one connection arrive in order: once this one is in, the refused ones never will be.
  const sentinel = nextMessage(hub, "ada/agent/tv/evt");
  await tv.publishAsync("ada/agent/tv/evt", "own", { qos: 1 });
  await sentinel;
  assert.deepEqual(topics, ["ada/agent/tv/evt"]);
  assert.equal(f.count("denied", { action: "publish" }), 3);
  assert.ok(tv.connected);
  assert.equal(f.log.matching("MQTT publish refused").length, 1, "one line for the burst");
  // Nothing was retained either: a new subscriber's first message is the next live one.
  const late = await f.client({ ...f.broker.hubLogin, clientId: `${HUB_ID}@late` });
  const lateTopics = received(late);
  await late.subscribeAsync("ada/agent/+/evt", { qos: 1 });
  const next = nextMessage(late, "ada/agent/tv/evt");
  await tv.publishAsync("ada/agent/tv/evt", "again", { qos: 1 });
  await next;
  assert.deepEqual(lateTopics, ["ada/agent/tv/evt"]);
});

test("a member cannot subscribe to another member's commands: SUBACK 128, counted, nothing delivered", async (t) => {
  const f = await startBroker(t);
  const hub = await f.hubClient();
  const tv = await f.member("tv");
  const topics = received(tv);
  const granted = await subscribeCodes(tv, ["ada/agent/speaker/cmd", "ada/agent/+/cmd", "#", "ada/agent/tv/cmd"]);
  assert.deepEqual(granted, [SUBACK_FAILURE, SUBACK_FAILURE, SUBACK_FAILURE, 1]);
  assert.equal(f.count("denied", { action: "subscribe" }), 3);
  await hub.publishAsync("ada/agent/speaker/cmd", "not for tv", { qos: 1 });
  const own = nextMessage(tv, "ada/agent/tv/cmd");
  await hub.publishAsync("ada/agent/tv/cmd", "for tv", { qos: 1 });
  await own;
  assert.deepEqual(topics, ["ada/agent/tv/cmd"]);
});

test("the subnet token lets a node without a credential in as a member (logged once per node), and no further", async (t) => {
  const f = await startBroker(t);
  const hub = await f.hubClient();
  await hub.subscribeAsync("ada/agent/+/evt", { qos: 1 });
  const lamp = await f.client({ username: "lamp", password: SUBNET_TOKEN, clientId: "lamp@1" });
  await f.client({ username: "lamp", password: SUBNET_TOKEN, clientId: "lamp@2" });
  const logged = f.log.matching("shared subnet token");
  assert.equal(logged.length, 1);
  assert.equal(logged[0]?.node, "lamp");
  const evt = nextMessage(hub, "ada/agent/lamp/evt");
  await lamp.publishAsync("ada/agent/lamp/evt", "on", { qos: 1 });
  await evt;
  assert.deepEqual(await subscribeCodes(lamp, "ada/agent/tv/cmd"), [SUBACK_FAILURE], "a token member is still only itself");
  await f.store.add("tv", "member");
  assert.equal(await refused(f, { username: "tv", password: SUBNET_TOKEN, clientId: "tv" }), NOT_AUTHORIZED, "a node with a credential");
  assert.equal(f.count("auth_failures", { reason: "token_not_allowed" }), 1);
  assert.equal(await refused(f, { username: HUB_ID, password: SUBNET_TOKEN, clientId: HUB_ID }), BAD_USERNAME_OR_PASSWORD, "the hub's id");
});

test("without a subnet token only credentials work", async (t) => {
  const f = await startBroker(t, { subnetToken: undefined });
  assert.equal(await refused(f, { username: "lamp", password: SUBNET_TOKEN, clientId: "lamp" }), BAD_USERNAME_OR_PASSWORD);
  assert.equal(f.count("auth_failures", { reason: "unknown_node" }), 1);
});

test("a third-party client gets exactly the topics issued to it", async (t) => {
  const f = await startBroker(t);
  const hub = await f.hubClient();
  await hub.subscribeAsync("sensors/#", { qos: 1 });
  const topics = received(hub);
  const password = await f.store.add("sensor", "client", { publish: ["sensors.sensor.>"], subscribe: ["sensors.cmd.sensor"] });
  const sensor = await f.client({ username: "sensor", password, clientId: "sensor" });
  assert.deepEqual(await subscribeCodes(sensor, ["sensors/cmd/sensor", "sensors/cmd/+", "ada/agent/sensor/cmd"]), [1, SUBACK_FAILURE, SUBACK_FAILURE]);
  await sensor.publishAsync("sensors/other/temp", "21", { qos: 1 });
  await sensor.publishAsync("ada/agent/sensor/evt", "{}", { qos: 1 });
  const own = nextMessage(hub, "sensors/sensor/temp");
  await sensor.publishAsync("sensors/sensor/temp", "22", { qos: 1 });
  await own;
  assert.deepEqual(topics, ["sensors/sensor/temp"]);
  assert.equal(f.count("denied", { action: "publish" }), 2);
  const cmd = nextMessage(sensor, "sensors/cmd/sensor");
  await hub.publishAsync("sensors/cmd/sensor", "calibrate", { qos: 1 });
  await cmd;
});

test("revoking a node (while the hub runs) closes its connection and refuses it from then on", async (t) => {
  const f = await startBroker(t, { revocationCheckMs: 50 });
  const tv = await f.member("tv");
  const closed = new Promise<void>((resolve) => tv.once("close", () => resolve()));
  const other = await f.member("speaker");
  assert.equal(f.store.revoke("tv"), true);
  await closed;
  assert.equal(await refused(f, { username: "tv", password: "whatever", clientId: "tv" }), NOT_AUTHORIZED);
  assert.equal(f.count("auth_failures", { reason: "revoked" }), 1);
  assert.ok(other.connected, "other members stay");
});
