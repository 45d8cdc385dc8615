/**
 * Request/reply across the bridge, on the in-memory fake transport: a member's bus request
 * addressed to its hub goes as a transport request on ada.hub.{H}.req.<event_name> and its reply
 * resolves the caller; the hub asks its own bus and sends the reply back; a request nobody answers
 * gets an error reply only when the command's reply event can carry one; hub → member works the
 * same way over ada.agent.{T}.cmd.
 */
import { strict as assert } from "node:assert";
import { test } from "node:test";
import type { Envelope } from "../../abi/envelope.js";
import { LocalBus } from "../bus/local-bus.js";
import { ManualClock } from "../core/clock.js";
import { createEnvelope, deriveEnvelope, type EnvelopeInit } from "../core/envelope.js";
import { TimeoutError } from "../core/errors.js";
import { silentLogger } from "../core/logger.js";
import { MetricsRegistry } from "../core/metrics.js";
import { FakeBroker, FakeTransport } from "../link/fake-transport.js";
import { compileRules, mayPublish, NO_GRANTS } from "../broker/policy.js";
import { matches, patternTokens, subjectTokens } from "../bus/subject.js";
import { memberPermissions } from "../natsd/permissions.js";
import { MemoryCatalog, entry } from "../registry/memory-catalog.js";
import { topicOf } from "../transport/names.js";
import { AnswerCache } from "./answer-cache.js";
import { Bridge, type BridgeOptions } from "./bridge.js";
import { hubRoutes, memberRoutes, type BridgeRoutes } from "./routes.js";

const ERROR = { type: "object", required: ["code", "message"], properties: { code: { type: "string" }, message: { type: "string" } } };
const catalog = new MemoryCatalog([
  { entry: entry("test.ask", "command", { reply: "test.ask.result@1" }), schema: { type: "object", required: ["q"], properties: { q: { type: "string" } } } },
  // Follows the registry's result convention: {ok, error} with nothing else required.
  { entry: entry("test.ask.result", "reply"), schema: { type: "object", properties: { ok: { type: "boolean" }, answer: { type: "string" }, error: ERROR }, additionalProperties: false } },
  { entry: entry("test.strict", "command", { reply: "test.strict.result@1" }), schema: { type: "object" } },
  // Needs a field only the real handler can fill: no error reply is possible.
  { entry: entry("test.strict.result", "reply"), schema: { type: "object", required: ["answer"], properties: { answer: { type: "string" } } } },
]);

const HUB = "hub-1";
const tick = () => new Promise((r) => setImmediate(r));

async function until<T>(what: string, probe: () => T | undefined, ms = 2000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** The bus's timers do not keep the process alive (core/clock.ts): hold it open while a request times out. */
async function timesOut(request: Promise<unknown>): Promise<void> {
  const keepAlive = setTimeout(() => undefined, 5000);
  try {
    await assert.rejects(request, TimeoutError);
  } finally {
    clearTimeout(keepAlive);
  }
}

interface Asked {
  readonly subject: string;
  readonly envelope: Envelope;
  readonly timeoutMs: number;
}

/** `errorReplies` false: the bridge gets no catalog, so it cannot build error replies. */
async function node(id: string, role: "hub" | "member", routes: BridgeRoutes, extra: Partial<BridgeOptions> = {}, errorReplies = true) {
  const metrics = new MetricsRegistry();
  const bus = new LocalBus({ catalog, logger: silentLogger(), metrics, source: `agent://${role}/${id}` });
  const clock = new ManualClock();
  const broker = new FakeBroker("nats", "nats://hub:4222", clock);
  const transport = new FakeTransport(broker);
  const asked: Asked[] = [];
  const request = transport.request.bind(transport);
  transport.request = (subject, envelope, options) => {
    asked.push({ subject, envelope, timeoutMs: options.timeoutMs });
    return request(subject, envelope, options);
  };
  await transport.connect(AbortSignal.timeout(1000));
  const bridge = new Bridge({ bus, transport, nodeId: id, routes, logger: silentLogger(), metrics, ...(errorReplies ? { catalog } : {}), ...extra });
  await bridge.start();
  const requests = (labels: Record<string, string>) => metrics.counter("adaos_bridge_requests_total", "").get(labels);
  return { bus, broker, clock, transport, asked, requests };
}

const ask = (source: string, target: string | undefined, extra: Partial<EnvelopeInit> = {}, event = "test.ask"): Envelope =>
  createEnvelope({
    event_name: event, version: 1, kind: "command", source, payload: event === "test.ask" ? { q: "time?" } : {},
    ...(target === undefined ? {} : { headers: { target } }), ...extra,
  });

const answer = (request: Envelope, from: string) =>
  deriveEnvelope(request, { event_name: "test.ask.result", version: 1, kind: "reply", source: from, payload: { ok: true, answer: "noon" } });

test("member → hub: a bus request addressed to the hub (by id or as `hub`) is a transport request on ada.hub.{H}.req.<event>, and its reply resolves the caller", async () => {
  const tv = await node("tv", "member", memberRoutes("tv", HUB), { requestTimeoutMs: 1234 });
  tv.broker.responder = (request) => answer(request, `agent://hub/${HUB}`);

  for (const target of [HUB, "hub"]) {
    const request = ask("api@tv", target);
    const reply = await tv.bus.request(request, { timeoutMs: 1000 });
    assert.equal(reply.kind, "reply");
    assert.equal(reply.causation_id, request.id);
    assert.deepEqual(reply.payload, { ok: true, answer: "noon" });
    const sent = tv.asked.at(-1);
    assert.equal(sent?.subject, `ada.hub.${HUB}.req.test.ask`);
    assert.equal(sent.envelope.id, request.id, "the same envelope, so the trace and the responder's dedup hold");
    assert.equal(sent.envelope.headers.reply_to, undefined, "the bus's own inbox does not leave the node");
    assert.equal(sent.timeoutMs, 1234, "no ttl: the bridge's request timeout");
  }

  // With a ttl the transport request waits no longer than what is left of it.
  await tv.bus.request(ask("api@tv", HUB, { ttl_ms: 800 }), { timeoutMs: 1000 });
  const last = tv.asked.at(-1);
  assert.ok(last !== undefined && last.timeoutMs <= 800 && last.timeoutMs > 0, `timeout ${last?.timeoutMs}`);

  assert.equal(tv.requests({ direction: "out", outcome: "ok" }), 3);
  assert.equal(tv.broker.published.length, 0, "nothing was published besides the requests: no echo of the reply");
});

test("member: requests to another target, or to a hub whose id the member does not know, stay on its bus", async () => {
  const known = await node("tv", "member", memberRoutes("tv", HUB));
  await timesOut(known.bus.request(ask("api@tv", "speaker"), { timeoutMs: 30 }));
  await timesOut(known.bus.request(ask("api@tv", undefined), { timeoutMs: 30 }));
  const unknown = await node("tv", "member", memberRoutes("tv"));
  await timesOut(unknown.bus.request(ask("api@tv", "hub"), { timeoutMs: 30 }));
  assert.equal(known.asked.length + unknown.asked.length, 0);
});

test("member: a transport request that fails is counted by its code, and the caller's bus request times out on its own", async () => {
  const tv = await node("tv", "member", memberRoutes("tv", HUB), { requestTimeoutMs: 500 });
  const pending = timesOut(tv.bus.request(ask("api@tv", HUB), { timeoutMs: 100 }));
  await until("the bridge's transport request", () => tv.asked[0]);
  tv.clock.advance(500); // the fake transport's request times out on its broker's clock
  await tick();
  assert.equal(tv.requests({ direction: "out", outcome: "E_TIMEOUT" }), 1);
  await pending;
});

test("the member's request subject is one its hub's brokers let it publish (MQTT policy and NATS permissions)", () => {
  const rule = memberRoutes("tv", HUB).outbound[0];
  const subject = rule?.subject(ask("api@tv", "hub"));
  assert.equal(subject, `ada.hub.${HUB}.req.test.ask`);
  const tv = compileRules(HUB, { identity: { nodeId: "tv", role: "member", via: "credential", grants: NO_GRANTS }, clientId: "tv@agent" });
  assert.equal(mayPublish(tv, topicOf(subject)).allowed, true);
  assert.ok(memberPermissions("tv", HUB).publish.allow.some((p) => matches(patternTokens(p), subjectTokens(subject))));
});

test("hub: a request on ada.hub.{self}.req.> is asked on its bus, addressed to the hub, and the bus's reply goes back unchanged", async () => {
  const hub = await node(HUB, "hub", hubRoutes(HUB, []));
  const targets: (string | undefined)[] = [];
  let replied: Envelope | undefined;
  hub.bus.subscribe("test.ask", (e) => {
    targets.push(e.headers.target);
    replied = deriveEnvelope(e, { event_name: "test.ask.result", version: 1, kind: "reply", source: `api@${HUB}`, payload: { ok: true, answer: "noon" } });
    hub.bus.publish(replied, { subject: e.headers.reply_to ?? "nowhere" });
  });
  const request = ask("agent://member/tv", "hub");
  hub.transport.receive({ subject: `ada.hub.${HUB}.req.test.ask`, envelope: request, replyTo: "_INBOX.tv.1" });
  const back = await until("the reply on the wire", () => hub.broker.published.find((p) => p.subject === "_INBOX.tv.1"));
  assert.equal(back.envelope.id, replied?.id, "the hub bus's reply itself");
  assert.equal(back.envelope.causation_id, request.id);
  assert.deepEqual(targets, [HUB], "the alias became the hub's id: no bridge sends it on to a member named `hub`");
  assert.equal(hub.asked.length, 0);
  assert.equal(hub.requests({ direction: "in", outcome: "ok" }), 1);

  // A request that comes back to its own origin is dropped, not answered.
  hub.transport.receive({ subject: `ada.hub.${HUB}.req.test.ask`, envelope: ask(`api@${HUB}`, HUB), replyTo: "_INBOX.tv.2" });
  await new Promise((r) => setTimeout(r, 30));
  assert.equal(hub.broker.published.length, 1);
});

test("hub: with no handler, the requester gets an error reply only if the command's reply event can carry one", async () => {
  const hub = await node(HUB, "hub", hubRoutes(HUB, []), { requestTimeoutMs: 20 });
  const request = ask("agent://member/tv", HUB);
  hub.transport.receive({ subject: `ada.hub.${HUB}.req.test.ask`, envelope: request, replyTo: "_INBOX.tv.1" });
  const error = await until("the error reply", () => hub.broker.published.find((p) => p.subject === "_INBOX.tv.1"));
  assert.equal(error.envelope.event_name, "test.ask.result");
  assert.equal(error.envelope.kind, "reply");
  assert.equal(error.envelope.causation_id, request.id);
  assert.equal(error.envelope.headers.error_code, "E_TIMEOUT");
  assert.deepEqual((error.envelope.payload as { error?: { code: string } }).error?.code, "E_TIMEOUT");
  assert.equal(hub.requests({ direction: "in", outcome: "error" }), 1);

  // test.strict.result needs a field only a handler could fill: no reply, the requester times out.
  hub.transport.receive({ subject: `ada.hub.${HUB}.req.test.strict`, envelope: ask("agent://member/tv", HUB, {}, "test.strict"), replyTo: "_INBOX.tv.2" });
  await until("the request to end unanswered", () => hub.requests({ direction: "in", outcome: "unanswered" }) || undefined);
  assert.equal(hub.broker.published.length, 1);

  // Without the registry the bridge cannot build an error reply at all.
  const bare = await node(HUB, "hub", hubRoutes(HUB, []), { requestTimeoutMs: 20 }, false);
  bare.transport.receive({ subject: `ada.hub.${HUB}.req.test.ask`, envelope: ask("agent://member/tv", HUB), replyTo: "_INBOX.tv.3" });
  await until("the request to end unanswered", () => bare.requests({ direction: "in", outcome: "unanswered" }) || undefined);
  assert.equal(bare.broker.published.length, 0);
});

test("hub → member: a hub bus request addressed to a member goes on ada.agent.{T}.cmd, and the member answers a request from its bus", async () => {
  const hub = await node(HUB, "hub", hubRoutes(HUB, []));
  hub.broker.responder = (request) => answer(request, "agent://member/tv");
  const reply = await hub.bus.request(ask(`api@${HUB}`, "tv"), { timeoutMs: 1000 });
  assert.equal(reply.payload.answer, "noon");
  assert.equal(hub.asked[0]?.subject, "ada.agent.tv.cmd");

  const tv = await node("tv", "member", memberRoutes("tv", HUB));
  tv.bus.subscribe("test.ask", (e) => void tv.bus.reply(e, { event_name: "test.ask.result", version: 1, payload: { ok: true, answer: "tv time" } }));
  const request = ask(`agent://hub/${HUB}`, "tv");
  tv.transport.receive({ subject: "ada.agent.tv.cmd", envelope: request, replyTo: "_INBOX.hub-1.9" });
  const back = await until("the member's reply on the wire", () => tv.broker.published.find((p) => p.subject === "_INBOX.hub-1.9"));
  assert.equal(back.envelope.payload.answer, "tv time");
  assert.equal(back.envelope.causation_id, request.id);
  assert.equal(tv.asked.length, 0, "the member did not send the request it answers anywhere");
});

test("member → hub: a plain command addressed to the hub is published on the same subject and taken in by the hub", async () => {
  const tv = await node("tv", "member", memberRoutes("tv", HUB));
  const command = ask("api@tv", "hub");
  tv.bus.publish(command);
  const sent = await until("the command on the wire", () => tv.broker.published[0]);
  assert.equal(sent.subject, `ada.hub.${HUB}.req.test.ask`);

  const hub = await node(HUB, "hub", hubRoutes(HUB, []));
  const got: Envelope[] = [];
  hub.bus.subscribe("test.ask", (e) => void got.push(e));
  hub.transport.receive({ subject: sent.subject, envelope: sent.envelope, replyTo: undefined });
  await until("the hub to take it in", () => got[0]);
  assert.equal(got[0]?.headers.target, HUB);
  assert.equal(hub.broker.published.length + hub.asked.length, 0, "not sent on to anyone");
});

test("hub: a request sent again on its other link (same id, after a switch) gets the first answer; the handler runs once", async () => {
  const metrics = new MetricsRegistry();
  const clock = new ManualClock();
  const bus = new LocalBus({ catalog, logger: silentLogger(), metrics, source: `agent://hub/${HUB}` });
  const answers = new AnswerCache(clock);
  const links = await Promise.all(["nats", "mqtt"].map(async (name) => {
    const broker = new FakeBroker(name as "nats" | "mqtt", `${name}://hub`, clock);
    const transport = new FakeTransport(broker);
    await transport.connect(AbortSignal.timeout(1000));
    await new Bridge({ bus, transport, nodeId: HUB, routes: hubRoutes(HUB, []), logger: silentLogger(), metrics, catalog, answers }).start();
    return { broker, transport };
  }));
  let runs = 0;
  let release = (): void => undefined;
  bus.subscribe("test.ask", async (e) => {
    runs++;
    await new Promise<void>((r) => (release = r)); // still working when the resend arrives
    bus.reply(e, { event_name: "test.ask.result", version: 1, payload: { ok: true, answer: "noon" } });
  });
  const request = ask("agent://member/tv", HUB);
  const [nats, mqtt] = links as [(typeof links)[0], (typeof links)[0]];
  nats.transport.receive({ subject: `ada.hub.${HUB}.req.test.ask`, envelope: request, replyTo: "_INBOX.tv.1" });
  await until("the handler running", () => (runs === 1 ? true : undefined));
  mqtt.transport.receive({ subject: `ada.hub.${HUB}.req.test.ask`, envelope: request, replyTo: "_INBOX.tv.2" });
  await tick();
  release();
  const onMqtt = await until("the reply on the new link", () => mqtt.broker.published.find((p) => p.subject === "_INBOX.tv.2"));
  const onNats = await until("the reply on the old link", () => nats.broker.published.find((p) => p.subject === "_INBOX.tv.1"));
  assert.equal(onMqtt.envelope.id, onNats.envelope.id, "one answer, sent on both links");
  assert.equal(onMqtt.envelope.causation_id, request.id);
  assert.equal(runs, 1);
  assert.equal(metrics.counter("adaos_bridge_requests_total", "").get({ direction: "in", outcome: "repeat" }), 1);
});

test("answer cache: entries expire after their ttl and the oldest go beyond the bound", async () => {
  const clock = new ManualClock();
  const cache = new AnswerCache(clock, 1000, 2);
  const reply = createEnvelope({ event_name: "test.ask.result", version: 1, kind: "reply", source: "s", payload: { ok: true } });
  const ask1 = () => Promise.resolve(reply);
  assert.equal(cache.get("a", ask1).repeat, false);
  assert.equal(cache.get("a", ask1).repeat, true);
  cache.get("b", ask1);
  cache.get("c", ask1); // over the bound: "a" goes
  assert.equal(cache.get("a", ask1).repeat, false);
  clock.advance(1000);
  assert.equal(cache.get("c", ask1).repeat, false, "expired");
  await assert.doesNotReject(cache.get("z", () => Promise.reject(new Error("no"))).answer.catch(() => undefined));
});
