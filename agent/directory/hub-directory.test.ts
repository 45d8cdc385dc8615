import { strict as assert } from "node:assert";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { HEADER, type Envelope } from "../../abi/envelope.js";
import { LocalBus } from "../bus/local-bus.js";
import { ManualClock } from "../core/clock.js";
import { createEnvelope } from "../core/envelope.js";
import { silentLogger } from "../core/logger.js";
import { MetricsRegistry } from "../core/metrics.js";
import { precompiledCatalog } from "../registry/precompiled.js";
import { Announcer } from "./announcer.js";
import { HubDirectory } from "./hub-directory.js";
import { buildManifest } from "./manifest.js";
import { SnapshotCache } from "./snapshot-cache.js";

const flush = async () => {
  for (let i = 0; i < 10; i++) await new Promise((r) => setImmediate(r));
};

const tv = (prio = 60) => buildManifest({
  nodeId: "tv", kind: "member",
  capabilities: [{ id: "capability://display.play", prio, cost: 1, inputs: ["video/mp4"], outputs: [], probe: { kind: "http", url: "http://127.0.0.1:8778/display" } }],
});

async function setup(t: { after(fn: () => Promise<void> | void): void }) {
  const dir = mkdtempSync(join(tmpdir(), "adaos-hub-directory-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const clock = new ManualClock(Date.parse("2026-12-07T10:00:00Z"));
  // One bus stands for the hub's bus and the member's on the other side of the bridge.
  const bus = new LocalBus({ catalog: precompiledCatalog(), logger: silentLogger(), metrics: new MetricsRegistry(), source: "agent://hub/hub-1", clock });
  const events: Envelope[] = [];
  bus.subscribe(">", (e) => void events.push(e));
  const hub = new HubDirectory({ hubId: "hub-1", dataDir: dir, bus, clock, logger: silentLogger(), ttlMs: 15_000, snapshotMs: 30_000, announceTimeoutMs: 1000 });
  await hub.start();
  t.after(() => hub.stop());
  const heartbeat = (nodeId: string, payload: Record<string, unknown> = {}, source = `agent://member/${nodeId}`) =>
    bus.publish(createEnvelope({ event_name: "telemetry.heartbeat", version: 1, source, priority: 4, payload: { node_id: nodeId, seq: 0, telemetry: { load: 0.2 }, ...payload } }, clock));
  return { dir, clock, bus, hub, events, heartbeat, named: (name: string) => events.filter((e) => e.event_name === name) };
}

test("a heartbeat from an unknown node: the hub asks it to announce, takes the reply, and lists it with its telemetry", async (t) => {
  const { bus, clock, hub, heartbeat, named } = await setup(t);
  const member = new Announcer({ nodeId: "tv", isHub: false, bus, clock, logger: silentLogger(), from: "agent://member/tv", manifest: tv(), hostname: "tv.local", baseUrl: "http://192.0.2.7:8778" });
  // Not started: the hub has never heard its announce (e.g. the hub lost its database); it only answers.
  const answers = bus.subscribe("net.subnet.announce", (e) => {
    if (e.headers[HEADER.target] === "tv") bus.reply(e, { event_name: "net.subnet.announce.result", version: 1, payload: { manifest: member.manifest, hostname: "tv.local" } });
  });
  t.after(() => answers.unsubscribe());
  heartbeat("tv", { revision: tv().revision });
  await flush();
  const asks = named("net.subnet.announce");
  assert.equal(asks.length, 1);
  assert.deepEqual(asks[0]?.payload, { reason: "unknown" });
  const node = hub.get("tv");
  assert.equal(node?.online, true);
  assert.equal(node?.hostname, "tv.local");
  assert.equal(node?.revision, tv().revision);
  assert.deepEqual(node?.capabilities, [{ id: "capability://display.play", status: "up", prio: 60, cost: 1, inputs: ["video/mp4"], outputs: [] }]);

  // The next heartbeat carries telemetry and is not asked about again.
  heartbeat("tv", { revision: tv().revision, telemetry: { load: 0.5 } });
  await flush();
  assert.deepEqual(hub.get("tv")?.telemetry, { load: 0.5 });
  assert.equal(named("net.subnet.announce").length, 1);

  // Another revision in a heartbeat: asked again (not more often than every 10 s).
  heartbeat("tv", { revision: "0123456789abcdef" });
  heartbeat("tv", { revision: "0123456789abcdef" });
  await flush();
  assert.equal(named("net.subnet.announce").length, 1, "asked 0 s after the last ask: not yet");
  clock.advance(10_000);
  heartbeat("tv", { revision: "0123456789abcdef" });
  await flush();
  assert.deepEqual(named("net.subnet.announce").at(-1)?.payload, { reason: "revision", known_revision: tv().revision });
});

test("an announce: validated in full; one that names another node or is invalid is dropped", async (t) => {
  const { bus, clock, hub, named } = await setup(t);
  const announce = (source: string, manifest: unknown) =>
    bus.publish(createEnvelope({ event_name: "net.subnet.node.announced", version: 1, source, payload: { manifest } }, clock));
  announce("agent://member/evil", tv());
  announce("agent://member/tv", { ...tv(), capabilities: [{ id: "capability://display.play", prio: 1, cost: 0, inputs: [], outputs: [], probe: { kind: "ftp" } }] });
  await flush();
  assert.equal(hub.list().length, 0);
  assert.equal(named("net.subnet.node.up").length, 0);
  announce("agent://member/tv", tv());
  await flush();
  assert.deepEqual(hub.list().map((n) => n.node_id), ["tv"]);
  assert.equal(named("capacity.changed").length, 1);
});

test("heartbeats: a spoofed node_id is dropped; a failing probe reports the capability down at once", async (t) => {
  const { bus, clock, hub, heartbeat, named } = await setup(t);
  bus.publish(createEnvelope({ event_name: "net.subnet.node.announced", version: 1, source: "agent://member/tv", payload: { manifest: tv() } }, clock));
  await flush();
  heartbeat("tv", { telemetry: { load: 0.9 } }, "agent://member/kitchen");
  await flush();
  assert.equal(hub.get("tv")?.telemetry, null, "the spoofed heartbeat did not land");
  heartbeat("tv", { revision: tv().revision, capabilities: [{ id: "capability://display.play", status: "down", error: "HTTP 503" }] });
  await flush();
  assert.deepEqual(hub.get("tv")?.capabilities[0], { id: "capability://display.play", status: "down", error: "HTTP 503", prio: 60, cost: 1, inputs: ["video/mp4"], outputs: [] });
  assert.deepEqual(named("capacity.changed").at(-1)?.payload.capabilities, [{ id: "capability://display.play", status: "down" }]);
  assert.equal(hub.get("tv")?.online, true, "the node is still up");
});

test("ping is answered with the hub's id and the seq; snapshots go out a second after a change and reach a member's cache", async (t) => {
  const { bus, clock, hub, named } = await setup(t);
  const reply = bus.request(createEnvelope({
    event_name: "net.subnet.ping", version: 1, kind: "command", source: "agent://member/tv", headers: { [HEADER.target]: "hub" }, payload: { node_id: "tv", seq: 41 },
  }, clock));
  await flush();
  assert.deepEqual((await reply).payload, { hub_id: "hub-1", seq: 41, hub_ts: "2026-12-07T10:00:00.000Z" });

  const cache = new SnapshotCache(bus);
  await cache.start();
  t.after(() => cache.stop());
  clock.advance(1000); // the snapshot armed at start
  await flush();
  const first = named("net.subnet.directory.snapshot").length;
  bus.publish(createEnvelope({ event_name: "net.subnet.node.announced", version: 1, source: "agent://member/tv", payload: { manifest: tv() } }, clock));
  bus.publish(createEnvelope({ event_name: "telemetry.heartbeat", version: 1, source: "agent://member/tv", payload: { node_id: "tv", seq: 0, telemetry: { load: 0.25 } } }, clock));
  await flush();
  assert.equal(named("net.subnet.directory.snapshot").length, first, "not before the debounce");
  clock.advance(1000);
  await flush();
  const snaps = named("net.subnet.directory.snapshot");
  assert.equal(snaps.length, first + 1, "up and capacity.changed in one snapshot");
  assert.equal(cache.get("tv")?.online, true);
  assert.deepEqual(cache.get("tv")?.telemetry, { load: 0.25 });
  assert.equal(cache.list().length, hub.list().length);
  clock.advance(30_000);
  await flush();
  assert.ok(named("net.subnet.directory.snapshot").length >= first + 2, "and every snapshot_ms besides");
});

test("a restarted hub: nodes restored offline from SQLite, online again at their next heartbeat", async (t) => {
  const { dir, bus, clock, hub } = await setup(t);
  bus.publish(createEnvelope({ event_name: "net.subnet.node.announced", version: 1, source: "agent://member/tv", payload: { manifest: tv() } }, clock));
  await flush();
  await hub.stop();
  const again = new HubDirectory({ hubId: "hub-1", dataDir: dir, bus, clock, logger: silentLogger(), ttlMs: 15_000, snapshotMs: 30_000, announceTimeoutMs: 1000 });
  await again.start();
  t.after(() => again.stop());
  assert.equal(again.get("tv")?.online, false);
  assert.equal(again.capacityWrites, 0);
  bus.publish(createEnvelope({ event_name: "telemetry.heartbeat", version: 1, source: "agent://member/tv", payload: { node_id: "tv", seq: 0, telemetry: { load: 0.1 }, revision: tv().revision } }, clock));
  await flush();
  assert.equal(again.get("tv")?.online, true);
  assert.equal(again.capacityWrites, 0, "a heartbeat writes no capacity");
});

test("metrics: heartbeats by outcome, capacity rewrites only on a new manifest, nodes online and offline", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "adaos-hub-directory-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const clock = new ManualClock(Date.parse("2026-12-07T10:00:00Z"));
  const metrics = new MetricsRegistry();
  const bus = new LocalBus({ catalog: precompiledCatalog(), logger: silentLogger(), metrics, source: "agent://hub/hub-1", clock });
  const hub = new HubDirectory({ hubId: "hub-1", dataDir: dir, bus, clock, logger: silentLogger(), ttlMs: 15_000, snapshotMs: 30_000, announceTimeoutMs: 1000, metrics });
  await hub.start();
  t.after(() => hub.stop());
  const beat = (nodeId: string, load: number) =>
    bus.publish(createEnvelope({ event_name: "telemetry.heartbeat", version: 1, source: `agent://member/${nodeId}`, priority: 4, payload: { node_id: nodeId, seq: 0, telemetry: { load }, revision: tv().revision } }, clock));
  bus.publish(createEnvelope({ event_name: "net.subnet.node.announced", version: 1, source: "agent://member/tv", payload: { manifest: tv() } }, clock));
  await flush();
  for (const load of [0.1, 0.2, 0.3]) beat("tv", load);
  beat("ghost", 0.5);
  await flush();
  bus.publish(createEnvelope({ event_name: "net.subnet.node.announced", version: 1, source: "agent://member/tv", payload: { manifest: tv() } }, clock));
  await flush();
  const text = metrics.render();
  assert.match(text, /^adaos_directory_heartbeats_total\{outcome="ok"\} 3$/m);
  assert.match(text, /^adaos_directory_heartbeats_total\{outcome="unknown"\} 1$/m);
  assert.match(text, /^adaos_directory_capacity_writes_total 1$/m, "the same manifest again is no rewrite");
  assert.match(text, /^adaos_directory_nodes\{state="online"\} 1$/m);
  bus.publish(createEnvelope({ event_name: "net.subnet.node.announced", version: 1, source: "agent://member/tv", payload: { manifest: tv(70) } }, clock));
  await flush();
  assert.match(metrics.render(), /^adaos_directory_capacity_writes_total 2$/m);
});
