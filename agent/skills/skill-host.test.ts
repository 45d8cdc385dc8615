/**
 * Tests of skill-host.ts with real skills in a temp dir: list() as capacity.skills, call()
 * answers and errors, the timeout precedence, the idempotency cache (replay, TTL on a
 * ManualClock, bound, failures not kept, a repeat joining a running call, other arguments a
 * conflict), the per-tool concurrency bound, and stop().
 */
import { strict as assert } from "node:assert";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test, type TestContext } from "node:test";
import { ManualClock } from "../core/clock.js";
import { BadRequestError, CancelledError, ConflictError, InternalError, NotFoundError, TimeoutError } from "../core/errors.js";
import { uuidv7Time } from "../core/ids.js";
import { silentLogger } from "../core/logger.js";
import { MetricsRegistry } from "../core/metrics.js";
import { IDEMPOTENCY_TTL_MS, MAX_CONCURRENT_PER_TOOL, SkillHost, type SkillHostOptions } from "./skill-host.js";
import { loadSkills } from "./skill-load.js";
import { failure, tempDir, writeSkill } from "./test-fixture.js";

const SKILL = `
name: counter
version: 3.1.0
tools:
  count:
    argv: ["./count.sh"]
  fail:
    argv: ["./fail.sh"]
  slow:
    argv: ["./slow.sh"]
    timeout_ms: 150
  peak:
    argv: ["./peak.sh"]
`;

/** count: one line per run in runs.log, answers {runs, args}. fail: fails until ok-now exists. */
const SCRIPTS = {
  "count.sh": `#!/bin/sh\nargs=$(cat)\necho run >> runs.log\nprintf '{"runs":%s,"args":%s}' "$(wc -l < runs.log | tr -d ' ')" "$args"\n`,
  "fail.sh": `#!/bin/sh\necho run >> fails.log\n[ -e ok-now ] || { echo 'not yet' >&2; exit 1; }\necho '"fine"'\n`,
  "slow.sh": `#!/bin/sh\nsleep "\${SLEEP:-1}"\necho '{}'\n`,
  // Marks itself running, counts the others, waits, unmarks: its answer is the peak it saw.
  "peak.sh": `#!/bin/sh\ntouch "running.$$"\nn=$(ls running.* | wc -l | tr -d ' ')\nsleep 0.3\nrm -f "running.$$"\necho "$n"\n`,
};

function host(t: TestContext, extra: Partial<SkillHostOptions> = {}): { host: SkillHost; dir: string; metrics: MetricsRegistry } {
  const root = tempDir(t);
  const dir = writeSkill(root, "counter", SKILL, SCRIPTS);
  const { skills, problems } = loadSkills([root]);
  assert.deepEqual(problems, []);
  const metrics = new MetricsRegistry();
  const h = new SkillHost({ skills, defaultTimeoutMs: 5000, logger: silentLogger(), metrics, ...extra });
  t.after(() => h.stop());
  return { host: h, dir, metrics };
}

function runs(dir: string, file = "runs.log"): number {
  try {
    return readFileSync(join(dir, file), "utf8").split("\n").filter((l) => l !== "").length;
  } catch {
    return 0;
  }
}

test("list() is capacity.skills: every skill, active; has() by name", (t) => {
  const { host: h } = host(t);
  assert.deepEqual(h.list(), [{ name: "counter", version: "3.1.0", active: true }]);
  assert.equal(h.has("counter"), true);
  assert.equal(h.has("weather"), false);
  assert.deepEqual(new SkillHost({ skills: [], defaultTimeoutMs: 1000, logger: silentLogger() }).list(), []);
});

test("call: {ok, result, trace_id}; trace_id is the request_id, else a new UUIDv7; arguments default to {}", async (t) => {
  const { host: h, metrics } = host(t);
  assert.deepEqual(await h.call({ tool: "counter:count", arguments: { a: 1 }, request_id: "req-1" }), { ok: true, result: { runs: 1, args: { a: 1 } }, trace_id: "req-1" });
  const before = Date.now();
  const answer = await h.call({ tool: "counter:count" });
  assert.deepEqual(answer.result, { runs: 2, args: {} });
  assert.match(answer.trace_id, /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  assert.ok(uuidv7Time(answer.trace_id) >= before);
  assert.equal(metrics.counter("adaos_tool_calls_total", "").get({ tool: "counter:count", outcome: "ok" }), 2);
});

test("call: a bad reference is 400; an unknown skill or tool is 404 listing what there is; a tool's failure passes through and is counted", async (t) => {
  const { host: h, metrics } = host(t);
  const bad = await failure(h.call({ tool: "counter" }));
  assert.ok(bad instanceof BadRequestError);
  const skill = await failure(h.call({ tool: "weather:now" }));
  assert.ok(skill instanceof NotFoundError);
  assert.equal(skill.message, 'this node has no skill "weather" (its skills: counter)');
  const tool = await failure(h.call({ tool: "counter:nope" }));
  assert.ok(tool instanceof NotFoundError);
  assert.equal(tool.message, 'skill "counter" has no tool "nope" (its tools: count, fail, peak, slow)');
  const failed = await failure(h.call({ tool: "counter:fail" }));
  assert.ok(failed instanceof InternalError);
  assert.match(failed.message, /exited with status 1; stderr: not yet/);
  assert.equal(metrics.counter("adaos_tool_calls_total", "").get({ tool: "counter:fail", outcome: "E_INTERNAL" }), 1);
});

test("timeout: the request's wins over the tool's timeout_ms, which wins over the node's default", async (t) => {
  const { host: h } = host(t, { env: { ...process.env, SLEEP: "0.5" } });
  const byTool = await failure(h.call({ tool: "counter:slow" }));
  assert.ok(byTool instanceof TimeoutError);
  assert.match(byTool.message, /within 150 ms/);
  assert.deepEqual((await h.call({ tool: "counter:slow", timeout: 3000 })).result, {}, "the request's own timeout gives it time");
  const { host: short } = host(t, { defaultTimeoutMs: 100 });
  assert.match((await failure(short.call({ tool: "counter:peak" }))).message, /within 100 ms/, "no timeout_ms: the node's default");
});

test("idempotency: a repeat with the same key gets the first result without running; another key or tool runs", async (t) => {
  const { host: h, dir, metrics } = host(t);
  const first = await h.call({ tool: "counter:count", arguments: { a: 1, b: [1, 2] }, idempotency_key: "k1", request_id: "r1" });
  const again = await h.call({ tool: "counter:count", arguments: { b: [1, 2], a: 1 }, idempotency_key: "k1", request_id: "r2" });
  assert.deepEqual(again, { ok: true, result: first.result, trace_id: "r2" }, "same result, this call's trace id; key order does not matter");
  assert.equal(runs(dir), 1);
  assert.equal(metrics.counter("adaos_tool_calls_total", "").get({ tool: "counter:count", outcome: "replayed" }), 1);
  await h.call({ tool: "counter:count", arguments: { a: 1, b: [1, 2] }, idempotency_key: "k2" });
  await h.call({ tool: "counter:count", arguments: { a: 1, b: [1, 2] } });
  assert.equal(runs(dir), 3, "another key, and no key, run again");
});

test("idempotency: the same key with other arguments is a ConflictError; nothing runs", async (t) => {
  const { host: h, dir } = host(t);
  await h.call({ tool: "counter:count", arguments: { a: 1 }, idempotency_key: "k" });
  const e = await failure(h.call({ tool: "counter:count", arguments: { a: 2 }, idempotency_key: "k" }));
  assert.ok(e instanceof ConflictError);
  assert.equal(e.message, 'idempotency_key "k" of counter:count was already used with other arguments');
  assert.equal(runs(dir), 1);
});

test("idempotency: a failure is not kept, so a retry with the key runs again and its success is kept", async (t) => {
  const { host: h, dir } = host(t);
  await failure(h.call({ tool: "counter:fail", idempotency_key: "k" }));
  await failure(h.call({ tool: "counter:fail", idempotency_key: "k" }));
  assert.equal(runs(dir, "fails.log"), 2);
  writeFileSync(join(dir, "ok-now"), "");
  assert.equal((await h.call({ tool: "counter:fail", idempotency_key: "k" })).result, "fine");
  assert.equal((await h.call({ tool: "counter:fail", idempotency_key: "k" })).result, "fine");
  assert.equal(runs(dir, "fails.log"), 3);
});

test("idempotency: a repeat while the first call runs waits for it and gets its result; the tool runs once", async (t) => {
  const { host: h, dir } = host(t);
  const calls = [1, 2, 3].map(() => h.call({ tool: "counter:count", arguments: {}, idempotency_key: "same" }));
  const answers = await Promise.all(calls);
  assert.equal(runs(dir), 1);
  for (const a of answers) assert.deepEqual(a.result, { runs: 1, args: {} });
});

test("idempotency: kept for 10 minutes (ManualClock), then the key runs again; at most maxEntries kept, oldest dropped first", async (t) => {
  const clock = new ManualClock();
  const { host: h, dir } = host(t, { clock, idempotency: { maxEntries: 2 } });
  const call = (key: string): Promise<unknown> => h.call({ tool: "counter:count", idempotency_key: key });
  await call("a");
  clock.advance(IDEMPOTENCY_TTL_MS - 1);
  await call("a");
  assert.equal(runs(dir), 1, "still kept just before the TTL");
  clock.advance(1);
  await call("a");
  assert.equal(runs(dir), 2, "expired at the TTL");
  await call("b");
  await call("c"); // three kept → "a" (the oldest) goes
  await call("c");
  await call("b");
  assert.equal(runs(dir), 4);
  await call("a");
  assert.equal(runs(dir), 5);
});

test(`concurrency: at most ${MAX_CONCURRENT_PER_TOOL} calls of one tool run at once; the others wait their turn and all finish`, async (t) => {
  const { host: h } = host(t);
  const started = Date.now();
  const answers = await Promise.all(Array.from({ length: MAX_CONCURRENT_PER_TOOL + 2 }, () => h.call({ tool: "counter:peak" })));
  const peaks = answers.map((a) => a.result as number);
  assert.ok(Math.max(...peaks) <= MAX_CONCURRENT_PER_TOOL, `peaks ${peaks.join(",")}`);
  assert.ok(Math.max(...peaks) >= 2, `peaks ${peaks.join(",")}: the calls did run side by side`);
  assert.ok(Date.now() - started >= 550, "two waves of 300 ms");
});

test("concurrency: waiting for a slot uses up the call's timeout", async (t) => {
  const { host: h } = host(t, { maxConcurrentPerTool: 1 });
  const first = h.call({ tool: "counter:peak" });
  const second = await failure(h.call({ tool: "counter:peak", timeout: 100 }));
  assert.ok(second instanceof TimeoutError);
  assert.equal(second.message, "counter:peak got no free slot within 100 ms: all are busy with earlier calls");
  assert.equal((await first).result, 1);
  assert.equal((await h.call({ tool: "counter:peak" })).result, 1, "the slot came back");
});

test("stop(): running programs are stopped (CancelledError) and new calls refused", async (t) => {
  const { host: h } = host(t, { env: { ...process.env, SLEEP: "30" } });
  const running = h.call({ tool: "counter:slow", timeout: 60_000 });
  await new Promise((resolve) => setTimeout(resolve, 100));
  const outcome = failure(running);
  const started = Date.now();
  await h.stop();
  assert.ok(Date.now() - started < 2000, "stop waits for the process, which goes at SIGTERM");
  assert.ok((await outcome) instanceof CancelledError);
  assert.ok((await failure(h.call({ tool: "counter:count" }))) instanceof CancelledError);
});
