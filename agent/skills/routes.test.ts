/**
 * Tests of routes.ts: the route mounted on a tiny node:http server (the API server's job is not
 * under test here), with a real ToolsService over fake local tools and, for the proxy, a real
 * member stand-in. Body checks, the answer shapes with trace_id, the status of each code, the
 * proxied answer passed through, and the X-AdaOS-Proxied header honoured.
 */
import { strict as assert } from "node:assert";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { test, type TestContext } from "node:test";
import { silentLogger } from "../core/logger.js";
import { parseCallBody, toolRoutes } from "./routes.js";
import { FakeLocal, node, startMember, subnetOf } from "./test-fixture.js";
import { ToolsService } from "./tools-proxy.js";

const MAX_BODY = 4096;

interface Answer {
  readonly status: number;
  readonly text: string;
  readonly body: { ok?: boolean; result?: unknown; trace_id?: string; error?: { code: string; message: string; issues?: { pointer: string; message: string }[] } };
}

async function mount(t: TestContext, tools: ToolsService): Promise<string> {
  const [route] = toolRoutes({ tools, maxBodyBytes: MAX_BODY, logger: silentLogger() });
  assert.ok(route !== undefined);
  assert.equal(route.method, "POST");
  assert.equal(route.path, "/api/tools/call");
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://localhost");
    if (req.method !== route.method || url.pathname !== route.path) return void res.writeHead(404).end();
    void Promise.resolve(route.handler(req, res, { url }));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  t.after(() => {
    server.closeAllConnections();
    server.close();
  });
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/tools/call`;
}

function local(t: TestContext, fake = new FakeLocal(["echo"])): Promise<string> {
  return mount(t, new ToolsService({ local: fake, selfNodeId: "hub", token: "t", defaultTimeoutMs: 1000, logger: silentLogger() }));
}

async function post(url: string, body: unknown, headers: Record<string, string> = {}): Promise<Answer> {
  const res = await fetch(url, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: typeof body === "string" ? body : JSON.stringify(body) });
  const text = await res.text();
  return { status: res.status, text, body: JSON.parse(text) as Answer["body"] };
}

const UUID7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

test("200 {ok: true, result, trace_id}; trace_id is request_id, else a new UUIDv7; absent arguments go on as {}", async (t) => {
  const fake = new FakeLocal(["echo"]);
  const url = await local(t, fake);
  const given = await post(url, { tool: "echo:say", arguments: { text: "hi" }, timeout: 500, idempotency_key: "k", request_id: "req-1" });
  assert.equal(given.status, 200);
  assert.deepEqual(given.body, { ok: true, result: { echo: { text: "hi" } }, trace_id: "req-1" });
  assert.deepEqual(fake.calls[0], { tool: "echo:say", arguments: { text: "hi" }, timeout: 500, idempotency_key: "k", request_id: "req-1" });
  const bare = await post(url, { tool: "echo:say" });
  assert.equal(bare.status, 200);
  assert.match(bare.body.trace_id ?? "", UUID7);
  assert.deepEqual(fake.calls[1], { tool: "echo:say", arguments: {}, request_id: bare.body.trace_id });
});

test("errors: {ok: false, error: {code, message}, trace_id} with the code's status; the request_id is the trace_id", async (t) => {
  const url = await local(t);
  const missing = await post(url, { tool: "weather:now", request_id: "req-9" });
  assert.equal(missing.status, 404);
  assert.deepEqual(missing.body, { ok: false, error: { code: "E_NOT_FOUND", message: 'this node has no skill "weather" (its skills: echo)' }, trace_id: "req-9" });
});

test("bad bodies are 400 with a pointer per problem, every problem listed; nothing is called", async (t) => {
  const fake = new FakeLocal(["echo"]);
  const url = await local(t, fake);
  const cases: [unknown, string, RegExp][] = [
    [{}, "/tool", /is required/],
    [{ tool: "echo:say", colour: "red" }, "/colour", /not allowed/],
    [{ tool: "echo:say", context: {} }, "/context", /not allowed/],
    [{ tool: "echo" }, "/tool", /pattern/],
    [{ tool: "Echo:say" }, "/tool", /pattern/],
    [{ tool: 7 }, "/tool", /must be string/],
    [{ tool: "echo:say", arguments: [1] }, "/arguments", /must be object/],
    [{ tool: "echo:say", arguments: null }, "/arguments", /must be object/],
    [{ tool: "echo:say", timeout: 0 }, "/timeout", />= 1/],
    [{ tool: "echo:say", timeout: 600_001 }, "/timeout", /<= 600000/],
    [{ tool: "echo:say", timeout: 1.5 }, "/timeout", /must be integer/],
    [{ tool: "echo:say", timeout: "5" }, "/timeout", /must be integer/],
    [{ tool: "echo:say", idempotency_key: "" }, "/idempotency_key", /fewer than 1/],
    [{ tool: "echo:say", idempotency_key: "k".repeat(201) }, "/idempotency_key", /more than 200/],
    [{ tool: "echo:say", request_id: "r".repeat(201) }, "/request_id", /more than 200/],
    [{ tool: "echo:say", request_id: "line\nbreak" }, "/request_id", /pattern/],
  ];
  for (const [body, pointer, message] of cases) {
    const res = await post(url, body);
    assert.equal(res.status, 400, JSON.stringify(body));
    assert.equal(res.body.ok, false);
    assert.equal(res.body.error?.code, "E_BAD_REQUEST");
    assert.match(res.body.trace_id ?? "", UUID7, "a bad body still gets a trace id");
    const issue = res.body.error?.issues?.find((i) => i.pointer === pointer);
    assert.ok(issue !== undefined && message.test(issue.message), `${JSON.stringify(body)}: ${JSON.stringify(res.body.error)}`);
  }
  const many = await post(url, { tool: 1, timeout: "x", extra: true });
  assert.deepEqual(many.body.error?.issues?.map((i) => i.pointer).sort(), ["/extra", "/timeout", "/tool"]);
  assert.equal(fake.calls.length, 0);
});

test("malformed JSON, a non-object and an empty body are 400; an oversized body is 413 and the connection closes", async (t) => {
  const url = await local(t);
  for (const body of ["{tool:", "[1]", '"echo:say"', ""]) {
    const res = await post(url, body);
    assert.equal(res.status, 400, body);
    assert.equal(res.body.error?.code, "E_BAD_REQUEST");
  }
  const big = await fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ tool: "echo:say", arguments: { pad: "x".repeat(MAX_BODY) } }) });
  assert.equal(big.status, 413);
  assert.equal(big.headers.get("connection"), "close");
  assert.equal(((await big.json()) as Answer["body"]).error?.code, "E_PAYLOAD_TOO_LARGE");
});

test("a proxied call: the member's status and body pass through unchanged; X-AdaOS-Proxied on the request keeps it here", async (t) => {
  const memberBody = '{"ok":false,"error":{"code":"E_INTERNAL","message":"weather:now exited with status 1"},"trace_id":"req-5"}';
  const member = await startMember(t, (_r, res) => res.writeHead(500, { "content-type": "application/json" }).end(memberBody));
  const tools = new ToolsService({
    local: new FakeLocal(["echo"]),
    subnet: subnetOf([node("tv", { base_url: member.url, skills: [{ name: "weather", active: true }] })]),
    selfNodeId: "hub",
    token: "subnet-token",
    defaultTimeoutMs: 1000,
    logger: silentLogger(),
  });
  const url = await mount(t, tools);
  const res = await post(url, { tool: "weather:now", request_id: "req-5" });
  assert.equal(res.status, 500);
  assert.equal(res.text, memberBody);
  assert.equal((JSON.parse(member.received[0]?.body ?? "{}") as { request_id?: string }).request_id, "req-5");
  const guarded = await post(url, { tool: "weather:now" }, { "X-AdaOS-Proxied": "1" });
  assert.equal(guarded.status, 404);
  assert.equal(member.received.length, 1, "not forwarded again");
});

test("parseCallBody: the body as it came when valid", () => {
  const body = { tool: "weather:now", arguments: { city: "Oslo" }, timeout: 600_000, idempotency_key: "k", request_id: "r" };
  assert.deepEqual(parseCallBody(body), body);
  assert.throws(() => parseCallBody({ tool: "weather:now", dev: true }), /invalid tool call: \/dev is not allowed/);
});
