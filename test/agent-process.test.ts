/**
 * The agent as users run it: a real `adaos-edge run` process on a free port, its health and
 * metrics, the token, and the lifecycle (SIGTERM/SIGINT, port taken, invalid config).
 */
import { strict as assert } from "node:assert";
import { statSync, readFileSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { test } from "node:test";
import { freePort, runCli, startAgent, tempDir, waitFor, within } from "./helpers.js";

test("a hub starts on embedded defaults, says where it listens, answers /health/ready and stops on SIGTERM within 5 s", async (t) => {
  const agent = await startAgent(t);
  const ready = (await (await fetch(`${agent.url}/health/ready`)).json()) as { ok: boolean; adaos: { version: string; node_id: string; role: string; boot_count: number } };
  assert.equal(ready.adaos.boot_count, 1, "the node state database was written");
  assert.equal(ready.ok, true);
  assert.equal(ready.adaos.node_id, "test-hub");
  assert.equal(ready.adaos.role, "hub");
  assert.match(ready.adaos.version, /^\d+\.\d+\.\d+/);
  assert.equal((await fetch(`${agent.url}/health/live`)).status, 200);

  const lines = agent.stdout().trim().split("\n").map((l) => JSON.parse(l) as Record<string, unknown>);
  const listening = lines.find((l) => typeof l.msg === "string" && l.msg.includes("listening on"));
  assert.ok(listening, "a log line says where the API listens");
  assert.equal(listening.url, agent.url);
  assert.ok(lines.every((l) => typeof l.level === "number" && typeof l.time === "string"), "stdout is NDJSON log lines");

  const t0 = Date.now();
  agent.child.kill("SIGTERM");
  assert.equal(await within(5000, "exit after SIGTERM", agent.exited), 0);
  assert.ok(Date.now() - t0 < 5000);
  assert.match(agent.stdout(), /"msg":"stopped"/);
});

test("the API wants the token on everything but /health", async (t) => {
  const agent = await startAgent(t);
  assert.equal((await fetch(`${agent.url}/metrics`)).status, 401);
  assert.equal((await fetch(`${agent.url}/metrics`, { headers: { "x-adaos-token": "wrong-token-0000000000" } })).status, 401);
  const res = await fetch(`${agent.url}/metrics`, { headers: { "x-adaos-token": agent.token } });
  assert.equal(res.status, 200);
  const text = await res.text();
  assert.match(text, /^adaos_bus_published_total \d+/m, "the boot event was published");
  assert.match(text, /^process_resident_memory_bytes \d+/m);
  agent.child.kill("SIGINT");
  assert.equal(await within(5000, "exit after SIGINT", agent.exited), 0);
});

test("without a configured token the hub generates one into <data_dir>/api.token (mode 0600) and keeps it", async (t) => {
  const port = await freePort();
  const dir = tempDir(t);
  const first = runCli(t, ["run", "--api-port", String(port), "--data-dir", "var"], { cwd: dir, env: { ADAOS_EDGE_LOG_LEVEL: "warn" } });
  await waitFor("ready", async () => ((await fetch(`http://127.0.0.1:${port}/health/ready`)).ok ? true : undefined));
  const file = join(dir, "var", "api.token");
  const token = readFileSync(file, "utf8").trim();
  assert.ok(token.length >= 32);
  assert.equal(statSync(file).mode & 0o777, 0o600);
  assert.equal((await fetch(`http://127.0.0.1:${port}/metrics`, { headers: { authorization: `Bearer ${token}` } })).status, 200);
  first.child.kill("SIGTERM");
  await first.exited;
  const second = runCli(t, ["run", "--api-port", String(port), "--data-dir", "var"], { cwd: dir, env: { ADAOS_EDGE_LOG_LEVEL: "warn" } });
  await waitFor("ready again", async () => ((await fetch(`http://127.0.0.1:${port}/health/ready`)).ok ? true : undefined));
  assert.equal(readFileSync(file, "utf8").trim(), token, "the token survives a restart");
  const again = (await (await fetch(`http://127.0.0.1:${port}/health/ready`)).json()) as { adaos: { boot_count: number } };
  assert.equal(again.adaos.boot_count, 2, "the boot count survives a restart (SQLite in the data dir)");
  second.child.kill("SIGTERM");
  assert.equal(await second.exited, 0);
});

test("a taken port ends start-up with one clear line and status 1", async (t) => {
  const blocker = createServer();
  await new Promise<void>((r) => blocker.listen(0, "127.0.0.1", r));
  t.after(() => new Promise<void>((r) => blocker.close(() => r())));
  const addr = blocker.address();
  const port = typeof addr === "object" && addr !== null ? addr.port : 0;
  const proc = runCli(t, ["run", "--api-port", String(port), "--data-dir", tempDir(t)], { env: { ADAOS_EDGE_LOG_LEVEL: "silent" } });
  assert.equal(await within(5000, "exit on a taken port", proc.exited), 1);
  const errLines = proc.stderr().trim().split("\n");
  assert.equal(errLines.length, 1, proc.stderr());
  assert.match(errLines[0] ?? "", new RegExp(`^adaos-edge: cannot listen on 127\\.0\\.0\\.1:${port}: address already in use; .*--api-port.* \\(E_PORT_IN_USE\\)$`));
});

test("an invalid config ends start-up with status 2 and says what is wrong", async (t) => {
  const dir = tempDir(t);
  const bad = runCli(t, ["run", "--api-port", "99999", "--data-dir", dir]);
  assert.equal(await within(5000, "exit on a bad flag", bad.exited), 2);
  assert.match(bad.stderr(), /--api-port must be an integer between 0 and 65535/);

  writeFileSync(join(dir, "agent.yaml"), "role: hub\napi:\n  port: 'eighty'\n");
  const badFile = runCli(t, ["run", "--config", join(dir, "agent.yaml")]);
  assert.equal(await within(5000, "exit on a bad file", badFile.exited), 2);
  assert.match(badFile.stderr(), /E_CONFIG_INVALID/);
  assert.match(badFile.stderr(), /api\.port must be integer or null/);

  const badEnv = runCli(t, ["run", "--data-dir", dir], { env: { ADAOS_EDGE_ROLE: "satellite" } });
  assert.equal(await within(5000, "exit on a bad env value", badEnv.exited), 2);
  assert.match(badEnv.stderr(), /role must be one of "hub", "member" \(from ADAOS_EDGE_ROLE\)/);
});

test("config check prints one 'path message' line per problem and exits 2; a good file exits 0", async (t) => {
  const dir = tempDir(t);
  writeFileSync(join(dir, "bad.yaml"), "role: satellite\napi:\n  port: 70000\n  hots: x\n");
  const bad = runCli(t, ["config", "check", "--config", join(dir, "bad.yaml")]);
  assert.equal(await bad.exited, 2);
  const lines = bad.stderr().trim().split("\n");
  assert.deepEqual(lines.slice(0, -1).sort(), [
    "api.hots is not allowed (unknown property)",
    "api.port must be <= 65535",
    'role must be one of "hub", "member"',
  ]);
  assert.match(lines.at(-1) ?? "", /is invalid \(3 problems\) \(E_CONFIG_INVALID\)$/);

  writeFileSync(join(dir, "good.yaml"), "role: member\nnode_id: tv\n");
  const good = runCli(t, ["config", "check", "--config", join(dir, "good.yaml")]);
  assert.equal(await good.exited, 0);
  assert.match(good.stdout(), /config ok: .*good\.yaml \(role member, node tv\)/);

  const broken = runCli(t, ["config", "check", "--config", join(dir, "missing.yaml")]);
  assert.equal(await broken.exited, 2);
  assert.match(broken.stderr(), /cannot read config file .*missing\.yaml: no such file \(E_CONFIG_READ\)/);
});

test("version, help and unknown commands", async (t) => {
  const v = runCli(t, ["version"]);
  assert.equal(await v.exited, 0);
  assert.match(v.stdout(), /^adaos-edge \d+\.\d+\.\d+ \(node 22\.\d+\.\d+, linux-\w+\)\n$/);
  const h = runCli(t, ["--help"]);
  assert.equal(await h.exited, 0);
  assert.match(h.stdout(), /events registry lint/);
  const u = runCli(t, ["events", "frobnicate"]);
  assert.equal(await u.exited, 2);
  assert.match(u.stderr(), /unknown command "events frobnicate"/);
  assert.match(u.stderr(), /adaos-edge events publish/);
  const f = runCli(t, ["run", "--no-such-flag"]);
  assert.equal(await f.exited, 2);
  assert.match(f.stderr(), /Unknown option '--no-such-flag'.*\(E_USAGE\)|E_USAGE/s);
});
