/**
 * Transports: publish → receive throughput and request/reply latency through our adapters, each
 * as a ratio of the raw client (`nats`, `mqtt`) moving the same bytes through the same broker in
 * the same run: a real nats-server, and aedes in-process (QoS 1, TCP_NODELAY on both sides).
 * Ours adds JSON encode, decode, the size limit, envelope + payload validation and subject mapping.
 *
 *   node dist/bench/transport.bench.js
 */
import { connect as natsConnect } from "nats";
import { connectAsync as mqttConnect, type MqttClient } from "mqtt";
import type { Envelope } from "../abi/envelope.js";
import { createEnvelope } from "../agent/core/envelope.js";
import { silentLogger } from "../agent/core/logger.js";
import { MetricsRegistry } from "../agent/core/metrics.js";
import type { EventCatalog } from "../agent/registry/catalog.js";
import { checkEnvelope } from "../agent/registry/check.js";
import { precompiledCatalog } from "../agent/registry/precompiled.js";
import { contractCatalog, echo, echoReply } from "../agent/transport/contract-support.js";
import { MqttTransport } from "../agent/transport/mqtt.js";
import { NatsTransport } from "../agent/transport/nats.js";
import type { Transport } from "../agent/transport/transport.js";
import { startAedes } from "../test/aedes-broker.js";
import { startNatsServer } from "../test/nats-server.js";
import { rate, report } from "./bench-util.js";
import { latency, latencyReport, pump, type Sink } from "./transport-util.js";

const NATS_N = 100_000;
const MQTT_N = 20_000;
const REPEATS = 3;
const ROUND_TRIPS = 2000;
const TIMEOUT_MS = 5000;
const TEXT = "x".repeat(128);

const cleanups: (() => void | Promise<void>)[] = [];
const scope = { after: (fn: () => void | Promise<void>) => void cleanups.push(fn) };

/** What any envelope transport must do per message: stringify, and parse + validate on receive. */
function validated(sink: Sink): (data: Uint8Array) => void {
  const catalog = precompiledCatalog();
  return (data) => {
    checkEnvelope(catalog, JSON.parse(Buffer.from(data.buffer, data.byteOffset, data.length).toString("utf8")));
    sink.got++;
  };
}

function notify(): Envelope {
  return createEnvelope({ event_name: "ui.notify", version: 1, source: "bench@node", payload: { text: TEXT, level: "info" } });
}

async function ours(make: (catalog: EventCatalog) => Transport, catalog: EventCatalog): Promise<Transport> {
  const tr = make(catalog);
  await tr.connect(AbortSignal.timeout(TIMEOUT_MS));
  scope.after(() => tr.close());
  return tr;
}

/** publish → receive with our adapters: `n` envelopes on one subject, one subscriber. */
async function throughOurs(pub: Transport, sub: Transport, subject: string, n: number): Promise<number> {
  const sink: Sink = { got: 0 };
  const s = await sub.subscribe(subject, () => void sink.got++);
  const env = notify();
  const perSecond = await rate(n, REPEATS, () => pump(n, sink, () => pub.publish(subject, env)));
  s.unsubscribe();
  return perSecond;
}

async function natsFigures(): Promise<void> {
  const server = await startNatsServer(scope);
  const make = (catalog: EventCatalog): NatsTransport =>
    new NatsTransport({ catalog, logger: silentLogger(), metrics: new MetricsRegistry(), servers: server.url });
  const [pub, sub] = [await natsConnect({ servers: server.url }), await natsConnect({ servers: server.url })];
  scope.after(() => Promise.all([pub.close(), sub.close()]).then(() => undefined));
  const bytes = Buffer.from(JSON.stringify(notify()));
  const sink: Sink = { got: 0 };
  sub.subscribe("bench.raw", { callback: () => void sink.got++ });
  await sub.flush();
  await pump(10_000, sink, () => pub.publish("bench.raw", bytes)); // warm-up
  const raw = await rate(NATS_N, REPEATS, () => pump(NATS_N, sink, () => pub.publish("bench.raw", bytes)));
  const vSink: Sink = { got: 0 };
  const onData = validated(vSink);
  sub.subscribe("bench.json", { callback: (_e, m) => onData(m.data) });
  await sub.flush();
  const env0 = notify();
  const json = await rate(NATS_N, REPEATS, () => pump(NATS_N, vSink, () => pub.publish("bench.json", Buffer.from(JSON.stringify(env0)))));
  const [tp, ts] = [await ours(make, precompiledCatalog()), await ours(make, precompiledCatalog())];
  await throughOurs(tp, ts, "bench.warm", 10_000);
  const mine = await throughOurs(tp, ts, "bench.ours", NATS_N);
  report(`NATS publish → receive, ${bytes.length} B envelopes (ui.notify, 128-char text), nats-server ${server.url}`,
    { name: "raw nats.js: publish bytes → callback", perSecond: raw },
    [{ name: "NatsTransport: publish envelope → handler", perSecond: mine }]);
  report("the same, against raw nats.js + JSON.stringify, JSON.parse and checkEnvelope per message",
    { name: "raw nats.js + encode + decode + validate", perSecond: json },
    [{ name: "NatsTransport: publish envelope → handler", perSecond: mine }]);

  sub.subscribe("bench.rr.raw", { callback: (_e, m) => m.respond(m.data) });
  await sub.flush();
  const echoBytes = Buffer.from(JSON.stringify(echo(1)));
  const rawRtt = await latency(ROUND_TRIPS, async () => void (await pub.request("bench.rr.raw", echoBytes, { timeout: TIMEOUT_MS })));
  const [req, rsp] = [await ours(make, contractCatalog()), await ours(make, contractCatalog())];
  await rsp.subscribe("bench.rr", (m) => rsp.reply(m, echoReply(m.envelope)));
  const env = echo(1);
  const ourRtt = await latency(ROUND_TRIPS, async () => void (await req.request("bench.rr", env, { timeoutMs: TIMEOUT_MS })));
  latencyReport("NATS request → reply, sequential", "raw nats.js request/respond (same bytes echoed)", rawRtt, "NatsTransport request/reply (derived reply envelope)", ourRtt);
}

async function mqttRaw(url: string): Promise<MqttClient> {
  const c = await mqttConnect(url, { protocolVersion: 4 });
  (c.stream as unknown as { setNoDelay(on: boolean): void }).setNoDelay(true);
  scope.after(() => c.endAsync(true));
  return c;
}

async function mqttFigures(): Promise<void> {
  const broker = await startAedes(scope);
  const make = (catalog: EventCatalog): MqttTransport =>
    new MqttTransport({ catalog, logger: silentLogger(), metrics: new MetricsRegistry(), url: broker.url });
  const [pub, sub] = [await mqttRaw(broker.url), await mqttRaw(broker.url)];
  const bytes = Buffer.from(JSON.stringify(notify()));
  const sink: Sink = { got: 0 };
  sub.on("message", (topic) => void (topic === "bench/raw" && sink.got++));
  await sub.subscribeAsync("bench/raw", { qos: 1 });
  const send = (): void => void pub.publish("bench/raw", bytes, { qos: 1 });
  await pump(2000, sink, send); // warm-up
  const raw = await rate(MQTT_N, REPEATS, () => pump(MQTT_N, sink, send));
  const vSink: Sink = { got: 0 };
  const onData = validated(vSink);
  sub.on("message", (topic, payload) => void (topic === "bench/json" && onData(payload)));
  await sub.subscribeAsync("bench/json", { qos: 1 });
  const env0 = notify();
  const json = await rate(MQTT_N, REPEATS, () => pump(MQTT_N, vSink, () => void pub.publish("bench/json", Buffer.from(JSON.stringify(env0)), { qos: 1 })));
  const [tp, ts] = [await ours(make, precompiledCatalog()), await ours(make, precompiledCatalog())];
  await throughOurs(tp, ts, "bench.warm", 2000);
  const mine = await throughOurs(tp, ts, "bench.ours", MQTT_N);
  report(`MQTT QoS 1 publish → receive, ${bytes.length} B envelopes, aedes in-process ${broker.url}`,
    { name: "raw mqtt.js: publish bytes → message event", perSecond: raw },
    [{ name: "MqttTransport: publish envelope → handler", perSecond: mine }]);
  report("the same, against raw mqtt.js + JSON.stringify, JSON.parse and checkEnvelope per message",
    { name: "raw mqtt.js + encode + decode + validate", perSecond: json },
    [{ name: "MqttTransport: publish envelope → handler", perSecond: mine }]);

  // Raw round trip: a fixed reply topic per requester (one request in flight at a time).
  sub.on("message", (topic, payload) => void (topic === "bench/rr/raw" && sub.publish("bench/rr/reply", payload, { qos: 1 })));
  await sub.subscribeAsync("bench/rr/raw", { qos: 1 });
  let answered: (() => void) | undefined;
  pub.on("message", (topic) => void (topic === "bench/rr/reply" && answered?.()));
  await pub.subscribeAsync("bench/rr/reply", { qos: 1 });
  const echoBytes = Buffer.from(JSON.stringify(echo(1)));
  const rawRtt = await latency(ROUND_TRIPS, () => new Promise<void>((resolve) => {
    answered = resolve;
    pub.publish("bench/rr/raw", echoBytes, { qos: 1 });
  }));
  const [req, rsp] = [await ours(make, contractCatalog()), await ours(make, contractCatalog())];
  await rsp.subscribe("bench.rr", (m) => rsp.reply(m, echoReply(m.envelope)));
  const env = echo(1);
  const ourRtt = await latency(ROUND_TRIPS, async () => void (await req.request("bench.rr", env, { timeoutMs: TIMEOUT_MS })));
  latencyReport("MQTT QoS 1 request → reply, sequential", "raw mqtt.js publish → echo on a fixed topic", rawRtt, "MqttTransport request/reply (reply_to inbox)", ourRtt);
}

const t0 = Date.now();
console.log(`transport benchmark: median of ${REPEATS} runs, ${ROUND_TRIPS} sequential round trips, node ${process.versions.node}`);
try {
  await natsFigures();
  await mqttFigures();
} finally {
  for (const fn of cleanups.reverse()) await fn();
}
console.log(`\ndone in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
