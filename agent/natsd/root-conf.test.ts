import { strict as assert } from "node:assert";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { findBinary, INSTALL_HINT } from "./binary.js";
import { checkConfig } from "./check-config.js";
import { planRoot, renderRootNode, type RootSpec } from "./root-conf.js";
import { uplinkStreamConfig } from "./root-stream.js";

const spec = (over: Partial<RootSpec> = {}): RootSpec => ({
  nodes: 3,
  hosts: ["127.0.0.1"],
  clientPortBase: 4222,
  clusterPortBase: 6222,
  leafPortBase: 7422,
  monitorPortBase: 8222,
  dir: "/srv/root",
  domain: "root",
  hubUser: "hub",
  hubPassword: 'p"w',
  routePassword: "r@s",
  ...over,
});

test("one host: consecutive ports per node; N hosts: the base ports on each, listening everywhere", () => {
  const one = planRoot(spec());
  assert.deepEqual(one.map((n) => [n.name, n.listen, n.clientPort, n.clusterPort, n.leafPort, n.monitorPort]), [
    ["root-1", "127.0.0.1", 4222, 6222, 7422, 8222],
    ["root-2", "127.0.0.1", 4223, 6223, 7423, 8223],
    ["root-3", "127.0.0.1", 4224, 6224, 7424, 8224],
  ]);
  assert.deepEqual(one.map((n) => n.leafUrl), ["nats-leaf://127.0.0.1:7422", "nats-leaf://127.0.0.1:7423", "nats-leaf://127.0.0.1:7424"]);
  assert.equal(one[1]?.storeDir, "/srv/root/root-2");
  const many = planRoot(spec({ hosts: ["r1.lan", "r2.lan", "fd00::3"] }));
  assert.deepEqual(many.map((n) => [n.listen, n.clientUrl]), [
    ["0.0.0.0", "nats://r1.lan:4222"],
    ["0.0.0.0", "nats://r2.lan:4222"],
    ["0.0.0.0", "nats://[fd00::3]:4222"],
  ]);
});

test("impossible plans are refused with the reason", () => {
  assert.throws(() => planRoot(spec({ hosts: ["a", "b"] })), /one host, or one per node/);
  assert.throws(() => planRoot(spec({ clusterPortBase: 4223 })), /root-2 client port 4223 collides with root-1 cluster|root-1 cluster port 4223 collides with root-2 client/);
  assert.throws(() => planRoot(spec({ clientPortBase: 65534 })), /root-3: clientPort 65536 is not a TCP port/);
  assert.throws(() => planRoot(spec({ nodes: 0 })), /at least 1/);
});

test("each node: JetStream domain, routes to all with the route secret, leaf listener, the hubs' account", () => {
  const nodes = planRoot(spec());
  const text = renderRootNode(spec(), nodes, 1);
  for (const line of [
    'server_name: "root-2"',
    "port: 4223",
    'http: "127.0.0.1:8223"',
    '  domain: "root"',
    '  store_dir: "/srv/root/root-2"',
    '  name: "adaos-root"',
    '    "nats-route://route:r%40s@127.0.0.1:6222"',
    '    "nats-route://route:r%40s@127.0.0.1:6224"',
    '    password: "r@s"',
    '  advertise: "127.0.0.1:7423"',
    '        password: "p\\"w"',
    '    jetstream: "enabled"',
  ]) {
    assert.ok(text.split("\n").includes(line), `missing line ${line}\n${text}`);
  }
});

test("nats-server -t accepts every node's config", async (t) => {
  const bin = findBinary("nats-server");
  if (bin === null) throw new Error(`nats-server is not installed; install it with: ${INSTALL_HINT}`);
  const dir = mkdtempSync(join(tmpdir(), "adaos-rootconf-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const s = spec({ dir });
  const nodes = planRoot(s);
  for (let i = 0; i < nodes.length; i++) {
    const file = join(dir, `root-${i + 1}.conf`);
    writeFileSync(file, renderRootNode(s, nodes, i));
    assert.deepEqual(await checkConfig(bin, file), { ok: true });
  }
});

test("the uplink stream: duplicate window in nanoseconds, R3 at most, never longer than max age", () => {
  const c = uplinkStreamConfig({ duplicateWindowMs: 7_200_000, replicas: 5 });
  assert.equal(c.duplicate_window, 7_200_000_000_000);
  assert.equal(c.num_replicas, 3);
  assert.equal(uplinkStreamConfig({ duplicateWindowMs: 1, replicas: 1 }).num_replicas, 1);
  assert.ok(c.max_age >= c.duplicate_window);
  assert.throws(() => uplinkStreamConfig({ duplicateWindowMs: 8 * 86_400_000, replicas: 3 }), /max age/);
});
