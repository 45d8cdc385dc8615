/** Bad input at the hub broker: each case is refused, counted and contained; the other clients never notice. */
import { strict as assert } from "node:assert";
import { connect as tcpConnect, type Socket } from "node:net";
import { test } from "node:test";
import type { MqttClient } from "mqtt";
import { MetricsRegistry } from "../core/metrics.js";
import { silentLogger } from "../core/logger.js";
import { collector, contractCatalog, DELIVERY_TIMEOUT_MS, ping } from "../transport/contract-support.js";
import { MqttTransport } from "../transport/mqtt.js";
import { HUB_ID, SETTLE_MS, nextMessage, startBroker, type BrokerFixture } from "./broker-fixture.js";

const MIB = 1024 * 1024;

/** The hub hears every member's events; `check()` proves the broker still serves a bystander. */
async function bystanders(f: BrokerFixture): Promise<{ hub: MqttClient; check: () => Promise<void> }> {
  const hub = await f.hubClient();
  await hub.subscribeAsync("ada/agent/+/evt", { qos: 1 });
  const speaker = await f.member("speaker");
  await speaker.subscribeAsync("ada/agent/speaker/cmd", { qos: 1 });
  let n = 0;
  const check = async (): Promise<void> => {
    const text = `still here ${++n}`;
    const cmd = nextMessage(speaker, "ada/agent/speaker/cmd");
    await hub.publishAsync("ada/agent/speaker/cmd", text, { qos: 1 });
    assert.equal((await cmd).toString(), text);
    const evt = nextMessage(hub, "ada/agent/speaker/evt");
    await speaker.publishAsync("ada/agent/speaker/evt", text, { qos: 1 });
    assert.equal((await evt).toString(), text);
  };
  await check();
  return { hub, check };
}

function closed(client: MqttClient | Socket): Promise<void> {
  return new Promise((resolve) => client.once("close", () => resolve()));
}

test("a message over the size limit is acknowledged and dropped; the sender's link and everyone else stay up", async (t) => {
  const f = await startBroker(t);
  const { hub, check } = await bystanders(f);
  const tv = await f.member("tv");
  await tv.publishAsync("ada/agent/tv/evt", Buffer.alloc(1.5 * MIB, 0x61), { qos: 1 });
  const small = nextMessage(hub, "ada/agent/tv/evt");
  await tv.publishAsync("ada/agent/tv/evt", "small", { qos: 1 });
  assert.equal((await small).toString(), "small", "the first message the hub gets from tv is the small one");
  assert.equal(f.count("dropped", { reason: "oversized" }), 1);
  assert.ok(tv.connected);
  await check();
});

test("a packet far over the limit closes its connection as soon as its header arrives; the others stay up", async (t) => {
  const f = await startBroker(t);
  const { check } = await bystanders(f);
  const tv = await f.member("tv");
  tv.on("error", () => undefined);
  const gone = closed(tv);
  tv.publish("ada/agent/tv/evt", Buffer.alloc(8 * MIB, 0x61), { qos: 0 });
  await gone;
  assert.equal(f.count("dropped", { reason: "frame_too_large" }), 1);
  assert.equal(f.log.matching("over the frame limit").length, 1);
  await check();
});

test("garbage bytes instead of MQTT: the connection is dropped and counted, nothing crashes", async (t) => {
  const f = await startBroker(t);
  const { check } = await bystanders(f);
  for (const garbage of ["GET / HTTP/1.1\r\nHost: hub\r\n\r\n", "\u0010\u0002\u0000\u0000", "\u0000\u0000\u0000\u0000\u0000"]) {
    const socket = tcpConnect(f.port, "127.0.0.1");
    socket.on("error", () => undefined);
    const gone = closed(socket);
    socket.end(Buffer.from(garbage, "latin1"));
    await gone;
  }
  const errors = f.count("client_errors", { stage: "connection" }) + f.count("client_errors", { stage: "client" });
  assert.ok(errors >= 2, `counted ${errors}`);
  await check();
});

test("a malformed packet from an authenticated client closes that client only", async (t) => {
  const f = await startBroker(t);
  const { check } = await bystanders(f);
  const tv = await f.member("tv");
  tv.on("error", () => undefined);
  const gone = closed(tv);
  // SUBSCRIBE to ada/agent/tv/cmd at QoS 3, which MQTT does not have [MQTT-3-8.3-4].
  const topic = Buffer.from("ada/agent/tv/cmd");
  const body = Buffer.concat([Buffer.from([0x00, 0x01, 0x00, topic.length]), topic, Buffer.from([0x03])]);
  tv.stream.write(Buffer.concat([Buffer.from([0x82, body.length]), body]));
  await gone;
  assert.equal(f.count("client_errors", { stage: "client" }), 1);
  assert.equal(f.log.matching("MQTT connection closed after an error")[0]?.node, "tv", "logged against the node");
  await check();
});

test("a malformed payload passes the broker (it carries bytes) and is refused by the subscriber's adapter, which keeps going", async (t) => {
  const f = await startBroker(t);
  const { check } = await bystanders(f);
  const metrics = new MetricsRegistry();
  const { username, password } = f.broker.hubLogin;
  const hub = new MqttTransport({
    url: `mqtt://${username}:${password}@127.0.0.1:${f.port}`, clientId: `${HUB_ID}@adapter`, catalog: contractCatalog(), logger: silentLogger(), metrics,
  });
  t.after(() => hub.close());
  await hub.connect(AbortSignal.timeout(SETTLE_MS));
  const got = collector();
  await hub.subscribe("ada.agent.*.evt", got.handler);
  const tv = await f.member("tv");
  await tv.publishAsync("ada/agent/tv/evt", "{not json", { qos: 1 });
  await tv.publishAsync("ada/agent/tv/evt", JSON.stringify({ ...ping(1), id: 42 }), { qos: 1 });
  await tv.publishAsync("ada/agent/tv/evt", JSON.stringify(ping(2)), { qos: 1 });
  await got.until(2, DELIVERY_TIMEOUT_MS);
  assert.deepEqual(got.ns(), [2]);
  const invalid = metrics.counter("adaos_transport_invalid_total", "");
  assert.equal(invalid.get({ transport: "mqtt", reason: "malformed_json" }), 1);
  assert.equal(invalid.get({ transport: "mqtt", reason: "invalid_envelope" }), 1);
  await check();
});
