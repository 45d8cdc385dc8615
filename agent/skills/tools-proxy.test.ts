/**
 * Tests of tools-proxy.ts against real tiny HTTP servers standing in for members (port 0): the
 * local skill first, the member's answer returned byte for byte with its status, the headers and
 * body sent, failover past an unreachable or silent member, the X-AdaOS-Proxied guard, who counts
 * as a candidate and in which order, and the 404 and 503 answers.
 */
import { strict as assert } from "node:assert";
import { test } from "node:test";
import { InternalError, NoRespondersError, NotFoundError } from "../core/errors.js";
import { silentLogger } from "../core/logger.js";
import { MetricsRegistry } from "../core/metrics.js";
import type { SubnetNodeView } from "../directory/subnet-port.js";
import { deadUrl, failure, FakeLocal, node, startMember, subnetOf } from "./test-fixture.js";
import { PROXY_NETWORK_MARGIN_MS, ToolsService, type RankCandidates, type ToolsAnswer, type ToolsServiceOptions } from "./tools-proxy.js";

const TOKEN = "subnet-token-0123456789";
const WEATHER = [{ name: "weather", version: "1.0.0", active: true }];

function service(nodes: readonly SubnetNodeView[] | undefined, extra: Partial<ToolsServiceOptions> = {}): { tools: ToolsService; local: FakeLocal; metrics: MetricsRegistry } {
  const local = (extra.local as FakeLocal | undefined) ?? new FakeLocal(["echo"]);
  const metrics = new MetricsRegistry();
  const tools = new ToolsService({
    local,
    subnet: nodes === undefined ? undefined : subnetOf(nodes),
    selfNodeId: "hub",
    token: TOKEN,
    defaultTimeoutMs: 2000,
    logger: silentLogger(),
    metrics,
    ...extra,
  });
  return { tools, local, metrics };
}

function proxied(a: ToolsAnswer): { node_id: string; status: number; body: string } {
  assert.equal(a.kind, "proxied");
  return a.kind === "proxied" ? a : { node_id: "", status: 0, body: "" };
}

test("a skill this node has runs here; no member is asked", async (t) => {
  const member = await startMember(t, (_r, res) => res.writeHead(500).end("{}"));
  const { tools, local } = service([node("tv", { base_url: member.url, skills: [{ name: "echo" }] })]);
  const answer = await tools.call({ tool: "echo:say", arguments: { a: 1 }, request_id: "r1" }, { proxied: false });
  assert.deepEqual(answer, { kind: "local", answer: { ok: true, result: { echo: { a: 1 } }, trace_id: "r1" } });
  assert.equal(local.calls.length, 1);
  assert.equal(member.received.length, 0);
});

test("proxy: the member's answer comes back unchanged, byte for byte, an error status included", async (t) => {
  const okBody = '{"ok": true,  "result": {"temp": 21.5}, "trace_id": "r1", "member_extra": [1]}';
  const errBody = '{"ok":false,"error":{"code":"E_TIMEOUT","message":"weather:now did not finish"},"trace_id":"r2"}';
  const member = await startMember(t, (r, res) => {
    const timedOut = r.body.includes('"r2"');
    res.writeHead(timedOut ? 504 : 200, { "content-type": "application/json" }).end(timedOut ? errBody : okBody);
  });
  const { tools, metrics } = service([node("tv", { base_url: member.url, skills: WEATHER })]);
  assert.deepEqual(proxied(await tools.call({ tool: "weather:now", arguments: { city: "Oslo" }, request_id: "r1" }, { proxied: false })), { kind: "proxied", node_id: "tv", status: 200, body: okBody });
  assert.deepEqual(proxied(await tools.call({ tool: "weather:now", arguments: {}, request_id: "r2" }, { proxied: false })), { kind: "proxied", node_id: "tv", status: 504, body: errBody });
  assert.equal(metrics.counter("adaos_tool_proxy_attempts_total", "").get({ node: "tv", outcome: "answered" }), 2);
});

test("proxy: POST <base_url>/api/tools/call with the subnet token, X-AdaOS-Proxied: 1 and the body with timeout and request_id filled in", async (t) => {
  const member = await startMember(t, (_r, res) => res.writeHead(200).end('{"ok":true,"result":null,"trace_id":"x"}'));
  const { tools } = service([node("tv", { base_url: `${member.url}/`, skills: WEATHER })]);
  await tools.call({ tool: "weather:now", arguments: { city: "Oslo" }, idempotency_key: "k", request_id: "r1" }, { proxied: false });
  await tools.call({ tool: "weather:now", arguments: {}, timeout: 700, request_id: "r2" }, { proxied: false });
  const [first, second] = member.received;
  assert.equal(first?.headers["x-adaos-token"], TOKEN);
  assert.equal(first?.headers["x-adaos-proxied"], "1");
  assert.match(first?.headers["content-type"] ?? "", /^application\/json/);
  assert.deepEqual(JSON.parse(first?.body ?? ""), { tool: "weather:now", arguments: { city: "Oslo" }, idempotency_key: "k", request_id: "r1", timeout: 2000 });
  assert.deepEqual(JSON.parse(second?.body ?? ""), { tool: "weather:now", arguments: {}, request_id: "r2", timeout: 700 }, "the request's own timeout is kept");
});

test("proxy: an unreachable member is skipped (logged, counted) and the next one answers", async (t) => {
  const member = await startMember(t, (_r, res) => res.writeHead(200).end('{"ok":true,"result":"from media","trace_id":"r"}'));
  const nodes = [
    node("media", { base_url: member.url, skills: WEATHER, last_seen: 100 }),
    node("tv", { base_url: await deadUrl(), skills: WEATHER, last_seen: 200 }), // seen last: asked first
  ];
  const { tools, metrics } = service(nodes);
  const answer = proxied(await tools.call({ tool: "weather:now", request_id: "r" }, { proxied: false }));
  assert.equal(answer.node_id, "media");
  assert.equal(answer.status, 200);
  assert.equal(metrics.counter("adaos_tool_proxy_attempts_total", "").get({ node: "tv", outcome: "unreachable" }), 1);
});

test("proxy: a member that accepts but does not answer within timeout + margin counts as unreachable", async (t) => {
  const silent = await startMember(t, () => undefined);
  const member = await startMember(t, (_r, res) => res.writeHead(200).end('{"ok":true,"result":1,"trace_id":"r"}'));
  const nodes = [node("tv", { base_url: silent.url, skills: WEATHER, last_seen: 200 }), node("media", { base_url: member.url, skills: WEATHER, last_seen: 100 })];
  const { tools } = service(nodes);
  const started = Date.now();
  assert.equal(proxied(await tools.call({ tool: "weather:now", timeout: 100, request_id: "r" }, { proxied: false })).node_id, "media");
  const took = Date.now() - started;
  assert.ok(took >= 100 + PROXY_NETWORK_MARGIN_MS - 50 && took < 100 + PROXY_NETWORK_MARGIN_MS + 1000, `took ${took} ms`);
});

test("proxy: every candidate unreachable → NoRespondersError (503) naming the skill and each node tried", async (t) => {
  const silent = await startMember(t, () => undefined);
  const nodes = [node("tv", { base_url: await deadUrl(), skills: WEATHER, last_seen: 300 }), node("media", { base_url: silent.url, skills: WEATHER, last_seen: 200 })];
  const { tools } = service(nodes);
  const e = await failure(tools.call({ tool: "weather:now", timeout: 50 }, { proxied: false }));
  assert.ok(e instanceof NoRespondersError);
  assert.equal(e.message, `no node answered for skill "weather": tried tv (connection refused), media (no answer within ${50 + PROXY_NETWORK_MARGIN_MS} ms)`);
});

test("proxy: a call that was itself proxied (X-AdaOS-Proxied) runs only here, even when a member has the skill", async (t) => {
  const member = await startMember(t, (_r, res) => res.writeHead(200).end("{}"));
  const { tools, local } = service([node("tv", { base_url: member.url, skills: WEATHER })]);
  const e = await failure(tools.call({ tool: "weather:now" }, { proxied: true }));
  assert.ok(e instanceof NotFoundError);
  assert.equal(local.calls.length, 1);
  assert.equal(member.received.length, 0);
});

test("proxy: a member (no SubnetReader) never proxies: the local 404", async () => {
  const { tools, local } = service(undefined);
  assert.ok((await failure(tools.call({ tool: "weather:now" }, { proxied: false }))) instanceof NotFoundError);
  assert.equal(local.calls.length, 1);
});

test("no candidate → NotFoundError (404) with this node's skills and why holders were passed over; self, inactive and other skills never count", async (t) => {
  const member = await startMember(t, (_r, res) => res.writeHead(200).end("{}"));
  const nodes = [
    node("hub", { base_url: member.url, skills: WEATHER }), // this node itself
    node("tv", { base_url: member.url, skills: [{ name: "weather", active: false }] }),
    node("media", { base_url: member.url, skills: [{ name: "player" }] }),
    node("kiosk", { base_url: member.url, skills: WEATHER, online: false }),
    node("speaker", { base_url: null, skills: WEATHER }),
    { ...node("odd", { base_url: member.url }), capacity: "not an object" },
  ];
  const { tools } = service(nodes, { local: new FakeLocal(["echo", "clock"]) });
  const e = await failure(tools.call({ tool: "weather:now" }, { proxied: false }));
  assert.ok(e instanceof NotFoundError);
  assert.equal(e.message, 'no node in the subnet has skill "weather" (this node\'s skills: clock, echo); kiosk has it but is offline; speaker has it but announced no base_url');
  assert.equal(member.received.length, 0);
  const bare = await failure(service([]).tools.call({ tool: "weather:now" }, { proxied: false }));
  assert.equal(bare.message, 'no node in the subnet has skill "weather" (this node\'s skills: echo)');
});

test("rank: the injected order is used; nodes it adds are ignored; a rank that throws falls back to most recent first", async (t) => {
  const seen: string[] = [];
  const a = await startMember(t, (_r, res) => (seen.push("a"), res.writeHead(200).end('{"n":"a"}')));
  const b = await startMember(t, (_r, res) => (seen.push("b"), res.writeHead(200).end('{"n":"b"}')));
  const nodes = [node("a", { base_url: a.url, skills: WEATHER, last_seen: 200 }), node("b", { base_url: b.url, skills: WEATHER, last_seen: 100 })];
  const calls: string[] = [];
  const oldestFirst: RankCandidates = (cs, skill) => {
    calls.push(`${skill}:${cs.map((c) => c.node_id).join(",")}`);
    return [node("intruder", { base_url: "http://127.0.0.1:1", skills: WEATHER }), ...[...cs].sort((x, y) => x.last_seen - y.last_seen)];
  };
  assert.equal(proxied(await service(nodes, { rank: oldestFirst }).tools.call({ tool: "weather:now" }, { proxied: false })).node_id, "b");
  assert.deepEqual(calls, ["weather:a,b"]);
  const throwing: RankCandidates = () => {
    throw new Error("resolver broke");
  };
  assert.equal(proxied(await service(nodes, { rank: throwing }).tools.call({ tool: "weather:now" }, { proxied: false })).node_id, "a");
  assert.deepEqual(seen, ["b", "a"]);
});

test("a member that answers with something that is not JSON: InternalError, and nobody else is asked (the tool may have run)", async (t) => {
  const html = await startMember(t, (_r, res) => res.writeHead(502, { "content-type": "text/html" }).end("<h1>bad gateway</h1>"));
  const other = await startMember(t, (_r, res) => res.writeHead(200).end("{}"));
  const nodes = [node("tv", { base_url: html.url, skills: WEATHER, last_seen: 200 }), node("media", { base_url: other.url, skills: WEATHER, last_seen: 100 })];
  const e = await failure(service(nodes).tools.call({ tool: "weather:now" }, { proxied: false }));
  assert.ok(e instanceof InternalError);
  assert.equal(e.message, "member tv answered the tool call with status 502 and a body that is not JSON");
  assert.equal(other.received.length, 0);
});
