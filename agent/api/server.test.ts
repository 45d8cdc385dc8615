import { strict as assert } from "node:assert";
import { once } from "node:events";
import { request } from "node:http";
import { connect } from "node:net";
import { test } from "node:test";
import { ConfigInvalidError, PortInUseError } from "../core/errors.js";
import { VERSION } from "../core/version.js";
import { LocalBus } from "../bus/local-bus.js";
import { silentLogger } from "../core/logger.js";
import { MetricsRegistry } from "../core/metrics.js";
import { ApiServer } from "./server.js";
import { SseClient, TOKEN, apiOptions, auth, catalog, metricValue, startApi, waitFor } from "./test-fixture.js";

test("health: live and ready answer without a token; ready is 503 until the agent is ready", async (t) => {
  const { url, state } = await startApi(t);
  const live = await fetch(`${url}/health/live`);
  assert.equal(live.status, 200);
  assert.deepEqual(await live.json(), { ok: true });

  const ready = await fetch(`${url}/health/ready`);
  assert.equal(ready.status, 200);
  assert.deepEqual(await ready.json(), { ok: true, adaos: { version: VERSION, node_id: "hub-test", role: "hub", uptime_s: 1 } });

  state.ready = false;
  const notReady = await fetch(`${url}/health/ready`);
  assert.equal(notReady.status, 503);
  const body = (await notReady.json()) as { ok: boolean; adaos: { node_id: string } };
  assert.equal(body.ok, false);
  assert.equal(body.adaos.node_id, "hub-test");
});

test("health: a readiness function that throws means not ready, not a crash", async (t) => {
  const { url } = await startApi(t, { readiness: () => { throw new Error("directory not loaded"); } });
  const res = await fetch(`${url}/health/ready`);
  assert.equal(res.status, 503);
  const body = (await res.json()) as { ok: boolean; adaos: { reason: string } };
  assert.equal(body.ok, false);
  assert.match(body.adaos.reason, /directory not loaded/);
});

test("auth: /metrics and /api/* need the token; both header styles work; /health does not", async (t) => {
  const { url } = await startApi(t);
  for (const [path, method] of [["/metrics", "GET"], ["/api/events/publish", "POST"], ["/api/events/stream", "GET"], ["/api/nowhere", "GET"]] as const) {
    const missing = await fetch(url + path, { method });
    assert.equal(missing.status, 401, `${method} ${path} without token`);
    assert.equal(missing.headers.get("www-authenticate"), 'Bearer realm="adaos-edge"');
    const body = (await missing.json()) as { error: { code: string; message: string } };
    assert.equal(body.error.code, "E_UNAUTHORIZED");
    assert.match(body.error.message, /X-AdaOS-Token/);

    const wrong = await fetch(url + path, { method, headers: { "x-adaos-token": TOKEN + "x" } });
    assert.equal(wrong.status, 401, `${method} ${path} with a wrong token`);
    assert.deepEqual(await wrong.json(), { error: { code: "E_UNAUTHORIZED", message: "wrong API token" } });

    const wrongBearer = await fetch(url + path, { method, headers: { authorization: "Bearer short" } });
    assert.equal(wrongBearer.status, 401);
    await wrongBearer.body?.cancel();
  }
  const viaHeader = await fetch(`${url}/metrics`, { headers: { "x-adaos-token": TOKEN } });
  assert.equal(viaHeader.status, 200);
  await viaHeader.text();
  const viaBearer = await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } });
  assert.equal(viaBearer.status, 200);
  await viaBearer.text();
  const basic = await fetch(`${url}/metrics`, { headers: { authorization: `Basic ${TOKEN}` } });
  assert.equal(basic.status, 401);
  await basic.text();
});

test("metrics: Prometheus text with bus, process and HTTP series; counters move after a publish", async (t) => {
  const { url } = await startApi(t);
  const scrape = async (): Promise<string> => {
    const res = await fetch(`${url}/metrics`, { headers: auth });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("content-type"), "text/plain; version=0.0.4; charset=utf-8");
    return res.text();
  };
  const before = await scrape();
  assert.match(before, /^# TYPE adaos_bus_published_total counter$/m);
  assert.match(before, /^process_resident_memory_bytes \d+$/m);
  assert.match(before, /^# TYPE adaos_http_requests_total counter$/m);
  assert.equal(metricValue(before, "adaos_bus_published_total"), 0);

  const res = await fetch(`${url}/api/events/publish`, {
    method: "POST",
    headers: { ...auth, "content-type": "application/json" },
    body: JSON.stringify({ event_name: "ui.notify", payload: { text: "hi" } }),
  });
  assert.equal(res.status, 202);
  await res.json();

  const after = await scrape();
  assert.equal(metricValue(after, "adaos_bus_published_total"), 1);
  assert.equal(metricValue(after, 'adaos_http_requests_total{route="/api/events/publish",status="202"}'), 1);
  assert.equal(metricValue(after, 'adaos_http_requests_total{route="/metrics",status="200"}'), 1);
});

test("bad requests get JSON errors and the server keeps serving", async (t) => {
  const { url } = await startApi(t);
  const post = (body: string, headers: Record<string, string> = {}) =>
    fetch(`${url}/api/events/publish`, { method: "POST", headers: { ...auth, "content-type": "application/json", ...headers }, body });
  const errorOf = async (res: Response) => ((await res.json()) as { error: { code: string; message: string; issues?: unknown[] } }).error;

  const malformed = await post("{not json");
  assert.equal(malformed.status, 400);
  const m = await errorOf(malformed);
  assert.equal(m.code, "E_BAD_REQUEST");
  assert.match(m.message, /not valid JSON/);

  const empty = await post("");
  assert.equal(empty.status, 400);
  assert.equal((await errorOf(empty)).code, "E_BAD_REQUEST");

  const scalar = await post("42");
  assert.equal(scalar.status, 400);
  assert.match((await errorOf(scalar)).message, /must be a JSON object \(an event\) or an array of them/);

  const big = JSON.stringify({ event_name: "ui.notify", payload: { text: "x".repeat(10_000) } });
  const declared = await post(big);
  assert.equal(declared.status, 413);
  const d = await errorOf(declared);
  assert.equal(d.code, "E_PAYLOAD_TOO_LARGE");
  assert.match(d.message, /larger than 4096 bytes/);

  // Without content-length (chunked): the limit holds while reading.
  const chunked = await new Promise<{ status: number; body: string }>((resolve, reject) => {
    const req = request(`${url}/api/events/publish`, { method: "POST", headers: { ...auth, "content-type": "application/json" } }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (c: string) => (body += c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on("error", reject);
    for (let i = 0; i < 10; i++) req.write("x".repeat(1000));
    req.end();
  });
  assert.equal(chunked.status, 413);
  assert.equal((JSON.parse(chunked.body) as { error: { code: string } }).error.code, "E_PAYLOAD_TOO_LARGE");

  const unknown = await fetch(`${url}/api/nowhere`, { headers: auth });
  assert.equal(unknown.status, 404);
  assert.equal((await errorOf(unknown)).code, "E_NOT_FOUND");

  const wrongMethod = await fetch(`${url}/api/events/publish`, { headers: auth });
  assert.equal(wrongMethod.status, 405);
  assert.equal(wrongMethod.headers.get("allow"), "POST");
  const wrongMethodError = await errorOf(wrongMethod);
  assert.equal(wrongMethodError.code, "E_METHOD_NOT_ALLOWED");
  assert.match(wrongMethodError.message, /GET is not allowed on \/api\/events\/publish/);

  const healthPost = await fetch(`${url}/health/live`, { method: "POST" });
  assert.equal(healthPost.status, 405);
  assert.equal(healthPost.headers.get("allow"), "GET");
  await healthPost.text();

  const still = await fetch(`${url}/health/live`);
  assert.equal(still.status, 200);
  await still.text();
});

test("port 0 gives a real port in url; a taken port is PortInUseError with a clear message", async (t) => {
  const { url } = await startApi(t);
  const port = Number(new URL(url).port);
  assert.ok(port > 0);
  assert.equal(url, `http://127.0.0.1:${port}`);

  const metrics = new MetricsRegistry();
  const bus = new LocalBus({ catalog, logger: silentLogger(), metrics, source: "agent://hub/x" });
  const second = new ApiServer(apiOptions(bus, metrics, { port }));
  await assert.rejects(second.start(new AbortController().signal), (err: unknown) => {
    assert.ok(err instanceof PortInUseError);
    assert.match(err.message, new RegExp(`^cannot listen on 127\\.0\\.0\\.1:${port}: address already in use`));
    return true;
  });
  await second.stop(); // stop after a failed start is harmless
  assert.throws(() => second.url, /not listening/);
});

test("an empty token is refused at start; an aborted start does not listen", async () => {
  const metrics = new MetricsRegistry();
  const bus = new LocalBus({ catalog, logger: silentLogger(), metrics, source: "agent://hub/x" });
  await assert.rejects(new ApiServer(apiOptions(bus, metrics, { token: "" })).start(new AbortController().signal), ConfigInvalidError);
  const aborted = new AbortController();
  aborted.abort(new Error("shutting down"));
  const api = new ApiServer(apiOptions(bus, metrics));
  await assert.rejects(api.start(aborted.signal), /shutting down/);
  assert.throws(() => api.url, /not listening/);
});

test("stop() ends open event streams and idle keep-alive connections promptly", async (t) => {
  const { api, url, metrics } = await startApi(t);
  const busSubs = () => metricValue(metrics.render(), "adaos_bus_subscriptions");
  // An idle keep-alive connection left by fetch.
  const res = await fetch(`${url}/health/live`);
  await res.text();
  const client = await SseClient.open(`${url}/api/events/stream`);
  t.after(() => client.close());
  await waitFor("the stream to start", () => client.comments.includes("connected"));
  assert.equal(api.streams, 1);
  assert.equal(busSubs(), 1);

  const t0 = performance.now();
  await api.stop();
  const ms = performance.now() - t0;
  assert.ok(ms < 500, `stop took ${ms} ms`);
  await waitFor("the client to see the end of the stream", () => client.ended);
  assert.equal(api.streams, 0);
  assert.equal(busSubs(), 0);
  await assert.rejects(fetch(`${url}/health/live`), /fetch failed/);
});

test("stop(): a connection that never sent a request does not delay it; a stalled upload is cut after a grace", async (t) => {
  const { api, url } = await startApi(t);
  const { port } = new URL(url);
  const silent = connect(Number(port), "127.0.0.1");
  const stalled = connect(Number(port), "127.0.0.1");
  t.after(() => {
    silent.destroy();
    stalled.destroy();
  });
  await Promise.all([once(silent, "connect"), once(stalled, "connect")]);
  stalled.write(`POST /api/events/publish HTTP/1.1\r\nhost: x\r\nx-adaos-token: ${TOKEN}\r\ncontent-length: 100\r\n\r\n{"event`);
  await new Promise((r) => setTimeout(r, 20));
  const closed = Promise.all([once(silent, "close"), once(stalled, "close")]);

  const t0 = performance.now();
  await api.stop();
  const ms = performance.now() - t0;
  // The stalled request gets the grace (1 s), no more; the agent's whole stop budget is 5 s.
  assert.ok(ms >= 900 && ms < 2000, `stop took ${ms} ms`);
  await closed;
});

test("stop(): only a connection that never sent a request is open: stop is immediate", async (t) => {
  const { api, url } = await startApi(t);
  const silent = connect(Number(new URL(url).port), "127.0.0.1");
  t.after(() => silent.destroy());
  await once(silent, "connect");
  await new Promise((r) => setTimeout(r, 20));
  const closed = once(silent, "close");
  const t0 = performance.now();
  await api.stop();
  const ms = performance.now() - t0;
  assert.ok(ms < 500, `stop took ${ms} ms`);
  await closed;
});

test("open handlers answer under their prefix without the token; a path they decline falls through to the token check; extra routes need the token", async (t) => {
  const seen: string[] = [];
  const { url } = await startApi(t, {
    open: [{
      prefix: "/display",
      handle: (_req, res, path) => {
        seen.push(path);
        if (path === "/display/secret") return false;
        res.writeHead(200, { "content-type": "text/plain" }).end(`open ${path}`);
        return true;
      },
    }],
    routes: [{ method: "GET", path: "/api/extra", handler: (_req, res) => void res.writeHead(200, { "content-type": "application/json" }).end('{"ok":true}') }],
  });
  const page = await fetch(`${url}/display`);
  assert.equal(page.status, 200);
  assert.equal(await page.text(), "open /display");
  assert.equal((await fetch(`${url}/display/events`)).status, 200);
  assert.equal((await fetch(`${url}/displayx`)).status, 401, "only the prefix itself and paths below it are open");
  assert.equal((await fetch(`${url}/display/secret`)).status, 401, "declined: the token is asked for");
  assert.deepEqual(seen, ["/display", "/display/events", "/display/secret"]);
  assert.equal((await fetch(`${url}/api/extra`)).status, 401);
  assert.equal((await fetch(`${url}/api/extra`, { headers: auth })).status, 200);
});
