import { strict as assert } from "node:assert";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { parse } from "../cli/args.js";
import { CONFIG_FLAG_OPTIONS, flagOverrides } from "../cli/flags.js";
import { ConfigInvalidError, UsageError } from "../core/errors.js";
import { loadConfig } from "./load.js";

function tempDir(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), "adaos-transport-keys-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const host = () => "hub";

function withFlags(cwd: string, args: string[], env: Record<string, string> = {}) {
  const { values } = parse(args, CONFIG_FLAG_OPTIONS, "run");
  return loadConfig({ env, cwd, hostname: host, flags: flagOverrides(values) }).config;
}

test("nats, root and mqtt have defaults", (t) => {
  const { config } = loadConfig({ env: {}, cwd: tempDir(t), hostname: host });
  assert.deepEqual(config.nats, { port: 4222, host: "0.0.0.0", server_bin: "nats-server", leaf: true, monitor_port: 8222, max_payload: 1048576 });
  assert.deepEqual(config.root, { urls: [], leaf_urls: [], jetstream_domain: "root", user: null, password: null });
  assert.deepEqual(config.mqtt, { port: 1883, host: "0.0.0.0" });
});

test("--nats-port, --mqtt-port, --root and --root-leaf win over file and environment", (t) => {
  const cwd = tempDir(t);
  writeFileSync(join(cwd, "agent.yaml"), "nats:\n  port: 5000\nmqtt:\n  port: 5001\nroot:\n  urls: [nats://file:4222]\n");
  const env = { ADAOS_EDGE_NATS_PORT: "6000", ADAOS_EDGE_ROOT_LEAF_URLS: "nats-leaf://env:7422" };
  const config = withFlags(cwd, ["--nats-port", "4333", "--mqtt-port", "0", "--root", "nats://a:4222, nats://b:4222,", "--root-leaf", "nats-leaf://a:7422,nats-leaf://b:7422"], env);
  assert.equal(config.nats.port, 4333);
  assert.equal(config.mqtt.port, 0, "0 picks a free MQTT port");
  assert.deepEqual(config.root.urls, ["nats://a:4222", "nats://b:4222"]);
  assert.deepEqual(config.root.leaf_urls, ["nats-leaf://a:7422", "nats-leaf://b:7422"]);
});

test("environment: arrays are comma lists, server_bin '' disables, booleans parse", (t) => {
  const env = {
    ADAOS_EDGE_ROOT_URLS: "nats://r1:4222,nats://r2:4222",
    ADAOS_EDGE_ROOT_PASSWORD: "s3cret",
    ADAOS_EDGE_NATS_SERVER_BIN: "",
    ADAOS_EDGE_NATS_LEAF: "false",
    ADAOS_EDGE_MQTT_HOST: "127.0.0.1",
  };
  const { config } = loadConfig({ env, cwd: tempDir(t), hostname: host });
  assert.deepEqual(config.root.urls, ["nats://r1:4222", "nats://r2:4222"]);
  assert.equal(config.root.password, "s3cret");
  assert.equal(config.nats.server_bin, null);
  assert.equal(config.nats.leaf, false);
  assert.equal(config.mqtt.host, "127.0.0.1");
});

test("bad values are refused with the flag or variable that gave them", (t) => {
  const cwd = tempDir(t);
  assert.throws(() => withFlags(cwd, ["--nats-port", "0"]), (e: unknown) => e instanceof UsageError && /--nats-port must be an integer between 1 and 65535/.test(e.message));
  assert.throws(() => withFlags(cwd, ["--mqtt-port", "x"]), UsageError);
  try {
    withFlags(cwd, ["--root", "http://r:4222"], { ADAOS_EDGE_ROOT_LEAF_URLS: "r:7422" });
    assert.fail("expected ConfigInvalidError");
  } catch (err) {
    assert.ok(err instanceof ConfigInvalidError);
    const lines = err.issues.map((i) => `${i.pointer} ${i.message}`);
    // The item is named; load.ts looks origins up by exact path, so array items carry no "(from --root)".
    assert.ok(lines.some((l) => l.startsWith("root.urls.0 must match pattern")), lines.join("\n"));
    assert.ok(lines.some((l) => l.startsWith("root.leaf_urls.0 must match pattern")), lines.join("\n"));
  }
  writeFileSync(join(cwd, "agent.yaml"), "nats:\n  prot: 1\nmqtt:\n  port: 70000\n");
  assert.throws(() => loadConfig({ env: {}, cwd, hostname: host }), (e: unknown) => {
    const lines = e instanceof ConfigInvalidError ? e.issues.map((i) => `${i.pointer} ${i.message}`) : [];
    return lines.includes("nats.prot is not allowed (unknown property)") && lines.includes("mqtt.port must be <= 65535");
  });
});
