/**
 * A member's failover link over real brokers, with production timings: a real nats-server and a
 * real aedes, a hub-side responder attached to both (as the hub will be), and a member
 * FailoverTransport sending a request every 20 ms (answered after 100 ms, so some are in flight
 * at every cut and switch and are sent again, with the same id, on the new link). Kill nats-server: the member is on MQTT within
 * 5 s and the requests keep getting replies (the longest gap between replies is printed and
 * bounded; every request gets exactly its own reply); start it again: the member returns to NATS
 * within the switch-back period. The link.* events arrive on the member's bus.
 */
import { strict as assert } from "node:assert";
import { test } from "node:test";
import { setTimeout as delay } from "node:timers/promises";
import type { Envelope } from "../abi/envelope.js";
import { LocalBus } from "../agent/bus/local-bus.js";
import { silentLogger } from "../agent/core/logger.js";
import { MetricsRegistry } from "../agent/core/metrics.js";
import { FailoverTransport } from "../agent/link/failover-transport.js";
import { parseHubUrls } from "../agent/link/hub-urls.js";
import { hubCandidates } from "../agent/link/link.js";
import { LinkEvents } from "../agent/link/link-events.js";
import { HEALTHY_PERIOD_MS, PROBE_CONNECT_TIMEOUT_MS, PROBE_MAX_MS } from "../agent/link/timing.js";
import { precompiledCatalog } from "../agent/registry/precompiled.js";
import { contractCatalog, echo, echoReply } from "../agent/transport/contract-support.js";
import { MqttTransport } from "../agent/transport/mqtt.js";
import { NatsTransport } from "../agent/transport/nats.js";
import type { Transport } from "../agent/transport/transport.js";
import { startAedes } from "./aedes-broker.js";
import { waitFor } from "./helpers.js";
import { startNatsServer } from "./nats-server.js";

const REQUEST_EVERY_MS = 20;
/** Each request's own timeout: longer than grace + fallback dial, so none needs to fail. */
const REQUEST_TIMEOUT_MS = 5000;
/** The bound: on MQTT within 5 s of NATS dying, and no longer gap between replies. */
const MAX_FALLBACK_MS = 5000;
/** Worst case back to NATS: a probe waits at most PROBE_MAX_MS, dials, then the link must stay up. */
const MAX_RETURN_MS = PROBE_MAX_MS + PROBE_CONNECT_TIMEOUT_MS + HEALTHY_PERIOD_MS;
const SUBJECT = "ada.hub.hub1.req.echo";
/** The responder takes this long, so several requests are in flight when a link is cut or switched. */
const REPLY_DELAY_MS = 100;

interface Sent {
  readonly id: string;
  readonly at: number;
  repliedAt?: number;
  causation?: string;
  settled: number;
  error?: Error;
}

test("kill nats-server: requests keep getting replies over MQTT within 5 s; restart it: the member is back on NATS", async (t) => {
  const [nats, mqtt] = [await startNatsServer(t), await startAedes(t)];
  const logger = silentLogger();
  const catalog = contractCatalog();

  // The hub side: one responder per broker, counting how often each request id reached it.
  const hubMetrics = new MetricsRegistry();
  const atResponder = new Map<string, number>();
  const hub: Transport[] = [new NatsTransport({ servers: nats.url, catalog, logger, metrics: hubMetrics }), new MqttTransport({ url: mqtt.url, catalog, logger, metrics: hubMetrics })];
  t.after(() => Promise.all(hub.map((h) => h.close())));
  for (const h of hub) {
    await h.connect(AbortSignal.timeout(5000));
    await h.subscribe(SUBJECT, async (m) => {
      atResponder.set(m.envelope.id, (atResponder.get(m.envelope.id) ?? 0) + 1);
      await delay(REPLY_DELAY_MS);
      h.reply(m, echoReply(m.envelope)); // a throw (link gone meanwhile) is contained by the adapter
    });
  }

  // The member: its failover link from a hub URL list, and its bus with the link events.
  const metrics = new MetricsRegistry();
  const urls = parseHubUrls(`${nats.url},${mqtt.url}`);
  const member = new FailoverTransport({
    logger, metrics,
    candidates: hubCandidates(urls, (u) => u.transport === "nats"
      ? new NatsTransport({ servers: u.url, catalog, logger, metrics })
      : new MqttTransport({ url: u.url, catalog, logger, metrics })),
  });
  const bus = new LocalBus({ catalog: precompiledCatalog(), logger, metrics, source: "agent://member/tv" });
  const linkEvents: Envelope[] = [];
  bus.subscribe("link.>", (e) => void linkEvents.push(e));
  const events = new LinkEvents({ link: member, bus, nodeId: "tv", logger });
  await events.start(AbortSignal.timeout(1000));
  await member.connect(AbortSignal.timeout(10_000));
  t.after(async () => {
    await member.close();
    await events.stop();
    await bus.stop();
  });
  assert.equal(member.link?.transport, "nats");

  const sent: Sent[] = [];
  const loop = setInterval(() => {
    const request = echo(sent.length);
    const s: Sent = { id: request.id, at: Date.now(), settled: 0 };
    sent.push(s);
    member.request(SUBJECT, request, { timeoutMs: REQUEST_TIMEOUT_MS }).then(
      (reply) => Object.assign(s, { repliedAt: Date.now(), causation: reply.envelope.causation_id, settled: s.settled + 1 }),
      (error: Error) => Object.assign(s, { error, settled: s.settled + 1 }),
    );
  }, REQUEST_EVERY_MS);
  t.after(() => clearInterval(loop));
  const replied = (): number => sent.filter((s) => s.repliedAt !== undefined).length;

  await waitFor("replies over NATS", () => replied() >= 20 || undefined);
  const killedAt = Date.now();
  await nats.kill();
  await waitFor("the member on MQTT", () => (member.link?.transport === "mqtt" && member.link.up) || undefined, MAX_FALLBACK_MS);
  const fallbackMs = Date.now() - killedAt;
  await delay(1000);

  await nats.start();
  const restartedAt = Date.now();
  await waitFor("the member back on NATS", () => (member.link?.transport === "nats" && member.link.up) || undefined, MAX_RETURN_MS);
  const returnMs = Date.now() - restartedAt;
  await delay(500);
  clearInterval(loop);
  await waitFor("every request settled", () => sent.every((s) => s.settled > 0) || undefined, REQUEST_TIMEOUT_MS + 1000);

  const times = sent.flatMap((s) => (s.repliedAt === undefined ? [] : [s.repliedAt])).sort((a, z) => a - z);
  const gaps = times.slice(1).map((at, i) => at - (times[i] ?? at));
  const longestGap = Math.max(...gaps);
  const failed = sent.filter((s) => s.error !== undefined);
  const retried = [...atResponder.values()].filter((n) => n > 1).length;
  console.log(`# ${sent.length} requests, ${times.length} replies, ${failed.length} failed; ${retried} reached the responder twice (same id)`);
  console.log(`# on MQTT ${fallbackMs} ms after nats-server was killed; back on NATS ${returnMs} ms after it restarted; longest gap between replies ${longestGap} ms`);

  assert.ok(longestGap < MAX_FALLBACK_MS, `longest gap ${longestGap} ms`);
  assert.deepEqual(failed.map((s) => s.error?.message), [], "no request failed");
  assert.ok(sent.every((s) => s.settled === 1 && s.causation === s.id), "each request got exactly one reply, its own");
  assert.ok(retried > 0, "requests in flight at the cut were sent again with the same id (what dedup downstream relies on)");
  const kinds = linkEvents.map((e) => `${e.event_name}:${(e.payload as { transport: string }).transport}`);
  assert.deepEqual(kinds, ["link.up:nats", "link.down:nats", "link.fallback:mqtt", "link.up:mqtt", "link.fallback:nats", "link.up:nats"]);
  assert.equal(metrics.counter("adaos_link_switches_total", "").get({ from: "nats", to: "mqtt" }), 1);
  assert.equal(metrics.counter("adaos_link_switches_total", "").get({ from: "mqtt", to: "nats" }), 1);
  assert.deepEqual([metrics.gauge("adaos_link_active", "").get({ transport: "nats" }), metrics.gauge("adaos_link_active", "").get({ transport: "mqtt" })], [1, 0]);
});
