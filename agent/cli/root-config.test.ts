import { strict as assert } from "node:assert";
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { UsageError } from "../core/errors.js";
import type { CliIo } from "./command.js";
import { DOWNLINK_STREAM_FILE, main, MANIFEST_FILE, STREAM_FILE } from "./root-config.js";

function run(t: { after: (fn: () => void) => void }, args: string[]) {
  const cwd = mkdtempSync(join(tmpdir(), "adaos-rootcli-"));
  t.after(() => rmSync(cwd, { recursive: true, force: true }));
  const out: string[] = [];
  const err: string[] = [];
  const io: CliIo = { out: (l) => out.push(l), err: (l) => err.push(l), env: {}, cwd };
  return { cwd, out, err, status: main(args, io) };
}

test("writes N configs, the stream config and a manifest; prints how to start them and how hubs connect", async (t) => {
  const r = run(t, ["--out", "root", "--hub-password", "hp"]);
  assert.equal(await r.status, 0);
  const dir = join(r.cwd, "root");
  for (const f of ["root-1.conf", "root-2.conf", "root-3.conf", STREAM_FILE, DOWNLINK_STREAM_FILE, MANIFEST_FILE]) assert.ok(existsSync(join(dir, f)), f);
  assert.equal(existsSync(join(dir, "root-4.conf")), false);
  assert.equal(statSync(join(dir, "root-1.conf")).mode & 0o777, 0o600);
  const stream = JSON.parse(readFileSync(join(dir, STREAM_FILE), "utf8")) as { name: string; duplicate_window: number; num_replicas: number };
  assert.deepEqual([stream.name, stream.duplicate_window, stream.num_replicas], ["ADAOS_UPLINK", 7_200 * 1e9, 3]);
  const text = r.out.join("\n");
  assert.match(text, new RegExp(`nats-server -c ${join(dir, "root-3.conf")}`));
  assert.match(text, /--root nats:\/\/127\.0\.0\.1:4222,nats:\/\/127\.0\.0\.1:4223,nats:\/\/127\.0\.0\.1:4224 --root-leaf nats-leaf:\/\/127\.0\.0\.1:7422,/);
  assert.match(text, /stream add --config .*root-stream-uplink\.json/);
  assert.match(text, /stream add --config .*root-stream-downlink\.json/);
  assert.match(text, /ADAOS_EDGE_ROOT_USER=hub ADAOS_EDGE_ROOT_PASSWORD=<hub password>/, "a given password is not echoed");
  assert.deepEqual(r.err, []);
});

test("options: nodes, hosts, port bases, duplicate window; a generated hub password is printed once", async (t) => {
  const r = run(t, ["--out", "o", "--nodes", "2", "--host", "10.0.0.1,10.0.0.2", "--client-port-base", "14222", "--leaf-port-base", "17422", "--duplicate-window", "1h"]);
  assert.equal(await r.status, 0);
  const manifest = JSON.parse(readFileSync(join(r.cwd, "o", MANIFEST_FILE), "utf8")) as { nodes: { clientUrl: string; leafUrl: string }[] };
  assert.deepEqual(manifest.nodes.map((n) => n.clientUrl), ["nats://10.0.0.1:14222", "nats://10.0.0.2:14222"]);
  assert.match(r.out.join("\n"), /ADAOS_EDGE_ROOT_PASSWORD=[A-Za-z0-9_-]{32}$/m);
  assert.match(r.err.join("\n"), /duplicate window 1h is shorter than the outbox TTL \(2h\)/);
});

test("usage errors name the problem", async (t) => {
  await assert.rejects(async () => run(t, []).status, (e: unknown) => e instanceof UsageError && /--out DIR is required/.test(e.message));
  await assert.rejects(async () => run(t, ["--out", "o", "--duplicate-window", "2 hours"]).status, /--duplicate-window: "2 hours" is not a duration/);
  await assert.rejects(async () => run(t, ["--out", "o", "--cluster-port-base", "4223"]).status, /collides/);
  await assert.rejects(async () => run(t, ["--out", "o", "--nodes", "0"]).status, /--nodes must be an integer between 1 and 99/);
  await assert.rejects(async () => run(t, ["--out", "o", "--host", "a,b"]).status, /one host, or one per node/);
});

test("the downlink stream: commands to every hub, file storage, R3, limits, a week, the same duplicate window", async (t) => {
  const r = run(t, ["--out", "root", "--hub-password", "hp"]);
  assert.equal(await r.status, 0);
  const dir = join(r.cwd, "root");
  const dl = JSON.parse(readFileSync(join(dir, DOWNLINK_STREAM_FILE), "utf8")) as Record<string, unknown>;
  assert.deepEqual(
    [dl.name, dl.subjects, dl.storage, dl.retention, dl.num_replicas, dl.duplicate_window, dl.max_age],
    ["ADAOS_DOWNLINK", ["ada.hub.*.cmd.>"], "file", "limits", 3, 7_200 * 1e9, 7 * 86_400 * 1e9],
  );
  const manifest = JSON.parse(readFileSync(join(dir, MANIFEST_FILE), "utf8")) as { stream: string; downlink_stream: string };
  assert.deepEqual([manifest.stream, manifest.downlink_stream], ["ADAOS_UPLINK", "ADAOS_DOWNLINK"]);

  const two = run(t, ["--out", "o", "--nodes", "2", "--duplicate-window", "1h"]);
  assert.equal(await two.status, 0);
  const dl2 = JSON.parse(readFileSync(join(two.cwd, "o", DOWNLINK_STREAM_FILE), "utf8")) as { num_replicas: number; duplicate_window: number };
  assert.deepEqual([dl2.num_replicas, dl2.duplicate_window], [2, 3_600 * 1e9]);
});
