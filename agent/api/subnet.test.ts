import { strict as assert } from "node:assert";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test, type TestContext } from "node:test";
import { LocalBus } from "../bus/local-bus.js";
import { ManualClock } from "../core/clock.js";
import { MetricsRegistry } from "../core/metrics.js";
import { precompiledCatalog } from "../registry/precompiled.js";
import { silentLogger } from "../core/logger.js";
import { HubDirectory } from "../directory/hub-directory.js";
import { buildManifest } from "../directory/manifest.js";
import type { SubnetNodeView, SubnetReader } from "../directory/subnet-port.js";
import { auth, postJson, startApi } from "./test-fixture.js";

async function hubApi(t: TestContext) {
  const dir = mkdtempSync(join(tmpdir(), "adaos-subnet-api-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const clock = new ManualClock(Date.parse("2026-12-07T10:00:00Z"));
  // The directory on its own bus: these tests are about HTTP, not links.
  const bus = new LocalBus({ catalog: precompiledCatalog(), logger: silentLogger(), metrics: new MetricsRegistry(), source: "agent://hub/hub-1", clock });
  const directory = new HubDirectory({ hubId: "hub-1", dataDir: dir, bus, clock, logger: silentLogger(), ttlMs: 15_000, snapshotMs: 30_000, announceTimeoutMs: 1000 });
  await directory.start();
  t.after(() => directory.stop());
  const fx = await startApi(t, { subnet: { reader: directory, writer: directory }, maxBodyBytes: 16 * 1024 });
  const get = async (path: string) => {
    const res = await fetch(`${fx.url}${path}`, { headers: auth });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };
  const post = (path: string, body: unknown) => postJson(`${fx.url}${path}`, body).then((r) => ({ status: r.status, body: r.body as Record<string, unknown> }));
  return { fx, directory, clock, get, post };
}

test("upstream registration: register → lease, heartbeat with telemetry, list and get in the upstream shape, deregister", async (t) => {
  const { get, post } = await hubApi(t);
  const reg = await post("/api/subnet/register", {
    node_id: "sensor-1", subnet_id: "home", hostname: "sensor-1.local", roles: ["member"], base_url: "http://192.0.2.10:8080", node_state: "ready",
    capacity: { io: [{ io_type: "stdout", capabilities: ["capability://console.print"], priority: 10 }], skills: [{ name: "weather", version: "1.0.0", active: true }], scenarios: [] },
  });
  assert.equal(reg.status, 200, JSON.stringify(reg.body));
  assert.deepEqual(reg.body, { ok: true, lease_seconds: 15 });

  const hb = await post("/api/subnet/heartbeat", { node_id: "sensor-1", telemetry: { load: 0.25, battery: { percent: 71, charging: false } } });
  assert.deepEqual(hb, { status: 200, body: { ok: true } });

  const list = await get("/api/subnet/nodes");
  assert.equal(list.status, 200);
  assert.equal(list.body.ok, true);
  const nodes = list.body.nodes as SubnetNodeView[];
  assert.deepEqual(nodes.map((n) => n.node_id), ["sensor-1"]);
  const one = await get("/api/subnet/nodes/sensor-1");
  assert.equal(one.status, 200);
  const node = one.body.node as SubnetNodeView;
  assert.equal(node.online, true);
  assert.equal(node.hostname, "sensor-1.local");
  assert.equal(node.base_url, "http://192.0.2.10:8080");
  assert.deepEqual(node.roles, ["member"]);
  assert.equal(typeof node.last_seen, "number");
  assert.deepEqual(node.telemetry, { load: 0.25, battery: { percent: 71, charging: false } });
  assert.deepEqual(node.capabilities, [{ id: "capability://console.print", status: "up", prio: 10, cost: 0, inputs: [], outputs: [] }]);

  assert.deepEqual(await post("/api/subnet/deregister", { node_id: "sensor-1" }), { status: 200, body: { ok: true, removed: true } });
  assert.deepEqual(await post("/api/subnet/deregister", { node_id: "sensor-1" }), { status: 200, body: { ok: true, removed: false } }, "deregister is idempotent");
  const after = await get("/api/subnet/nodes/sensor-1");
  assert.equal(after.status, 404);
  assert.equal(after.body.ok, false);
  assert.match(String(after.body.error), /sensor-1/);
});

test("an unknown node's heartbeat is 404 'node not registered'; bad bodies are 400 naming the field", async (t) => {
  const { post, fx } = await hubApi(t);
  assert.deepEqual(await post("/api/subnet/heartbeat", { node_id: "ghost" }), { status: 404, body: { ok: false, error: "node not registered", code: "E_NOT_FOUND" } });

  const cases: [string, unknown, RegExp][] = [
    ["/api/subnet/heartbeat", { node_id: "sensor-1", telemetry: "hot" }, /\/telemetry/],
    ["/api/subnet/heartbeat", { telemetry: {} }, /\/node_id/],
    ["/api/subnet/heartbeat", { node_id: "Bad Id!" }, /\/node_id/],
    ["/api/subnet/heartbeat", { node_id: "a", capabilities: [{ id: "capability://x", status: "broken" }] }, /\/capabilities\/0\/status/],
    ["/api/subnet/register", { node_id: "a", capacity: { io: [{ io_type: "x" }] } }, /\/capacity/],
    ["/api/subnet/register", { node_id: "a", color: "red" }, /\/color/],
    ["/api/subnet/register", [1, 2], /must be object/],
    ["/api/subnet/deregister", {}, /\/node_id/],
    ["/registry/heartbeat", { node_id: "a", seq: -1, telemetry: { load: 0.1 } }, /\/seq/],
    ["/registry/announce", { manifest: { node_id: "a", revision: "r" } }, /\/manifest\//],
  ];
  for (const [path, body, reason] of cases) {
    const r = await post(path, body);
    assert.equal(r.status, 400, `${path} ${JSON.stringify(body)}: ${JSON.stringify(r.body)}`);
    assert.equal(r.body.ok, false);
    assert.equal(r.body.code, "E_BAD_REQUEST");
    assert.match(JSON.stringify(r.body), reason, `${path} ${JSON.stringify(body)}`);
  }
  const notJson = await fetch(`${fx.url}/api/subnet/register`, { method: "POST", headers: { ...auth, "content-type": "application/json" }, body: "{node_id:" });
  assert.equal(notJson.status, 400);
  assert.match(((await notJson.json()) as { error: string }).error, /not valid JSON/);
  const huge = await post("/api/subnet/register", { node_id: "a", hostname: "x".repeat(20_000) });
  assert.equal(huge.status, 413);
  const noToken = await fetch(`${fx.url}/api/subnet/nodes`);
  assert.equal(noToken.status, 401);
});

test("the seed's routes: /registry/announce takes a full manifest, /registry/heartbeat the heartbeat payload", async (t) => {
  const { get, post, directory } = await hubApi(t);
  const manifest = JSON.parse(readFileSync(new URL("../../../abi/examples/manifest.tv.json", import.meta.url), "utf8")) as { node_id: string; revision: string };
  const ann = await post("/registry/announce", { manifest, hostname: "tv.local", base_url: "http://192.0.2.7:8778" });
  assert.deepEqual(ann, { status: 200, body: { ok: true, revision: manifest.revision } });
  const hb = await post("/registry/heartbeat", { node_id: manifest.node_id, seq: 3, revision: manifest.revision, telemetry: { load: 0.4, battery: null }, capabilities: [{ id: "capability://display.play", status: "degraded", error: "HTTP 503" }] });
  assert.deepEqual(hb, { status: 200, body: { ok: true } });
  const node = (await get(`/api/subnet/nodes/${manifest.node_id}`)).body.node as SubnetNodeView;
  assert.equal(node.online, true);
  assert.equal(node.hostname, "tv.local");
  assert.equal(node.revision, manifest.revision);
  assert.deepEqual(node.telemetry, { load: 0.4, battery: null });
  assert.equal(node.capabilities.find((c) => c.id === "capability://display.play")?.status, "degraded");
  assert.equal(directory.get(manifest.node_id)?.online, true);
  const tvTwin = buildManifest({ nodeId: "tv-2", kind: "member", capabilities: [] });
  assert.equal((await post("/registry/announce", { manifest: { ...tvTwin, revision: "" } })).status, 400, "an empty revision is refused");
});

test("on a member: reads come from the hub's snapshot; writes are 409 naming the hub; an agent without a directory says so", async (t) => {
  const hubNode: SubnetNodeView = { node_id: "hub-1", kind: "hub", online: true, last_seen: 1, base_url: "http://192.0.2.1:8777", telemetry: null, capabilities: [] };
  const reader: SubnetReader = { list: () => [hubNode], get: (id) => (id === "hub-1" ? hubNode : undefined) };
  const fx = await startApi(t, { subnet: { reader } });
  const list = await fetch(`${fx.url}/api/subnet/nodes`, { headers: auth });
  assert.deepEqual(await list.json(), { ok: true, nodes: [hubNode] });
  const reg = await postJson(`${fx.url}/api/subnet/register`, { node_id: "sensor-1" });
  assert.equal(reg.status, 409);
  assert.match((reg.body as { error: string }).error, /member; register with the hub hub-1 at http:\/\/192\.0\.2\.1:8777/);

  const bare = await startApi(t);
  const none = await fetch(`${bare.url}/api/subnet/nodes`, { headers: auth });
  assert.equal(none.status, 404);
  assert.match(((await none.json()) as { error: string }).error, /no subnet directory/);
});
