import { strict as assert } from "node:assert";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { ConfigInvalidError, ConfigReadError } from "../core/errors.js";
import { loadConfig, nodeIdFromHostname } from "./load.js";

function tempDir(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), "adaos-config-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const host = () => "Pi-Hub.local";

test("built-in defaults give a runnable hub", (t) => {
  const cwd = tempDir(t);
  const { config, warnings } = loadConfig({ env: {}, cwd, hostname: host });
  assert.equal(config.role, "hub");
  assert.equal(config.node_id, "pi-hub");
  assert.equal(config.api.host, "127.0.0.1");
  assert.equal(config.api.port, 8777);
  assert.equal(config.data_dir, join(cwd, "var"));
  assert.equal(config.log.level, "info");
  assert.equal(config.bus.request_timeout_ms, 5000);
  assert.equal(config.config_file, null);
  assert.deepEqual(warnings, []);
  assert.ok(Object.isFrozen(config) && Object.isFrozen(config.api), "config is frozen");
});

test("a member defaults to port 8778", (t) => {
  const { config } = loadConfig({ env: { ADAOS_EDGE_ROLE: "member" }, cwd: tempDir(t), hostname: host });
  assert.equal(config.api.port, 8778);
});

test("precedence: defaults < agent.yaml < ADAOS_EDGE_* < flags", (t) => {
  const cwd = tempDir(t);
  writeFileSync(join(cwd, "agent.yaml"), "role: member\nnode_id: tv\napi:\n  port: 9000\n  host: 0.0.0.0\nlog:\n  level: warn\n");
  const fromFile = loadConfig({ env: {}, cwd, hostname: host }).config;
  assert.equal(fromFile.config_file, join(cwd, "agent.yaml"), "./agent.yaml is picked up");
  assert.deepEqual([fromFile.role, fromFile.node_id, fromFile.api.port, fromFile.api.host, fromFile.log.level], ["member", "tv", 9000, "0.0.0.0", "warn"]);
  const env = { ADAOS_EDGE_API_PORT: "9001", ADAOS_EDGE_NODE_ID: "tv2", ADAOS_EDGE_LOG_LEVEL: "debug" };
  const fromEnv = loadConfig({ env, cwd, hostname: host }).config;
  assert.deepEqual([fromEnv.api.port, fromEnv.node_id, fromEnv.log.level], [9001, "tv2", "debug"]);
  const fromFlags = loadConfig({ env, cwd, hostname: host, flags: [{ path: ["api", "port"], value: 9002, origin: "--api-port" }] }).config;
  assert.equal(fromFlags.api.port, 9002);
  assert.equal(fromFlags.node_id, "tv2");
});

test("ADAOS_EDGE_CONFIG and --config name the file; a missing named file is an error", (t) => {
  const cwd = tempDir(t);
  writeFileSync(join(cwd, "other.yaml"), "node_id: from-env-file\n");
  assert.equal(loadConfig({ env: { ADAOS_EDGE_CONFIG: "other.yaml" }, cwd }).config.node_id, "from-env-file");
  assert.throws(() => loadConfig({ file: "nope.yaml", env: {}, cwd }), (e: unknown) => e instanceof ConfigReadError && /no such file/.test(e.message));
});

test("schema violations come back as one 'path message' issue each, naming env and flag origins", (t) => {
  const cwd = tempDir(t);
  writeFileSync(join(cwd, "agent.yaml"), "role: satellite\napi:\n  prot: 1\n  max_body_bytes: 10\nbus:\n  dedup_window: -1\n");
  try {
    loadConfig({ env: { ADAOS_EDGE_API_PORT: "70000", ADAOS_EDGE_NODE_ID: "Bad Id!" }, cwd });
    assert.fail("expected ConfigInvalidError");
  } catch (err) {
    assert.ok(err instanceof ConfigInvalidError);
    const lines = err.issues.map((i) => `${i.pointer} ${i.message}`);
    assert.ok(lines.includes('role must be one of "hub", "member"'), lines.join("\n"));
    assert.ok(lines.includes("api.prot is not allowed (unknown property)"), lines.join("\n"));
    assert.ok(lines.includes("api.max_body_bytes must be >= 1024"), lines.join("\n"));
    assert.ok(lines.includes("bus.dedup_window must be >= 0"), lines.join("\n"));
    assert.ok(lines.includes("api.port must be <= 65535 (from ADAOS_EDGE_API_PORT)"), lines.join("\n"));
    assert.ok(lines.some((l) => l.startsWith("node_id must match pattern") && l.endsWith("(from ADAOS_EDGE_NODE_ID)")), lines.join("\n"));
  }
});

test("environment values that cannot be parsed are reported with the variable name", (t) => {
  assert.throws(
    () => loadConfig({ env: { ADAOS_EDGE_API_PORT: "eighty" }, cwd: tempDir(t) }),
    (e: unknown) => e instanceof ConfigInvalidError && e.issues[0]?.message === 'must be a number, got "eighty" (from ADAOS_EDGE_API_PORT)',
  );
});

test("unknown ADAOS_EDGE_ variables are warnings, not silent", (t) => {
  const { warnings } = loadConfig({ env: { ADAOS_EDGE_APIPORT: "1", ADAOS_EDGE_CONFIG: "" }, cwd: tempDir(t) });
  assert.deepEqual(warnings, ["environment variable ADAOS_EDGE_APIPORT is not a config key; ignored"]);
});

test("broken YAML and non-mapping files are clear errors", (t) => {
  const cwd = tempDir(t);
  writeFileSync(join(cwd, "bad.yaml"), "role: hub\napi: [unclosed\n");
  assert.throws(
    () => loadConfig({ file: "bad.yaml", env: {}, cwd }),
    (e: unknown) => e instanceof ConfigReadError && e.issues.length > 0 && /bad\.yaml:\d+:\d+/.test(e.issues[0]?.pointer ?? ""),
  );
  writeFileSync(join(cwd, "list.yaml"), "- a\n- b\n");
  assert.throws(() => loadConfig({ file: "list.yaml", env: {}, cwd }), ConfigInvalidError);
  writeFileSync(join(cwd, "empty.yaml"), "");
  assert.equal(loadConfig({ file: "empty.yaml", env: {}, cwd }).config.role, "hub", "an empty file is an empty config");
  writeFileSync(join(cwd, "dup.yaml"), "role: hub\nrole: member\n");
  assert.throws(() => loadConfig({ file: "dup.yaml", env: {}, cwd }), ConfigReadError, "duplicate keys are refused");
});

test("host names become valid node ids", () => {
  assert.equal(nodeIdFromHostname("raspberrypi"), "raspberrypi");
  assert.equal(nodeIdFromHostname("Living Room TV.lan"), "living-room-tv");
  assert.equal(nodeIdFromHostname("___"), "node");
  assert.equal(nodeIdFromHostname("x".repeat(100)).length, 63);
});

test("array overrides: comma-separated strings, or a JSON array for lists of objects; bad JSON names the key", (t) => {
  const cwd = tempDir(t);
  const listed = loadConfig({ env: { ADAOS_EDGE_DIRECTORY_TAGS: "kitchen, tv ,," }, cwd, hostname: host }).config;
  assert.deepEqual(listed.directory.tags, ["kitchen", "tv"]);
  const caps = '[{"id":"capability://display.play","prio":50,"inputs":["video/mp4"]}]';
  const fromJson = loadConfig({ env: { ADAOS_EDGE_DIRECTORY_CAPABILITIES: caps }, cwd, hostname: host }).config;
  assert.equal(fromJson.directory.capabilities[0]?.id, "capability://display.play");
  assert.equal(fromJson.directory.capabilities[0]?.prio, 50);
  assert.throws(() => loadConfig({ env: { ADAOS_EDGE_DIRECTORY_CAPABILITIES: "[{oops" }, cwd, hostname: host }), (e: unknown) => {
    const text = e instanceof ConfigInvalidError ? e.issues.map((i) => `${i.pointer} ${i.message}`).join("\n") : "";
    return /directory/.test(text) && /capabilities/.test(text) && /JSON array/.test(text);
  });
});
