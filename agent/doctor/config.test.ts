import { strict as assert } from "node:assert";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test, type TestContext } from "node:test";
import { configCheck, configOf, loadForDoctor } from "./config.js";
import { context, fakeSystem } from "./fake-system.js";

async function dir(t: TestContext): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), "adaos-doctor-config-"));
  t.after(() => rm(d, { recursive: true, force: true }));
  return d;
}

const hostname = () => "pi";
const findingOf = (outcome: ReturnType<typeof loadForDoctor>) => configCheck.run(context(fakeSystem(), configOf(outcome), outcome));

test("config ok: agent.yaml valid, with role and node", async (t) => {
  const cwd = await dir(t);
  await writeFile(join(cwd, "agent.yaml"), "role: member\nnode_id: tv\n");
  const outcome = loadForDoctor({ env: {}, cwd, hostname });
  assert.deepEqual(await findingOf(outcome), { status: "ok", message: `${join(cwd, "agent.yaml")} valid (role member, node tv)` });
  const none = loadForDoctor({ env: {}, cwd: await dir(t), hostname });
  assert.deepEqual(await findingOf(none), { status: "ok", message: "no config file, built-in defaults (role hub, node pi)" });
});

test("config warn: unknown ADAOS_EDGE_ variables are listed", async (t) => {
  const outcome = loadForDoctor({ env: { ADAOS_EDGE_API_PROT: "1" }, cwd: await dir(t), hostname });
  const f = await findingOf(outcome);
  assert.equal(f.status, "warn");
  assert.equal(f.message, "no config file, built-in defaults (role hub, node pi) with 1 warning");
  assert.deepEqual(f.details, ["environment variable ADAOS_EDGE_API_PROT is not a config key; ignored"]);
});

test("config fail: issues as `path message`; the fallback keeps the flags and environment that still validate", async (t) => {
  const cwd = await dir(t);
  await writeFile(join(cwd, "agent.yaml"), "role: satellite\napi:\n  prot: 1\n");
  const flags = [{ path: ["data_dir"], value: "/srv/state", origin: "--data-dir" }];
  const outcome = loadForDoctor({ env: { ADAOS_EDGE_NODE_ID: "from-env" }, cwd, hostname, flags });
  assert.equal(outcome.ok, false);
  const config = configOf(outcome);
  assert.deepEqual([config.data_dir, config.node_id, config.role, config.config_file], ["/srv/state", "from-env", "hub", null]);
  const f = await findingOf(outcome);
  assert.equal(f.status, "fail");
  assert.match(f.message, /agent\.yaml is invalid \(2 problems\); other checks use defaults, environment and flags$/);
  assert.equal(f.details?.length, 2);
  assert.ok(f.details?.some((d) => /^role /.test(d)) && f.details.some((d) => /^api\.prot /.test(d)), f.details?.join("\n"));
  assert.match(f.fix ?? "", /adaos-edge config check/);
});

test("config fail: a bad environment variable drops the environment from the fallback; YAML errors carry line numbers", async (t) => {
  const cwd = await dir(t);
  const badEnv = loadForDoctor({ env: { ADAOS_EDGE_API_PORT: "eighty" }, cwd, hostname });
  assert.ok(!badEnv.ok && badEnv.fallbackFrom === "defaults and flags");
  assert.equal(configOf(badEnv).api.port, 8777);
  await writeFile(join(cwd, "agent.yaml"), "role: hub\n  bad: indent\n");
  const f = await findingOf(loadForDoctor({ env: {}, cwd, hostname }));
  assert.equal(f.status, "fail");
  assert.match(f.message, /is not valid YAML/);
  assert.match(f.details?.[0] ?? "", /agent\.yaml:\d+:\d+ \S/);
});
