import { strict as assert } from "node:assert";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import Database from "better-sqlite3";
import { ManualClock } from "../core/clock.js";
import { DIRECTORY_DB_FILE, DirectoryStore, type NodeInput } from "./directory-store.js";

function dir(t: { after(fn: () => void): void }): string {
  const d = mkdtempSync(join(tmpdir(), "adaos-dir-"));
  t.after(() => rmSync(d, { recursive: true, force: true }));
  return d;
}

const tv = (revision: string, extra: Partial<NodeInput> = {}): NodeInput => ({
  nodeId: "tv", kind: "member", revision, hostname: "tv.local", baseUrl: "http://tv.local:8778", roles: ["member"],
  capacity: {
    io: [{ io_type: "display", capabilities: ["capability://display.play"], priority: 60, id_hint: "hdmi-0" }],
    skills: [{ name: "player", version: "1.2.0", active: true }],
    scenarios: [],
  },
  ...extra,
});

test("upsert, heartbeat with telemetry, list and get in the upstream shape; capacity rewritten only when the revision changes", (t) => {
  const clock = new ManualClock(1_700_000_000_000);
  const store = DirectoryStore.open(dir(t), clock);
  t.after(() => store.close());
  store.upsert(tv("r1"));
  assert.equal(store.capacityWrites, 1);
  clock.advance(5000);
  assert.equal(store.heartbeat("tv", { load: 0.2, battery: null }), true);
  store.upsert(tv("r1")); // the same manifest announced again: no capacity write
  assert.equal(store.capacityWrites, 1);
  assert.equal(store.heartbeat("nobody", {}), false, "not registered");

  const got = store.get("tv");
  assert.deepEqual(got, {
    node_id: "tv", kind: "member", online: true, last_seen: 1_700_000_005, subnet_id: null, hostname: "tv.local", roles: ["member"],
    base_url: "http://tv.local:8778", node_state: null, revision: "r1",
    capacity: { io: [{ io_type: "display", capabilities: ["capability://display.play"], priority: 60, id_hint: "hdmi-0" }], skills: [{ name: "player", version: "1.2.0", active: true, dev: false }], scenarios: [] },
    telemetry: { load: 0.2, battery: null }, manifest: null,
  });
  store.upsert(tv("r2", { capacity: { io: [], skills: [], scenarios: [{ name: "movie-night", active: false }] } }));
  assert.equal(store.capacityWrites, 2);
  assert.deepEqual(store.get("tv")?.capacity, { io: [], skills: [], scenarios: [{ name: "movie-night", active: false, dev: false }] });
  store.markOffline("tv");
  assert.equal(store.list()[0]?.online, false);
  assert.equal(store.remove("tv"), true);
  assert.deepEqual(store.list(), []);
});

test("a reopened directory (hub restart) has every node, offline until heard from; upstream tools can read the tables", (t) => {
  const d = dir(t);
  const clock = new ManualClock(1_700_000_000_000);
  const first = DirectoryStore.open(d, clock);
  first.upsert(tv("r1"));
  first.upsert({ ...tv("s1"), nodeId: "speaker" });
  first.close();

  const again = DirectoryStore.open(d, clock);
  t.after(() => again.close());
  assert.deepEqual(again.list().map((n) => [n.node_id, n.online]), [["speaker", false], ["tv", false]]);
  assert.equal(again.heartbeat("tv", {}), true);
  assert.equal(again.get("tv")?.online, true);
  assert.equal(again.capacityWrites, 0);

  const raw = new Database(join(d, DIRECTORY_DB_FILE), { readonly: true });
  t.after(() => raw.close());
  const io = raw.prepare("SELECT n.node_id, n.base_url, io.io_type, io.priority FROM subnet_nodes n JOIN subnet_capacity_io io USING (node_id) ORDER BY n.node_id").all();
  assert.deepEqual(io, [
    { node_id: "speaker", base_url: "http://tv.local:8778", io_type: "display", priority: 60 },
    { node_id: "tv", base_url: "http://tv.local:8778", io_type: "display", priority: 60 },
  ]);
});

test("heartbeats wait in memory and go to disk together at flush(); reads see them at once; offline and close flush first", (t) => {
  const d = dir(t);
  const clock = new ManualClock(1_700_000_000_000);
  const store = DirectoryStore.open(d, clock);
  store.upsert(tv("r1"));
  store.upsert({ ...tv("s1"), nodeId: "speaker" });
  const raw = new Database(join(d, DIRECTORY_DB_FILE), { readonly: true });
  t.after(() => raw.close());
  const onDisk = (id: string) => raw.prepare("SELECT n.online, n.last_seen, t.telemetry FROM subnet_nodes n LEFT JOIN node_telemetry t USING (node_id) WHERE node_id = ?").get(id);

  clock.advance(5000);
  for (let i = 0; i < 50; i++) {
    assert.equal(store.heartbeat("tv", { load: i / 100 }), true);
    assert.equal(store.heartbeat("speaker", { load: 0.5 }), true);
  }
  assert.equal(store.pending, 2, "the latest per node");
  assert.deepEqual(onDisk("tv"), { online: 1, last_seen: 1_700_000_000, telemetry: null }, "nothing written yet");
  assert.deepEqual(store.get("tv")?.telemetry, { load: 0.49 }, "but read back at once");
  assert.equal(store.get("tv")?.last_seen, 1_700_000_005);

  store.flush();
  assert.equal(store.flushes, 1, "100 heartbeats, one transaction");
  assert.equal(store.pending, 0);
  assert.deepEqual(onDisk("tv"), { online: 1, last_seen: 1_700_000_005, telemetry: '{"load":0.49}' });

  clock.advance(5000);
  store.heartbeat("tv", { load: 0.9 });
  store.markOffline("tv");
  assert.deepEqual(onDisk("tv"), { online: 0, last_seen: 1_700_000_010, telemetry: '{"load":0.9}' }, "the pending beat written before, so offline stays offline");
  store.flush();
  assert.equal((onDisk("tv") as { online: number }).online, 0);

  store.heartbeat("speaker", { load: 0.7 });
  store.close();
  assert.deepEqual(onDisk("speaker"), { online: 1, last_seen: 1_700_000_010, telemetry: '{"load":0.7}' }, "close writes what is pending");
});
