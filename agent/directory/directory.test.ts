import { strict as assert } from "node:assert";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import type { Envelope } from "../../abi/envelope.js";
import { LocalBus } from "../bus/local-bus.js";
import { ManualClock } from "../core/clock.js";
import { silentLogger } from "../core/logger.js";
import { MetricsRegistry } from "../core/metrics.js";
import { precompiledCatalog } from "../registry/precompiled.js";
import { Directory } from "./directory.js";
import { DirectoryStore } from "./directory-store.js";
import { buildManifest } from "./manifest.js";

const flush = async () => {
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
};

function setup(t: { after(fn: () => void): void }, dataDir?: string) {
  const dir = dataDir ?? mkdtempSync(join(tmpdir(), "adaos-directory-"));
  if (dataDir === undefined) t.after(() => rmSync(dir, { recursive: true, force: true }));
  const clock = new ManualClock(Date.parse("2026-11-22T10:00:00Z"));
  const store = DirectoryStore.open(dir, clock);
  t.after(() => store.close());
  const bus = new LocalBus({ catalog: precompiledCatalog(), logger: silentLogger(), metrics: new MetricsRegistry(), source: "agent://hub/hub-1", clock });
  const events: Envelope[] = [];
  bus.subscribe(">", (e) => void events.push(e));
  const directory = new Directory({ store, bus, clock, logger: silentLogger(), source: "directory@hub-1", ttlMs: 15_000 });
  return { dir, clock, store, directory, events, names: () => events.map((e) => `${e.event_name}:${String((e.payload as { reason?: string }).reason ?? "")}`) };
}

const tvManifest = (prio = 60) => buildManifest({ nodeId: "tv", kind: "member", capabilities: [{ id: "capability://display.play", prio, cost: 1, inputs: ["video/mp4"], outputs: [] }] });

test("announce → up and capacity.changed; heartbeats keep it up; TTL → down once (within TTL + 1 s); the next heartbeat → up", async (t) => {
  const { clock, directory, names, events } = setup(t);
  await directory.start();
  t.after(() => void directory.stop());
  assert.deepEqual(directory.heartbeat("tv", {}), { ok: false, reason: "node not registered" });
  directory.announce(tvManifest());
  await flush();
  assert.deepEqual(names(), ["net.subnet.node.up:announce", "capacity.changed:"]);
  for (let i = 0; i < 3; i++) {
    clock.advance(5000);
    assert.deepEqual(directory.heartbeat("tv", { load: 0.1 }), { ok: true });
  }
  directory.announce(tvManifest()); // same revision: no capacity.changed
  await flush();
  assert.equal(events.length, 2);
  clock.advance(16_000);
  await flush();
  assert.deepEqual(names().slice(2), ["net.subnet.node.down:ttl"]);
  assert.equal(directory.snapshot()[0]?.online, false);
  clock.advance(30_000);
  directory.heartbeat("tv", { load: 0.3 });
  await flush();
  assert.deepEqual(names().slice(3), ["net.subnet.node.up:heartbeat"]);
  directory.announce(tvManifest(70));
  directory.linkGone("tv");
  assert.equal(directory.deregister("tv"), true);
  await flush();
  assert.deepEqual(names().slice(4), ["capacity.changed:", "net.subnet.node.down:link"]);
  assert.deepEqual(directory.snapshot(), []);
});

test("after a hub restart the directory has every node offline, back up at its next heartbeat", async (t) => {
  const first = setup(t);
  first.directory.announce(tvManifest());
  first.store.close();
  const again = setup(t, first.dir);
  await again.directory.start();
  t.after(() => void again.directory.stop());
  assert.equal(again.directory.snapshot()[0]?.online, false);
  again.clock.advance(60_000);
  assert.deepEqual(again.directory.heartbeat("tv", {}), { ok: true });
  await flush();
  assert.deepEqual(again.names(), ["net.subnet.node.up:heartbeat"]);
  assert.equal(again.directory.snapshot()[0]?.online, true);
});
