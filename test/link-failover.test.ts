/**
 * A member's hub link over real brokers: NATS preferred, MQTT as the fallback. The member
 * publishes an event every few milliseconds; a hub-side subscriber on each broker collects them.
 * Kill nats-server: the member is on MQTT within 5 s (the longest gap between delivered events
 * is printed and bounded); start it again: the member returns to NATS.
 */
import { strict as assert } from "node:assert";
import { test } from "node:test";
import type { Envelope } from "../abi/envelope.js";
import { memberRoutes } from "../agent/bridge/routes.js";
import { LocalBus } from "../agent/bus/local-bus.js";
import { systemClock } from "../agent/core/clock.js";
import { createEnvelope } from "../agent/core/envelope.js";
import { silentLogger } from "../agent/core/logger.js";
import { MetricsRegistry } from "../agent/core/metrics.js";
import { MemberLink } from "../agent/link/member-link.js";
import { precompiledCatalog } from "../agent/registry/precompiled.js";
import { MqttTransport } from "../agent/transport/mqtt.js";
import { NatsTransport } from "../agent/transport/nats.js";
import type { Transport } from "../agent/transport/transport.js";
import { startAedes } from "./aedes-broker.js";
import { waitFor } from "./helpers.js";
import { startNatsServer } from "./nats-server.js";

const catalog = precompiledCatalog();
const PUBLISH_EVERY_MS = 20;
/** The bound: on MQTT within 5 s of NATS dying. */
const MAX_GAP_MS = 5_000;

test("kill nats-server: the member's link falls back to MQTT within 5 s and returns to NATS when it is back", async (t) => {
  const nats = await startNatsServer(t);
  const mqtt = await startAedes(t);
  const metrics = new MetricsRegistry();
  const logger = silentLogger();
  const make = {
    nats: (): Transport => new NatsTransport({ servers: nats.url, catalog, logger, metrics, reconnectWaitMs: 250 }),
    mqtt: (): Transport => new MqttTransport({ url: mqtt.url, catalog, logger, metrics }),
  };

  // The hub side: one subscriber per broker, recording when each event of the tv arrives and how.
  const arrivals: { n: number; via: string; at: number }[] = [];
  const hubSide: Transport[] = [make.nats(), make.mqtt()];
  for (const [i, tr] of hubSide.entries()) {
    await tr.connect(AbortSignal.timeout(5000));
    await tr.subscribe("ada.agent.tv.evt", (m) => void arrivals.push({ n: Number((m.envelope.payload as { text: string }).text), via: i === 0 ? "nats" : "mqtt", at: Date.now() }));
  }
  t.after(async () => {
    for (const tr of hubSide) await tr.close();
  });

  const bus = new LocalBus({ catalog, logger, metrics, source: "agent://member/tv" });
  const linkEvents: Envelope[] = [];
  bus.subscribe("link.>", (e) => void linkEvents.push(e));
  const link = new MemberLink({
    nodeId: "tv",
    candidates: [{ url: nats.url, make: make.nats }, { url: mqtt.url, make: make.mqtt }],
    bus, routes: memberRoutes("tv"), logger, metrics, clock: systemClock,
    downGraceMs: 1000, probeEveryMs: 1000,
  });
  await link.start(AbortSignal.timeout(10_000));
  t.after(async () => {
    await link.stop();
    await bus.stop();
  });
  assert.equal(link.active, "nats");

  let n = 0;
  const ticker = setInterval(() => {
    bus.publish(createEnvelope({ event_name: "ui.notify", version: 1, source: "agent://member/tv", payload: { text: String(++n) } }));
  }, PUBLISH_EVERY_MS);
  t.after(() => clearInterval(ticker));

  await waitFor("events over NATS", () => arrivals.some((a) => a.via === "nats") || undefined);
  const killedAt = Date.now();
  await nats.kill();
  await waitFor("the link to fall back to MQTT", () => (link.active === "mqtt" && arrivals.some((a) => a.via === "mqtt" && a.at > killedAt)) || undefined, 10_000);
  const firstOnMqtt = arrivals.find((a) => a.via === "mqtt" && a.at > killedAt);
  const lastBefore = [...arrivals].reverse().find((a) => a.at <= killedAt);
  const gap = (firstOnMqtt?.at ?? Infinity) - (lastBefore?.at ?? killedAt);
  console.log(`# longest gap around the NATS outage: ${gap} ms (fallback after ${(firstOnMqtt?.at ?? 0) - killedAt} ms)`);
  assert.ok(gap < MAX_GAP_MS, `gap ${gap} ms`);

  await nats.start();
  const restartedAt = Date.now();
  await waitFor("the link to return to NATS", () => (link.active === "nats" && arrivals.some((a) => a.via === "nats" && a.at > restartedAt)) || undefined, 10_000);
  console.log(`# back on NATS ${Date.now() - restartedAt} ms after nats-server restarted`);

  const kinds = linkEvents.map((e) => `${e.event_name}:${(e.payload as { transport: string }).transport}`);
  assert.ok(kinds.includes("link.down:nats"), kinds.join(" "));
  assert.ok(kinds.includes("link.fallback:mqtt"), kinds.join(" "));
  assert.ok(kinds.includes("link.fallback:nats"), kinds.join(" "));
  const seen = arrivals.map((a) => a.n);
  assert.equal(new Set(seen).size, seen.length, "no event arrived twice");
});
