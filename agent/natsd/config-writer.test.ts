import { strict as assert } from "node:assert";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { loadConfig } from "../config/load.js";
import { findBinary, INSTALL_HINT } from "./binary.js";
import { checkConfig } from "./check-config.js";
import { hubNatsConfig, natsPaths, renderHubConfig, withCredentials, writeConfigFile, type HubNatsConfig } from "./config-writer.js";
import { newNodeKey } from "../broker/node-key.js";
import { hubUsers, subnetUsers } from "./users.js";

function tempDir(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), "adaos-natsconf-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function natsServer(): string {
  const bin = findBinary("nats-server");
  if (bin === null) throw new Error(`nats-server is not installed; install it with: ${INSTALL_HINT}`);
  return bin;
}

const TRICKY = 'p$ss"w\\rd #1 // x';

function sample(dir: string, leaf = true): HubNatsConfig {
  return {
    nodeId: "hub-1",
    host: "0.0.0.0",
    port: 4222,
    monitorPort: 8222,
    maxPayload: 1048576,
    dir,
    users: subnetUsers({ hubId: "hub-1", hubPassword: TRICKY, token: "subnet-token-0123456789", memberIds: ["tv", "speaker", "tv"] }),
    leaf: leaf ? { urls: ["nats-leaf://r1:7422", "nats-leaf://u:p@r2:7422"], user: "hub", password: "a:b@c/d" } : undefined,
  };
}

test("the rendered config: listener, monitoring on loopback, JetStream domain and store, users, leaf remote", (t) => {
  const dir = tempDir(t);
  const text = renderHubConfig(sample(dir));
  for (const line of [
    'server_name: "hub-1"',
    'host: "0.0.0.0"',
    "port: 4222",
    "max_payload: 1048576",
    `pid_file: "${join(dir, "nats-server.pid")}"`,
    'http: "127.0.0.1:8222"',
    '  domain: "hub-1"',
    `  store_dir: "${dir}"`,
    '      password: "p$ss\\"w\\\\rd #1 // x"',
    "  reconnect: 1",
    '      urls: ["nats-leaf://hub:a%3Ab%40c%2Fd@r1:7422", "nats-leaf://u:p@r2:7422"]',
  ]) {
    assert.ok(text.split("\n").includes(line), `missing line ${line}\n${text}`);
  }
  assert.equal(renderHubConfig(sample(dir)), text, "deterministic");
  assert.equal(text.match(/user: "tv"/g)?.length, 1, "duplicate member ids collapse");
  assert.doesNotMatch(renderHubConfig(sample(dir, false)), /leafnodes/);
});

test("member permissions follow the seed scheme; the hub's user is unrestricted", (t) => {
  const text = renderHubConfig(sample(tempDir(t)));
  const tv = text.slice(text.indexOf('user: "tv"'));
  assert.match(tv, /allow: \["ada\.agent\.tv\.evt", "telemetry\.tv\.>", "ada\.hub\.hub-1\.req\.>", "_INBOX\.>"\]/);
  assert.match(tv, /deny: \["ada\.hub\.hub-1\.broadcast\.>", "ada\.hub\.\*\.broadcast\.>"\]/);
  assert.match(tv, /allow: \["ada\.agent\.tv\.cmd", "ada\.hub\.\*\.broadcast\.>", "_INBOX\.>"\]/);
  const hub = text.slice(text.indexOf('user: "hub-1"'), text.indexOf('user: "speaker"'));
  assert.doesNotMatch(hub, /permissions/);
  assert.throws(() => renderHubConfig({ ...sample("/x"), users: [] }), /needs a hub user/);
});

test("nats-server -t accepts the rendered config, and names what it rejects", async (t) => {
  const dir = tempDir(t);
  const bin = natsServer();
  const file = join(dir, "ok.conf");
  writeConfigFile(file, renderHubConfig(sample(dir)));
  assert.deepEqual(await checkConfig(bin, file), { ok: true });
  assert.equal(statSync(file).mode & 0o777, 0o600, "secrets: owner-only");
  const bad = join(dir, "dup.conf");
  const s = sample(dir);
  writeConfigFile(bad, renderHubConfig({ ...s, users: [...s.users, { user: "tv", password: "x", role: "member", nodeId: "tv" }] }));
  const verdict = await checkConfig(bin, bad);
  assert.equal(verdict.ok, false);
  assert.match(verdict.ok ? "" : verdict.reason, /Duplicate user "tv"/);
});

test("from the agent config: ports, data dir, leaf only when enabled and configured", (t) => {
  const cwd = tempDir(t);
  const users = subnetUsers({ hubId: "h", hubPassword: "pw", token: null, memberIds: [] });
  const env = { ADAOS_EDGE_NODE_ID: "h", ADAOS_EDGE_NATS_PORT: "4333", ADAOS_EDGE_ROOT_LEAF_URLS: "nats-leaf://r:7422", ADAOS_EDGE_ROOT_USER: "hub", ADAOS_EDGE_ROOT_PASSWORD: "x" };
  const c = hubNatsConfig(loadConfig({ env, cwd }).config, users);
  assert.deepEqual([c.nodeId, c.port, c.monitorPort, c.dir], ["h", 4333, 8222, join(cwd, "var", "nats")]);
  assert.deepEqual(c.leaf, { urls: ["nats-leaf://r:7422"], user: "hub", password: "x" });
  assert.equal(hubNatsConfig(loadConfig({ env: { ...env, ADAOS_EDGE_NATS_LEAF: "false" }, cwd }).config, users).leaf, undefined);
  assert.equal(hubNatsConfig(loadConfig({ env: {}, cwd }).config, users).leaf, undefined);
  assert.deepEqual(natsPaths("/d"), { conf: "/d/nats-server.conf", pid: "/d/nats-server.pid" });
});

test("credentials go into URLs without userinfo, percent-encoded", () => {
  assert.equal(withCredentials("nats-leaf://h:7422", "u", "p@ss:w/d"), "nats-leaf://u:p%40ss%3Aw%2Fd@h:7422");
  assert.equal(withCredentials("nats-leaf://x:y@h:7422", "u", "p"), "nats-leaf://x:y@h:7422");
  assert.equal(withCredentials("tls://h:7422/", "u", null), "tls://u@h:7422/");
  assert.equal(withCredentials("nats-leaf://h:7422", null, "p"), "nats-leaf://h:7422");
});

test("members with an NKey appear by public key only, with their own permissions; nats-server -t takes the mix", async (t) => {
  const dir = tempDir(t);
  const tv = newNodeKey();
  const users = hubUsers({ hubId: "hub-1", hubPassword: "pw", token: "subnet-token-0123456789", members: [{ nodeId: "tv", publicKey: tv.publicKey }, { nodeId: "old", publicKey: null }] });
  const text = renderHubConfig({ ...sample(dir, false), users });
  const entry = text.slice(text.indexOf(`nkey: "${tv.publicKey}"`));
  assert.ok(entry.length < text.length, text);
  assert.match(entry, /allow: \["ada\.agent\.tv\.evt", "telemetry\.tv\.>", "ada\.hub\.hub-1\.req\.>", "_INBOX\.>"\]/, "tv's permissions");
  assert.ok(!text.includes(tv.seed), "never the seed");
  assert.doesNotMatch(text, /user: "tv"/, "no password login for a node with a key");
  assert.match(text, /user: "old"\n\s+password: "subnet-token-0123456789"/, "a credential from before NKeys: the subnet token");
  const file = join(dir, "nkeys.conf");
  writeConfigFile(file, text);
  assert.deepEqual(await checkConfig(natsServer(), file), { ok: true });
});
