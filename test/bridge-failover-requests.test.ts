/**
 * The failover show of link-failover-requests.test.ts through the whole stack, in-process, over a
 * real nats-server and a real aedes. The hub is a bus with two bridges (one per broker) sharing
 * one answer cache, and a handler that answers scenario.run after 100 ms. The member is a bus
 * whose MemberHubLink bridges it over a FailoverTransport (NATS first, MQTT second); it sends a
 * bus request to the hub every 20 ms, so several are in flight at every cut and switch.
 *
 * Kill nats-server: the member is on MQTT within 5 s, the longest gap between replies stays under
 * 5 s, every request gets exactly one reply (its own), none fails, and the hub's handler ran each
 * request id once: a request sent again on the other link (same id) got the cached answer.
 * Start nats-server again: the member is back on NATS within the switch-back bound.
 */
import { strict as assert } from "node:assert";
import { test } from "node:test";
import { setTimeout as delay } from "node:timers/promises";
import type { Envelope } from "../abi/envelope.js";
import { MemberHubLink } from "../agent/app/member-hub-link.js";
import { AnswerCache } from "../agent/bridge/answer-cache.js";
import { Bridge } from "../agent/bridge/bridge.js";
import { hubRoutes, memberRoutes } from "../agent/bridge/routes.js";
import { INBOX_PREFIX, LocalBus } from "../agent/bus/local-bus.js";
import { systemClock } from "../agent/core/clock.js";
import { createEnvelope } from "../agent/core/envelope.js";
import { silentLogger } from "../agent/core/logger.js";
import { MetricsRegistry } from "../agent/core/metrics.js";
import { FailoverTransport } from "../agent/link/failover-transport.js";
import { parseHubUrls } from "../agent/link/hub-urls.js";
import { hubCandidates } from "../agent/link/link.js";
import { LinkEvents } from "../agent/link/link-events.js";
import { HEALTHY_PERIOD_MS, PROBE_CONNECT_TIMEOUT_MS, PROBE_MAX_MS } from "../agent/link/timing.js";
import { precompiledCatalog } from "../agent/registry/precompiled.js";
import { MqttTransport } from "../agent/transport/mqtt.js";
import { NatsTransport } from "../agent/transport/nats.js";
import type { Transport } from "../agent/transport/transport.js";
import { startAedes } from "./aedes-broker.js";
import { waitFor } from "./helpers.js";
import { startNatsServer } from "./nats-server.js";

const HUB = "hub-1";
const MEMBER = "tv";
const REQUEST_EVERY_MS = 20;
/** Each request's own timeout (and the bridges'): longer than grace + fallback dial, so none needs to fail. */
const REQUEST_TIMEOUT_MS = 5000;
/** The bound: on MQTT within 5 s of NATS dying, and no longer gap between replies. */
const MAX_FALLBACK_MS = 5000;
/** Worst case back to NATS: a probe waits at most PROBE_MAX_MS, dials, then the link must stay up. */
const MAX_RETURN_MS = PROBE_MAX_MS + PROBE_CONNECT_TIMEOUT_MS + HEALTHY_PERIOD_MS;
/** The hub's handler takes this long, so several requests are in flight when a link is cut or switched. */
const REPLY_DELAY_MS = 100;
/** Stopping a bridge flushes its transport; with a broker gone that waits until the transport is closed. */
const STOP_BOUND_MS = 3000;
const SCENARIO = "movie-night";

interface Sent {
  readonly id: string;
  readonly runId: string;
  repliedAt?: number;
  reply?: Envelope;
  settled: number;
  error?: Error;
}

/** A scenario.run addressed to the hub, as the member's API would send it. */
const runCommand = (runId: string): Envelope =>
  createEnvelope({ event_name: "scenario.run", version: 1, kind: "command", source: `api@${MEMBER}`, headers: { target: HUB }, payload: { id: SCENARIO, run_id: runId } });

/** Wait for `p`, but no longer than `ms` (the cleanup step after it then unblocks it). */
async function boundedBy(ms: number, p: Promise<unknown>): Promise<void> {
  const giveUp = new AbortController();
  try {
    await Promise.race([p, delay(ms, undefined, { signal: giveUp.signal })]);
  } finally {
    giveUp.abort();
  }
}

test("through bridges and buses: kill nats-server and requests keep their one reply over MQTT, answered once by the hub; restart it and the member is back on NATS", async (t) => {
  // One after-hook that stops everything in reverse order of start, before the brokers (their own
  // hooks, registered later, run after this one).
  const cleanup: (() => unknown)[] = [];
  t.after(async () => {
    const errors: unknown[] = [];
    for (const step of cleanup.reverse()) await Promise.resolve().then(step).catch((err: unknown) => errors.push(err));
    if (errors.length > 0) throw new AggregateError(errors, "cleanup failed");
  });
  const [nats, mqtt] = [await startNatsServer(t), await startAedes(t)];
  const logger = silentLogger();
  const catalog = precompiledCatalog();

  // ---- the hub: one bus, a bridge per broker, one answer cache for both ----
  const hubMetrics = new MetricsRegistry();
  const hubBus = new LocalBus({ catalog, logger, metrics: hubMetrics, source: `agent://hub/${HUB}` });
  const hubTransports: Transport[] = [
    new NatsTransport({ servers: nats.url, catalog, logger, metrics: hubMetrics }),
    new MqttTransport({ url: mqtt.url, catalog, logger, metrics: hubMetrics }),
  ];
  const answers = new AnswerCache(systemClock);
  const bridges = hubTransports.map((transport) => new Bridge({
    bus: hubBus, transport, nodeId: HUB, routes: hubRoutes(HUB, []), logger, metrics: hubMetrics, catalog, answers, requestTimeoutMs: REQUEST_TIMEOUT_MS,
  }));
  cleanup.push(async () => {
    const stopped = Promise.all(bridges.map((b) => b.stop()));
    await boundedBy(STOP_BOUND_MS, stopped);
    await Promise.all(hubTransports.map((h) => h.close()));
    await stopped;
    await hubBus.stop();
  });
  for (const h of hubTransports) await h.connect(AbortSignal.timeout(5000));
  for (const b of bridges) await b.start();

  // The hub's handler: counts how often each request id reached it, answers 100 ms later.
  const runs = new Map<string, number>();
  const replyTimers = new Set<NodeJS.Timeout>();
  cleanup.push(() => replyTimers.forEach((timer) => clearTimeout(timer)));
  hubBus.subscribe("scenario.run", (e) => {
    runs.set(e.id, (runs.get(e.id) ?? 0) + 1);
    const { id, run_id } = e.payload as { id: string; run_id: string };
    const timer = setTimeout(() => {
      replyTimers.delete(timer);
      try {
        hubBus.reply(e, { event_name: "scenario.run.result", version: 1, payload: { ok: true, scenario_id: id, run_id, status: "running" } });
      } catch (err) {
        logger.warn({ err, id: e.id }, "the hub could not reply (bus stopped)");
      }
    }, REPLY_DELAY_MS);
    replyTimers.add(timer);
  });

  // ---- the member: its bus, its failover link from the hub URL list, the bridge over it ----
  const metrics = new MetricsRegistry();
  const bus = new LocalBus({ catalog, logger, metrics, source: `agent://member/${MEMBER}` });
  const transport = new FailoverTransport({
    logger, metrics,
    candidates: hubCandidates(parseHubUrls(`${nats.url},${mqtt.url}`), (u) => u.transport === "nats"
      ? new NatsTransport({ servers: u.url, catalog, logger, metrics })
      : new MqttTransport({ url: u.url, catalog, logger, metrics })),
  });
  const link = new MemberHubLink({ transport, bus, nodeId: MEMBER, routes: memberRoutes(MEMBER, HUB), logger, metrics, catalog, requestTimeoutMs: REQUEST_TIMEOUT_MS });
  const events = new LinkEvents({ link: transport, bus, nodeId: MEMBER, logger });
  const linkEvents: Envelope[] = [];
  bus.subscribe("link.>", (e) => void linkEvents.push(e));
  // Every reply that reaches the member's bus, by the request it answers (its inbox is _inbox.<request id>).
  const repliesOnBus = new Map<string, number>();
  bus.subscribe(`${INBOX_PREFIX}.>`, (_e, subject) => {
    const id = subject.slice(INBOX_PREFIX.length + 1);
    repliesOnBus.set(id, (repliesOnBus.get(id) ?? 0) + 1);
  });
  cleanup.push(async () => {
    await boundedBy(STOP_BOUND_MS, link.stop());
    await transport.close();
    await events.stop();
    await bus.stop();
  });
  await events.start(AbortSignal.timeout(1000));
  await link.start();

  // The bridge joins the bus once the link is up; until then a request has no responder.
  const warmUps: string[] = [];
  await waitFor("the member's first request answered by the hub", async () => {
    const command = runCommand(`warm-up-${warmUps.length}`);
    warmUps.push(command.id);
    return (await bus.request(command, { timeoutMs: REQUEST_TIMEOUT_MS })).kind === "reply";
  });
  assert.equal(transport.link?.transport, "nats");

  const sent: Sent[] = [];
  const loop = setInterval(() => {
    const runId = `run-${sent.length}`;
    const command = runCommand(runId);
    const s: Sent = { id: command.id, runId, settled: 0 };
    sent.push(s);
    bus.request(command, { timeoutMs: REQUEST_TIMEOUT_MS }).then(
      (reply) => Object.assign(s, { repliedAt: Date.now(), reply, settled: s.settled + 1 }),
      (error: Error) => Object.assign(s, { error, settled: s.settled + 1 }),
    );
  }, REQUEST_EVERY_MS);
  cleanup.push(() => clearInterval(loop));
  const replied = (): number => sent.filter((s) => s.repliedAt !== undefined).length;

  await waitFor("replies over NATS", () => replied() >= 20 || undefined);
  const killedAt = Date.now();
  await nats.kill();
  await waitFor("the member on MQTT", () => (transport.link?.transport === "mqtt" && transport.link.up) || undefined, MAX_FALLBACK_MS);
  const fallbackMs = Date.now() - killedAt;
  await delay(1000);

  await nats.start();
  const restartedAt = Date.now();
  await waitFor("the member back on NATS", () => (transport.link?.transport === "nats" && transport.link.up) || undefined, MAX_RETURN_MS);
  const returnMs = Date.now() - restartedAt;
  await delay(500);
  clearInterval(loop);
  await waitFor("every request settled", () => sent.every((s) => s.settled > 0) || undefined, REQUEST_TIMEOUT_MS + 1000);

  // ---- the figures ----
  const times = sent.flatMap((s) => (s.repliedAt === undefined ? [] : [s.repliedAt])).sort((a, z) => a - z);
  const longestGap = Math.max(...times.slice(1).map((at, i) => at - (times[i] ?? at)));
  const failed = sent.filter((s) => s.error !== undefined);
  const handlerRuns = [...runs.values()].reduce((a, n) => a + n, 0);
  const hubRequests = (outcome: string): number => hubMetrics.counter("adaos_bridge_requests_total", "").get({ direction: "in", outcome }) ?? 0;
  const repeats = hubRequests("repeat");
  const retries = ["nats", "mqtt"].map((tr) => metrics.counter("adaos_link_request_retries_total", "").get({ transport: tr }) ?? 0);
  const resent = retries.reduce((a, n) => a + n, 0);
  t.diagnostic(`${sent.length} requests, ${times.length} answered, ${failed.length} failed (after ${warmUps.length} warm-up tries while the bridge joined)`);
  t.diagnostic(`on MQTT ${fallbackMs} ms after nats-server was killed; back on NATS ${returnMs} ms after it restarted; longest gap between replies ${longestGap} ms`);
  t.diagnostic(`hub handler ran ${handlerRuns} times for ${runs.size} distinct ids; ${repeats} repeats served from the answer cache; member resent ${resent} (on nats ${retries[0]}, on mqtt ${retries[1]})`);
  t.diagnostic(`hub replies: ok ${hubRequests("ok")}, reply_failed ${hubRequests("reply_failed")}, error ${hubRequests("error")}, unanswered ${hubRequests("unanswered")}`);

  // ---- the member saw what it should ----
  assert.ok(fallbackMs < MAX_FALLBACK_MS, `on MQTT after ${fallbackMs} ms`);
  assert.ok(longestGap < MAX_FALLBACK_MS, `longest gap ${longestGap} ms`);
  assert.deepEqual(failed.map((s) => `${s.runId}: ${s.error?.message}`), [], "no request failed");
  for (const s of sent) {
    assert.equal(s.settled, 1, `${s.runId} settled once`);
    assert.equal(s.reply?.causation_id, s.id, `${s.runId}: the reply is caused by its own request`);
    assert.equal(s.reply.event_name, "scenario.run.result");
    assert.deepEqual(s.reply.payload, { ok: true, scenario_id: SCENARIO, run_id: s.runId, status: "running" });
    assert.equal(repliesOnBus.get(s.id), 1, `${s.runId}: exactly one reply reached the member's bus`);
  }
  assert.equal(metrics.counter("adaos_bus_duplicates_total", "").get() ?? 0, 0, "no reply reached the member's bus twice");

  // ---- the hub ran each request once; the repeats were answered from the cache ----
  assert.deepEqual([...runs].filter(([, n]) => n !== 1), [], "the hub's handler ran each request id at most once");
  assert.ok(sent.every((s) => runs.get(s.id) === 1), "every request reached the hub's handler");
  const asked = new Set([...warmUps, ...sent.map((s) => s.id)]);
  assert.deepEqual([...runs.keys()].filter((id) => !asked.has(id)), [], "the handler saw only the requests sent");
  assert.ok(repeats > 0, "requests in flight at a cut or switch were sent again (same id) and answered from the cache");
  assert.ok(repeats <= resent, `repeats at the hub (${repeats}) come only from the member's resends (${resent})`);
  assert.equal(hubMetrics.counter("adaos_bus_duplicates_total", "").get() ?? 0, 0, "no resend was refused by the hub's bus as a duplicate");

  // ---- the link story ----
  const kinds = linkEvents.map((e) => `${e.event_name}:${(e.payload as { transport: string }).transport}`);
  assert.deepEqual(kinds, ["link.up:nats", "link.down:nats", "link.fallback:mqtt", "link.up:mqtt", "link.fallback:nats", "link.up:nats"]);
  assert.equal(metrics.counter("adaos_link_switches_total", "").get({ from: "nats", to: "mqtt" }), 1);
  assert.equal(metrics.counter("adaos_link_switches_total", "").get({ from: "mqtt", to: "nats" }), 1);
});
