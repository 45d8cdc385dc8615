import { strict as assert } from "node:assert";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { Writable } from "node:stream";
import { test, type TestContext } from "node:test";
import { sendError, type Route } from "../api/http.js";
import { LocalBus } from "../bus/local-bus.js";
import { createEnvelope } from "../core/envelope.js";
import { NotFoundError, TimeoutError } from "../core/errors.js";
import { silentLogger } from "../core/logger.js";
import { MetricsRegistry } from "../core/metrics.js";
import { precompiledCatalog } from "../registry/precompiled.js";
import { IoRouter } from "./router.js";
import { CONSOLE_PRINT_PATH, MAX_TEXT_CHARS, SAY_PATH, ioRoutes } from "./routes.js";
import { LogSaySink, StreamConsoleSink, type ConsoleSink, type SayRequest, type SaySink } from "./sinks.js";

const MAX_BODY = 64 * 1024;

interface ErrorBody {
  error: { code: string; message: string; issues?: { pointer: string; message: string }[] };
}

/** The routes on a tiny server that dispatches like the ApiServer (errors through sendError). */
async function serve(t: TestContext, routes: readonly Route[]): Promise<string> {
  const logger = silentLogger();
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://localhost");
    const route = routes.find((r) => r.method === req.method && r.path === url.pathname);
    const run = async (): Promise<void> => {
      if (route === undefined) throw new NotFoundError(`no route ${req.method} ${url.pathname}`);
      await route.handler(req, res, { url });
    };
    run().catch((err: unknown) => sendError(res, err, logger));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  t.after(() => {
    server.closeAllConnections();
    return new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

class RecordingConsole implements ConsoleSink {
  readonly lines: [string, string | undefined][] = [];
  print(text: string, origin?: string): void {
    this.lines.push([text, origin]);
  }
}

async function node(t: TestContext, say: SaySink = new LogSaySink(silentLogger()), maxBodyBytes = MAX_BODY) {
  const console = new RecordingConsole();
  const url = await serve(t, ioRoutes({ console, say, maxBodyBytes, nodeId: "kitchen", logger: silentLogger() }));
  return { url, console, say };
}

async function post(url: string, body: unknown): Promise<{ status: number; body: unknown }> {
  const res = await fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body: typeof body === "string" ? body : JSON.stringify(body) });
  return { status: res.status, body: await res.json() };
}

const errorOf = (res: { body: unknown }): ErrorBody["error"] => (res.body as ErrorBody).error;

test("console print: 200 {ok: true}; text and origin reach the console sink", async (t) => {
  const n = await node(t);
  assert.deepEqual(await post(n.url + CONSOLE_PRINT_PATH, { text: "Dinner is ready", origin: "skill:cook" }), { status: 200, body: { ok: true } });
  await post(n.url + CONSOLE_PRINT_PATH, { text: "upstream", origin: { source: "scenario:x", from: "hub-1" } });
  await post(n.url + CONSOLE_PRINT_PATH, { text: "named", origin: { source: "s", from: "hub-1", name: "skill:cook", extra: 1 } });
  await post(n.url + CONSOLE_PRINT_PATH, { text: "plain", origin: null });
  await post(n.url + CONSOLE_PRINT_PATH, { text: "x".repeat(MAX_TEXT_CHARS) });
  assert.deepEqual(n.console.lines.slice(0, 4), [
    ["Dinner is ready", "skill:cook"],
    ["upstream", "scenario:x on hub-1"],
    ["named", "skill:cook on hub-1"],
    ["plain", undefined],
  ]);
  assert.equal(n.console.lines[4]?.[0].length, MAX_TEXT_CHARS);
});

test("console print: bad bodies are 400 E_BAD_REQUEST naming the field; nothing is printed", async (t) => {
  const n = await node(t);
  const cases: [unknown, string, RegExp][] = [
    [{}, "/text", /is required/],
    [{ text: "" }, "/text", /1 to 10000 characters/],
    [{ text: "x".repeat(MAX_TEXT_CHARS + 1) }, "/text", /1 to 10000 characters/],
    [{ text: 7 }, "/text", /must be a string/],
    [{ text: "hi", colour: "red" }, "/colour", /is not allowed \(known: text, origin\)/],
    [{ text: "hi", origin: 5 }, "/origin", /a string or an object/],
    [{ text: "hi", origin: ["a"] }, "/origin", /a string or an object/],
    [["hi"], "/", /must be object/],
  ];
  for (const [body, pointer, message] of cases) {
    const res = await post(n.url + CONSOLE_PRINT_PATH, body);
    assert.equal(res.status, 400, JSON.stringify(body));
    assert.equal(errorOf(res).code, "E_BAD_REQUEST");
    const issue = errorOf(res).issues?.find((i) => i.pointer === pointer);
    assert.ok(issue !== undefined, `${pointer} in ${JSON.stringify(errorOf(res))}`);
    assert.match(issue.message, message);
  }
  const notJson = await post(n.url + CONSOLE_PRINT_PATH, "{text:");
  assert.equal(notJson.status, 400);
  assert.match(errorOf(notJson).message, /not valid JSON/);
  assert.deepEqual(n.console.lines, []);
});

test("console print: a body over max_body_bytes is 413", async (t) => {
  const n = await node(t, undefined, 100);
  const res = await post(n.url + CONSOLE_PRINT_PATH, { text: "x".repeat(200) });
  assert.equal(res.status, 413);
  assert.equal(errorOf(res).code, "E_PAYLOAD_TOO_LARGE");
});

test("say: 200 {ok: true, duration_ms} once the sink resolved; voice: null (upstream) counts as absent", async (t) => {
  const sink = new LogSaySink(silentLogger());
  const n = await node(t, sink);
  const res = await post(n.url + SAY_PATH, { text: "Привет", voice: "anna", lang: "ru-RU" });
  assert.equal(res.status, 200);
  const body = res.body as { ok: boolean; duration_ms: number };
  assert.equal(body.ok, true);
  assert.ok(Number.isInteger(body.duration_ms) && body.duration_ms >= 0);
  assert.equal((await post(n.url + SAY_PATH, { text: "upstream", voice: null })).status, 200);
  assert.deepEqual(sink.recent, [{ text: "Привет", voice: "anna", lang: "ru-RU" }, { text: "upstream" }]);
});

test("say: bad bodies are 400 naming the field; the sink is not called", async (t) => {
  const sink = new LogSaySink(silentLogger());
  const n = await node(t, sink);
  const cases: [unknown, string, RegExp][] = [
    [{ voice: "anna" }, "/text", /is required/],
    [{ text: "hi", voice: "" }, "/voice", /1 to 64 characters/],
    [{ text: "hi", voice: 3 }, "/voice", /must be a string/],
    [{ text: "hi", lang: "English" }, "/lang", /BCP 47/],
    [{ text: "hi", interrupt: true }, "/interrupt", /is not allowed \(known: text, voice, lang\)/],
  ];
  for (const [body, pointer, message] of cases) {
    const res = await post(n.url + SAY_PATH, body);
    assert.equal(res.status, 400, JSON.stringify(body));
    const issue = errorOf(res).issues?.find((i) => i.pointer === pointer);
    assert.ok(issue !== undefined, `${pointer} in ${JSON.stringify(errorOf(res))}`);
    assert.match(issue.message, message);
  }
  const two = await post(n.url + SAY_PATH, { voice: 1, lang: "x" });
  assert.deepEqual(errorOf(two).issues?.map((i) => i.pointer), ["/text", "/voice", "/lang"], "every problem at once");
  assert.deepEqual(sink.recent, []);
});

test("say: a failing sink is 502 with its code (E_INTERNAL for an error without one)", async (t) => {
  let fail: Error = new Error("no audio device");
  const sink: SaySink = { say: (_req: SayRequest) => Promise.reject(fail) };
  const n = await node(t, sink);
  const plain = await post(n.url + SAY_PATH, { text: "hi" });
  assert.equal(plain.status, 502);
  assert.deepEqual(errorOf(plain), { code: "E_INTERNAL", message: "no audio device" });

  fail = new TimeoutError("espeak-ng did not finish within 10 s");
  const coded = await post(n.url + SAY_PATH, { text: "hi" });
  assert.equal(coded.status, 502);
  assert.equal(errorOf(coded).code, "E_TIMEOUT");
});

test("one node's router and another node's endpoints fit together: the line prints there, upstream's format", async (t) => {
  const printed: string[] = [];
  const out = new Writable({ write: (chunk: Buffer, _enc, done) => (printed.push(chunk.toString("utf8")), done()) });
  const sink = new LogSaySink(silentLogger());
  const kitchen = await serve(t, ioRoutes({ console: new StreamConsoleSink("kitchen", out), say: sink, maxBodyBytes: MAX_BODY, nodeId: "kitchen", logger: silentLogger() }));

  const metrics = new MetricsRegistry();
  const bus = new LocalBus({ catalog: precompiledCatalog(), logger: silentLogger(), metrics, source: "agent://hub/hub-1" });
  const view = { node_id: "kitchen", kind: "member", online: true, last_seen: 0, telemetry: null, capabilities: [], base_url: kitchen };
  const router = new IoRouter({
    bus,
    subnet: { list: () => [view], get: (id) => (id === "kitchen" ? view : undefined) },
    nodeId: "hub-1",
    token: "t",
    rulesPath: null,
    console: new StreamConsoleSink("hub-1", new Writable({ write: (_c, _e, done) => done() })),
    say: new LogSaySink(silentLogger()),
    logger: silentLogger(),
    metrics,
  });
  await router.start(new AbortController().signal);
  t.after(async () => {
    await router.stop();
    await bus.stop();
  });
  await bus.publishSettled(createEnvelope({ event_name: "ui.notify", version: 1, source: "scenario:dinner@hub-1", payload: { text: "Dinner is ready", target: "kitchen", origin: "skill:cook" } }));
  await bus.publishSettled(createEnvelope({ event_name: "ui.say", version: 1, source: "scenario:dinner@hub-1", payload: { text: "Dinner", target: "kitchen", lang: "en" } }));
  assert.deepEqual(printed, ["[IO/console@kitchen] Dinner is ready (from skill:cook on hub-1)\n"]);
  assert.deepEqual(sink.recent, [{ text: "Dinner", lang: "en" }]);
  assert.equal(metrics.counter("adaos_io_routed_total", "").get({ io_type: "console", destination: "remote" }), 1);
  assert.equal(metrics.counter("adaos_io_routed_total", "").get({ io_type: "say", destination: "remote" }), 1);
});
