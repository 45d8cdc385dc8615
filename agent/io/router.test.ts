import { strict as assert } from "node:assert";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type IncomingHttpHeaders, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { test, type TestContext } from "node:test";
import type { Envelope } from "../../abi/envelope.js";
import { LocalBus } from "../bus/local-bus.js";
import { createEnvelope } from "../core/envelope.js";
import { ConfigInvalidError } from "../core/errors.js";
import { createRootLogger, silentLogger } from "../core/logger.js";
import { MetricsRegistry } from "../core/metrics.js";
import type { SubnetNodeView, SubnetReader } from "../directory/subnet-port.js";
import { precompiledCatalog } from "../registry/precompiled.js";
import { IO_ROUTED_HEADER, IoRouter, type IoRouterOptions } from "./router.js";
import { LogSaySink, StreamConsoleSink, type SayRequest, type SaySink } from "./sinks.js";

const NODE = "hub-1";
const TOKEN = "subnet-token-0123456789";

interface Received {
  readonly method: string | undefined;
  readonly url: string | undefined;
  readonly headers: IncomingHttpHeaders;
  readonly body: unknown;
}

/** A stand-in for another node's API on a free port: records every request, answers as told. */
async function remoteNode(t: TestContext, answer: (res: ServerResponse) => void = (res) => res.writeHead(200, { "content-type": "application/json" }).end('{"ok":true}')) {
  const received: Received[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      received.push({ method: req.method, url: req.url, headers: req.headers, body: JSON.parse(Buffer.concat(chunks).toString("utf8")) as unknown });
      answer(res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  t.after(() => {
    server.closeAllConnections();
    return new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, received };
}

function node(node_id: string, extra: Partial<SubnetNodeView> = {}): SubnetNodeView {
  return { node_id, kind: "member", online: true, last_seen: 0, telemetry: null, capabilities: [], ...extra };
}

function directory(nodes: readonly SubnetNodeView[]): SubnetReader {
  return { list: () => nodes, get: (id) => nodes.find((n) => n.node_id === id) };
}

interface RigOptions {
  readonly rules?: string;
  readonly nodes?: readonly SubnetNodeView[];
  readonly extra?: Partial<IoRouterOptions>;
}

async function rig(t: TestContext, o: RigOptions = {}) {
  const dir = mkdtempSync(join(tmpdir(), "adaos-io-router-"));
  const rulesPath = join(dir, "route_rules.yaml");
  if (o.rules !== undefined) writeFileSync(rulesPath, o.rules);
  const metrics = new MetricsRegistry();
  const bus = new LocalBus({ catalog: precompiledCatalog(), logger: silentLogger(), metrics, source: `agent://hub/${NODE}` });
  const printed: string[] = [];
  const out = new Writable({ write: (chunk: Buffer, _enc, done) => (printed.push(chunk.toString("utf8")), done()) });
  const logs: { level: number; msg: string; [k: string]: unknown }[] = [];
  const logStream = new Writable({ write: (chunk: Buffer, _enc, done) => (logs.push(JSON.parse(chunk.toString("utf8")) as (typeof logs)[number]), done()) });
  const say = new LogSaySink(silentLogger());
  const router = new IoRouter({
    bus,
    subnet: directory(o.nodes ?? []),
    nodeId: NODE,
    token: TOKEN,
    rulesPath,
    console: new StreamConsoleSink(NODE, out),
    say,
    logger: createRootLogger({ level: "debug", nodeId: NODE, destination: logStream }),
    metrics,
    ...o.extra,
  });
  await router.start(new AbortController().signal);
  t.after(async () => {
    await router.stop();
    await bus.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  const counter = (name: string, labels: Record<string, string>): number => metrics.counter(name, "").get(labels);
  return {
    bus,
    router,
    printed,
    say,
    logs,
    routed: (io_type: string, destination: string) => counter("adaos_io_routed_total", { io_type, destination }),
    errors: (io_type: string) => counter("adaos_io_route_errors_total", { io_type }),
    /** Publish and wait until the router's handler finished with it; it never fails in the bus. */
    async send(env: Envelope): Promise<void> {
      const r = await bus.publishSettled(env);
      assert.equal(r.matched, 1);
      assert.equal(r.failed, 0, "the router never throws into the bus");
    },
  };
}

const notify = (payload: Record<string, unknown>, headers: Record<string, string> = {}): Envelope =>
  createEnvelope({ event_name: "ui.notify", version: 1, payload, source: "scenario:movie-night@hub-1", headers });
const say = (payload: Record<string, unknown>, headers: Record<string, string> = {}): Envelope =>
  createEnvelope({ event_name: "ui.say", version: 1, payload, source: "scenario:movie-night@hub-1", headers });

const toKitchen = (ioType: string): string => `node_id: kitchen\nkind: io_type\nio_type: ${ioType}\n`;

test("no rules file: ui.notify prints on this node's console, upstream's format", async (t) => {
  const r = await rig(t);
  await r.send(notify({ text: "Film started", origin: "scenario:movie-night" }));
  await r.send(notify({ text: "line one\nline two\u001b[2J" }));
  assert.deepEqual(r.printed, ["[IO/console@hub-1] Film started (from scenario:movie-night)\n", "[IO/console@hub-1] line one line two [2J\n"]);
  assert.equal(r.routed("console", "local"), 2);
  assert.ok(r.logs.some((l) => l.msg.startsWith("no route rules file")));
});

test("no rules file: ui.say goes to this node's say sink with voice and lang", async (t) => {
  const r = await rig(t);
  await r.send(say({ text: "Привет", voice: "anna", lang: "ru-RU", interrupt: true }));
  await r.send(say({ text: "plain" }));
  assert.deepEqual(r.say.recent, [{ text: "Привет", voice: "anna", lang: "ru-RU" }, { text: "plain" }]);
  assert.equal(r.routed("say", "local"), 2);
  assert.deepEqual(r.printed, []);
});

test("a rule to another node: it gets the POST with the subnet token; nothing prints here", async (t) => {
  const kitchen = await remoteNode(t);
  const r = await rig(t, { rules: toKitchen("stdout"), nodes: [node("kitchen", { base_url: `${kitchen.url}/` })] });
  await r.send(notify({ text: "Dinner is ready", origin: "skill:cook" }));
  assert.equal(kitchen.received.length, 1);
  const got = kitchen.received[0];
  assert.equal(got?.method, "POST");
  assert.equal(got?.url, "/api/io/console/print", "a trailing slash of base_url is dropped");
  assert.equal(got?.headers["x-adaos-token"], TOKEN);
  assert.match(String(got?.headers["content-type"]), /application\/json/);
  assert.deepEqual(got?.body, { text: "Dinner is ready", origin: { source: "scenario:movie-night@hub-1", from: NODE, name: "skill:cook" } });
  assert.deepEqual(r.printed, []);
  assert.equal(r.routed("console", "remote"), 1);
});

test("a say rule to another node: POST /api/say {text, voice?, lang?}", async (t) => {
  const kitchen = await remoteNode(t);
  const r = await rig(t, { rules: toKitchen("say"), nodes: [node("kitchen", { base_url: kitchen.url })] });
  await r.send(say({ text: "Tea time", voice: "anna", interrupt: true }));
  assert.equal(kitchen.received[0]?.url, "/api/say");
  assert.deepEqual(kitchen.received[0]?.body, { text: "Tea time", voice: "anna" });
  assert.equal(kitchen.received[0]?.headers["x-adaos-token"], TOKEN);
  assert.deepEqual(r.say.recent, []);
  assert.equal(r.routed("say", "remote"), 1);
});

test("the payload's own target wins over the rules; a rule that matches on target redirects it", async (t) => {
  const kitchen = await remoteNode(t);
  const living = await remoteNode(t);
  const rules = [
    "version: 1",
    "rules:",
    "  - { target: { node_id: this, io_type: say }, priority: 99 }",
    "  - { match: { target: tv }, target: { node_id: living-room, io_type: say } }",
  ].join("\n");
  const r = await rig(t, { rules, nodes: [node("kitchen", { base_url: kitchen.url }), node("living-room", { base_url: living.url })] });
  await r.send(say({ text: "to the kitchen", target: "kitchen" }));
  await r.send(say({ text: "to the tv", target: "tv" }));
  await r.send(say({ text: "no target" }));
  await r.send(say({ text: "to myself", target: NODE }));
  assert.deepEqual(kitchen.received.map((x) => x.body), [{ text: "to the kitchen" }]);
  assert.deepEqual(living.received.map((x) => x.body), [{ text: "to the tv" }]);
  assert.deepEqual(r.say.recent, [{ text: "no target" }, { text: "to myself" }]);
});

test("an offline, unknown or address-less target falls back to this node: warned and counted, never dropped", async (t) => {
  const kitchen = await remoteNode(t);
  const r = await rig(t, {
    nodes: [node("kitchen", { base_url: kitchen.url, online: false }), node("garage", { base_url: null }), node("attic", { base_url: "ftp://attic/" })],
  });
  for (const target of ["kitchen", "nowhere", "garage", "attic"]) await r.send(notify({ text: `for ${target}`, target }));
  await r.send(say({ text: "say for nowhere", target: "nowhere" }));
  assert.equal(kitchen.received.length, 0);
  assert.deepEqual(r.printed, ["for kitchen", "for nowhere", "for garage", "for attic"].map((s) => `[IO/console@hub-1] ${s}\n`));
  assert.deepEqual(r.say.recent, [{ text: "say for nowhere" }]);
  assert.equal(r.routed("console", "fallback"), 4);
  assert.equal(r.routed("say", "fallback"), 1);
  const warnings = r.logs.filter((l) => l.level === 40).map((l) => l.msg);
  assert.deepEqual(warnings.slice(0, 4), [
    "target kitchen is offline: delivered on this node instead",
    "target nowhere is not in the subnet directory: delivered on this node instead",
    "target garage has no http(s) base_url: delivered on this node instead",
    "target attic has no http(s) base_url: delivered on this node instead",
  ]);
});

test("without a subnet directory every other node falls back", async (t) => {
  const r = await rig(t, { rules: toKitchen("stdout"), extra: { subnet: undefined } });
  await r.send(notify({ text: "hi" }));
  assert.deepEqual(r.printed, ["[IO/console@hub-1] hi\n"]);
  assert.equal(r.routed("console", "fallback"), 1);
});

test("a remote that fails (HTTP error, no answer in time, refused) is logged and counted, not thrown and not printed here", async (t) => {
  const failing = await remoteNode(t, (res) => res.writeHead(401, { "content-type": "application/json" }).end('{"error":{"code":"E_UNAUTHORIZED","message":"wrong API token"}}'));
  const silent = await remoteNode(t, () => {});
  const rules = [
    "rules:",
    "  - { match: { text_contains: failing }, target: { node_id: failing, io_type: console } }",
    "  - { match: { text_contains: silent }, target: { node_id: silent, io_type: console } }",
    "  - { match: { text_contains: refused }, target: { node_id: refused, io_type: say } }",
  ].join("\n");
  const r = await rig(t, {
    rules,
    nodes: [node("failing", { base_url: failing.url }), node("silent", { base_url: silent.url }), node("refused", { base_url: "http://127.0.0.1:1" })],
    extra: { remoteTimeoutMs: 150 },
  });
  await r.send(notify({ text: "failing" }));
  await r.send(notify({ text: "silent" }));
  await r.send(say({ text: "refused" }));
  assert.equal(failing.received.length, 1);
  assert.equal(silent.received.length, 1, "the request arrived; the answer never came");
  assert.equal(r.errors("console"), 2);
  assert.equal(r.errors("say"), 1);
  assert.equal(r.routed("console", "remote"), 0);
  assert.deepEqual(r.printed, []);
  assert.deepEqual(r.say.recent, []);
  const failures = r.logs.filter((l) => l.msg === "IO delivery failed");
  assert.equal(failures.length, 3);
  assert.match(String(failures[0]?.err), /failing answered \/api\/io\/console\/print with HTTP 401: E_UNAUTHORIZED wrong API token/);
  assert.equal(failures[1]?.code, "E_TIMEOUT");
  assert.match(String(failures[1]?.err), /silent did not answer within 150 ms/);
  assert.equal(failures[2]?.node, "refused");
});

test("a local say sink that fails is logged and counted", async (t) => {
  const broken: SaySink = { say: (_req: SayRequest) => Promise.reject(new Error("no audio device")) };
  const r = await rig(t, { extra: { say: broken } });
  await r.send(say({ text: "hello" }));
  assert.equal(r.errors("say"), 1);
  assert.equal(r.routed("say", "local"), 0);
  assert.match(String(r.logs.find((l) => l.msg === "IO delivery failed")?.err), /no audio device/);
});

test("loop guard: an envelope with io_routed: 1 is left alone", async (t) => {
  const kitchen = await remoteNode(t);
  const r = await rig(t, { rules: toKitchen("stdout"), nodes: [node("kitchen", { base_url: kitchen.url })] });
  await r.send(notify({ text: "routed already" }, { [IO_ROUTED_HEADER]: "1" }));
  await r.send(say({ text: "routed already" }, { [IO_ROUTED_HEADER]: "1" }));
  await r.send(notify({ text: "new" }, { [IO_ROUTED_HEADER]: "0" }));
  assert.deepEqual(kitchen.received.map((x) => x.body), [{ text: "new", origin: { source: "scenario:movie-night@hub-1", from: NODE } }]);
  assert.deepEqual(r.printed, []);
  assert.deepEqual(r.say.recent, []);
});

test("match is honoured: level, origin and when pick the node; the rest goes to the lower rule", async (t) => {
  const alarm = await remoteNode(t);
  const rules = [
    "version: 1",
    "rules:",
    "  - match: { event: 'ui.*', level: error }",
    "    target: { node_id: alarm, io_type: stdout }",
    "    priority: 90",
    "  - match: { when: '$.payload.origin == \"security\"' }",
    "    target: { node_id: alarm, io_type: console }",
    "    priority: 80",
    "  - target: { node_id: this, io_type: stdout }",
    "    priority: 10",
  ].join("\n");
  const r = await rig(t, { rules, nodes: [node("alarm", { base_url: alarm.url })] });
  await r.send(notify({ text: "disk full", level: "error" }));
  await r.send(notify({ text: "door open", origin: "security" }));
  await r.send(notify({ text: "all fine", level: "info" }));
  assert.deepEqual(alarm.received.map((x) => (x.body as { text: string }).text), ["disk full", "door open"]);
  assert.deepEqual(r.printed, ["[IO/console@hub-1] all fine\n"]);
});

test("a rule naming this node by its id is local; unknown io_types are skipped with a warning", async (t) => {
  const rules = "rules:\n  - { target: { node_id: telegram-bot, io_type: telegram }, priority: 99 }\n  - { target: { node_id: hub-1, io_type: stdout } }\n";
  const r = await rig(t, { rules });
  await r.send(notify({ text: "hi" }));
  assert.deepEqual(r.printed, ["[IO/console@hub-1] hi\n"]);
  assert.equal(r.routed("console", "local"), 1);
  const skipped = r.logs.find((l) => l.pointer === "/rules/0/target/io_type");
  assert.equal(skipped?.level, 40);
  assert.match(skipped?.msg ?? "", /"telegram" is not one the router knows/);
});

test("a bad rules file fails the start with ConfigInvalidError; stop() unsubscribes", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "adaos-io-router-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, "route_rules.yaml");
  writeFileSync(path, "rules:\n  - target: { node_id: a }\n");
  const bus = new LocalBus({ catalog: precompiledCatalog(), logger: silentLogger(), metrics: new MetricsRegistry(), source: "agent://hub/hub-1" });
  t.after(() => bus.stop());
  const bad = new IoRouter({ bus, subnet: undefined, nodeId: NODE, token: TOKEN, rulesPath: path, console: new StreamConsoleSink(NODE), say: new LogSaySink(silentLogger()), logger: silentLogger() });
  await assert.rejects(bad.start(new AbortController().signal), (err: unknown) => err instanceof ConfigInvalidError && /\/rules\/0\/target\/io_type is required/.test(err.message));

  const r = await rig(t);
  await r.router.stop();
  const after = await r.bus.publishSettled(notify({ text: "after stop" }));
  assert.equal(after.matched, 0);
  assert.deepEqual(r.printed, []);
});
