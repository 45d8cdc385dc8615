/**
 * Tests of tool-runner.ts with real child processes (small /bin/sh scripts in a temp dir): the
 * result, the working directory, bad output, a failing exit with its stderr tail, death by
 * signal, a missing program, the timeout (SIGTERM, then SIGKILL for a program that ignores it),
 * oversized output, the input_schema check, the minimal environment, an abort, and that what a
 * program leaves behind in its group is killed.
 */
import { strict as assert } from "node:assert";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { BadRequestError, CancelledError, InternalError, TimeoutError } from "../core/errors.js";
import { loadSkill } from "./skill-load.js";
import { failure, shellTool, tempDir, writeSkill } from "./test-fixture.js";
import { KILL_GRACE_MS, MAX_OUTPUT_BYTES, STDERR_TAIL_BYTES, startTool, toolEnv, type ToolRun } from "./tool-runner.js";

const EXAMPLES = fileURLToPath(new URL("../../../examples/skills", import.meta.url));

function run(tool: ToolRun["tool"], extra: Partial<ToolRun> = {}): ReturnType<typeof startTool> {
  return startTool({ tool, arguments: { city: "Oslo" }, timeoutMs: 5000, callId: "call-1", ...extra });
}

test("the arguments go in on stdin and the JSON printed on stdout is the result; the working directory is the skill folder", async (t) => {
  const dir = tempDir(t);
  const echo = run(shellTool(dir, "cat"));
  assert.deepEqual(await echo.result, { city: "Oslo" });
  await echo.exited;
  assert.equal(await run(shellTool(dir, `printf '"%s"' "$(pwd)"`)).result, dir);
  assert.equal(await run(shellTool(dir, "echo '  42  '")).result, 42, "surrounding white space is fine");
});

test("output that is not one JSON value, or nothing, fails with InternalError quoting it", async (t) => {
  const dir = tempDir(t);
  const bad = await failure(run(shellTool(dir, "echo hello")).result);
  assert.ok(bad instanceof InternalError);
  assert.match(bad.message, /^t:run printed output that is not one JSON value \(.*\): hello$/);
  assert.match((await failure(run(shellTool(dir, "echo '{}'; echo '{}'")).result)).message, /not one JSON value/);
  assert.match((await failure(run(shellTool(dir, "true")).result)).message, /printed nothing on stdout; a tool prints one JSON value/);
});

test("a non-zero exit fails with the status and the last 2 KiB of stderr; a death by signal names the signal", async (t) => {
  const dir = tempDir(t);
  const failed = await failure(run(shellTool(dir, "echo '{}'; echo 'boom: disk full' >&2; exit 3")).result);
  assert.ok(failed instanceof InternalError);
  assert.equal(failed.message, "t:run exited with status 3; stderr: boom: disk full");
  const long = await failure(run(shellTool(dir, `i=0; while [ $i -lt 300 ]; do printf 'xxxxxxxxxxxxxxxxxxxx' >&2; i=$((i+1)); done; echo THE-END >&2; exit 1`)).result);
  assert.match(long.message, /THE-END$/);
  assert.ok(!long.message.includes("x".repeat(STDERR_TAIL_BYTES)), "only the tail is kept");
  assert.ok(long.message.length < STDERR_TAIL_BYTES + 100, `message of ${long.message.length} chars`);
  assert.equal((await failure(run(shellTool(dir, "exit 2")).result)).message, "t:run exited with status 2 (nothing on stderr)");
  assert.match((await failure(run(shellTool(dir, "kill -9 $$")).result)).message, /^t:run was killed by SIGKILL/);
});

test("a program that cannot start fails with InternalError naming it", async (t) => {
  const dir = tempDir(t);
  const missing = run({ skill: "t", name: "run", argv: ["adaos-no-such-program"], cwd: dir });
  const e = await failure(missing.result);
  assert.ok(e instanceof InternalError);
  assert.equal(e.message, "t:run cannot start adaos-no-such-program: no such program (on PATH or at that path)");
  await missing.exited;
});

test("timeout: the call fails at the deadline with TimeoutError; SIGTERM stops the program and what it started", async (t) => {
  const dir = tempDir(t);
  const started = Date.now();
  const slow = run(shellTool(dir, "sleep 30; echo '{}'"), { timeoutMs: 200 });
  const e = await failure(slow.result);
  assert.ok(e instanceof TimeoutError);
  assert.match(e.message, /^t:run did not finish within 200 ms; it was stopped \(SIGTERM, then SIGKILL after 1000 ms\)$/);
  await slow.exited;
  assert.ok(Date.now() - started < 2000, `took ${Date.now() - started} ms: the sleep child was not left holding stdout`);
});

test("timeout: a program that ignores SIGTERM gets SIGKILL after the grace; the call fails at the deadline, not after the kill", async (t) => {
  const dir = tempDir(t);
  const started = Date.now();
  const stubborn = run(shellTool(dir, "trap '' TERM; sleep 30"), { timeoutMs: 200 });
  await failure(stubborn.result);
  const failedAfter = Date.now() - started;
  await stubborn.exited;
  const exitedAfter = Date.now() - started;
  assert.ok(failedAfter < 200 + KILL_GRACE_MS / 2, `failed after ${failedAfter} ms`);
  assert.ok(exitedAfter >= 200 + KILL_GRACE_MS - 50, `exited after ${exitedAfter} ms: before the SIGKILL was due`);
  assert.ok(exitedAfter < 200 + KILL_GRACE_MS + 1500, `exited after ${exitedAfter} ms`);
});

test("more than 1 MiB on stdout: killed and failed", async (t) => {
  const dir = tempDir(t);
  const started = Date.now();
  const e = await failure(run(shellTool(dir, "yes aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa")).result);
  assert.ok(e instanceof InternalError);
  assert.equal(e.message, `t:run printed more than ${MAX_OUTPUT_BYTES} bytes on stdout and was killed`);
  assert.ok(Date.now() - started < 3000);
});

test("input_schema: arguments that do not match are refused with the problems, and the program never runs", async (t) => {
  const root = tempDir(t);
  const dir = writeSkill(root, "weather", `
name: weather
version: 1.0.0
tools:
  now:
    argv: ["./now.sh"]
    input_schema: { type: object, required: [city], properties: { city: { type: string } } }
`, { "now.sh": "#!/bin/sh\ntouch ran\ncat\n" });
  const loaded = loadSkill(dir);
  assert.ok(loaded.ok);
  const tool = loaded.skill.tools.get("now");
  assert.ok(tool !== undefined);
  const refused = await failure(run(tool, { arguments: { city: 7 } }).result);
  assert.ok(refused instanceof BadRequestError);
  assert.deepEqual(refused.issues, [{ pointer: "/arguments/city", message: "must be string" }]);
  assert.match(refused.message, /^the arguments of weather:now do not match its input_schema: \/arguments\/city must be string$/);
  assert.equal(existsSync(join(dir, "ran")), false);
  assert.deepEqual(await run(tool).result, { city: "Oslo" });
  assert.equal(existsSync(join(dir, "ran")), true);
});

test("the environment is PATH, HOME, LANG and ADAOS_TOOL_CALL_ID, nothing else", async (t) => {
  const dir = tempDir(t);
  const script = `printf '{'; env | sort | while IFS='=' read -r k v; do printf '"%s":"%s",' "$k" "$v"; done; printf '"_":0}'`;
  const base = { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: "/home/tester", LANG: "de_DE.UTF-8", ADAOS_EDGE_TOKEN: "secret", SECRET: "x" };
  const env = (await run(shellTool(dir, script), { env: base, callId: "trace-42" }).result) as Record<string, unknown>;
  delete env._;
  for (const own of ["PWD", "SHLVL"]) delete env[own]; // set by the shell that prints them (dash: PWD; bash: SHLVL too)
  assert.deepEqual(env, { ADAOS_TOOL_CALL_ID: "trace-42", HOME: "/home/tester", LANG: "de_DE.UTF-8", PATH: base.PATH });
  assert.deepEqual(toolEnv("c", {}), { PATH: "/usr/local/bin:/usr/bin:/bin", LANG: "C.UTF-8", ADAOS_TOOL_CALL_ID: "c" }, "defaults when the agent has none");
});

test("an abort stops the program with CancelledError; one already aborted starts nothing", async (t) => {
  const dir = tempDir(t);
  const abort = new AbortController();
  const started = Date.now();
  const running = run(shellTool(dir, "sleep 30"), { signal: abort.signal });
  setTimeout(() => abort.abort(), 100);
  assert.ok((await failure(running.result)) instanceof CancelledError);
  await running.exited;
  assert.ok(Date.now() - started < 2000);
  const never = run(shellTool(dir, "touch ran-anyway; cat"), { signal: abort.signal });
  assert.match((await failure(never.result)).message, /the agent is stopping/);
  assert.equal(existsSync(join(dir, "ran-anyway")), false);
});

test("what a program leaves running in its group is killed when it exits, so the call does not wait for it", async (t) => {
  const dir = tempDir(t);
  const started = Date.now();
  const call = run(shellTool(dir, "sleep 30 & echo '{\"left\":true}'"));
  assert.deepEqual(await call.result, { left: true });
  await call.exited;
  assert.ok(Date.now() - started < 2000, `took ${Date.now() - started} ms`);
});

test("the example echo skill answers its arguments with a timestamp", async () => {
  const tool = (() => {
    const loaded = loadSkill(join(EXAMPLES, "echo"));
    assert.ok(loaded.ok);
    return loaded.skill.tools.get("say");
  })();
  assert.ok(tool !== undefined);
  const out = (await run(tool, { arguments: { text: "hi" } }).result) as { echo: unknown; at: string };
  assert.deepEqual(out.echo, { text: "hi" });
  assert.match(out.at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
});
