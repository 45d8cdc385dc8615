import { strict as assert } from "node:assert";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test, type TestContext } from "node:test";
import { FakeScenarioApi, runStatus, scheduleView, stepStatus } from "../api/routes/scenario-fake.js";
import { TOKEN, startApi } from "../api/test-fixture.js";
import { ScenarioBusyError, ScheduleInvalidError } from "../core/errors.js";
import type { CliIo } from "./command.js";
import { dispatch } from "./dispatch.js";

interface Result {
  readonly code: number;
  readonly out: string[];
  readonly err: string[];
}

async function exec(argv: readonly string[]): Promise<Result> {
  const out: string[] = [];
  const err: string[] = [];
  const io: CliIo = { out: (l) => void out.push(l), err: (l) => void err.push(l), env: {}, cwd: tmpdir() };
  const code = await dispatch(argv, io);
  return { code, out, err };
}

async function agent(t: TestContext) {
  const fake = new FakeScenarioApi();
  const { url } = await startApi(t, { scenarios: fake });
  const run = (...args: string[]): Promise<Result> => exec(["scenario", ...args, "--api", url, "--token", TOKEN]);
  return { fake, url, run };
}

test("scenario run: prints the run id; --ctx, --priority (any case), --force and --dry-run reach the runtime", async (t) => {
  const { fake, run } = await agent(t);
  const plain = await run("run", "greet");
  assert.deepEqual(plain, { code: 0, out: ["run-1"], err: [] });
  const full = await run("run", "greet", "--ctx", '{"who":"ann"}', "--priority", "low", "--force", "--dry-run");
  assert.equal(full.code, 0, full.err.join("\n"));
  assert.deepEqual(fake.calls.map((c) => c.args[0]), [{ id: "greet" }, { id: "greet", ctx: { who: "ann" }, priority: "LOW", force: true, dry_run: true }]);

  const json = await run("run", "greet", "--json");
  assert.deepEqual(JSON.parse(json.out[0] ?? ""), { run_id: "run-1", status: "queued" });
  fake.started = { run_id: "run-9", status: "running", duplicate: true };
  const dup = await run("run", "greet");
  assert.deepEqual(dup.out, ["run-9"]);
  assert.match(dup.err[0] ?? "", /already exists; this is it \(run-9\)/);
});

test("scenario run --wait: polls until final, prints the summary and the journal; exit 0 when it succeeded", async (t) => {
  const { fake, run } = await agent(t);
  const steps = [stepStatus(), stepStatus({ step: "say", latency_ms: 1250 })];
  fake.script("run-1", runStatus({ state: "queued", step: null }), runStatus({ state: "running", step: "lookup" }), runStatus({ steps }));
  const r = await run("run", "greet", "--wait");
  assert.equal(r.code, 0, r.err.join("\n"));
  assert.equal(fake.count("status"), 3, "polled until a final state");
  assert.deepEqual(r.out, [
    "run-1",
    "run run-1 succeeded in 1s250ms (2/2 steps)",
    "STEP    ATTEMPT  STATE  LATENCY  ERROR",
    "lookup  1        ok     12ms",
    "say     1        ok     1s250ms",
  ]);
});

test("scenario run --wait: a run that did not succeed exits 1 with its step and error; --json prints the final status", async (t) => {
  const { fake, run } = await agent(t);
  const failed = runStatus({
    state: "failed", step: "say", steps_done: 1, error: { code: "E_STEP_FAILED", message: "say: no speaker" },
    steps: [stepStatus(), stepStatus({ step: "say", attempt: 2, state: "error", latency_ms: 5, error: { code: "E_STEP_FAILED", message: "no speaker" } })],
  });
  fake.script("run-1", failed);
  const r = await run("run", "greet", "--wait");
  assert.equal(r.code, 1);
  assert.equal(r.out[1], "run run-1 failed in 1s250ms (1/2 steps) at step say: say: no speaker (E_STEP_FAILED)");
  assert.match(r.out.at(-1) ?? "", /^say\s+2\s+error\s+5ms\s+no speaker \(E_STEP_FAILED\)$/);

  fake.script("run-1", runStatus({ state: "cancelled", error: { code: "E_CANCELLED", message: "cancelled" } }));
  const json = await run("run", "greet", "--wait", "--json");
  assert.equal(json.code, 1);
  assert.equal(json.out.length, 1, "only the final status");
  assert.equal((JSON.parse(json.out[0] ?? "") as { state: string }).state, "cancelled");
});

test("scenario run --wait --timeout-ms: still running when it passes → exit 1 naming the run", async (t) => {
  const { fake, run } = await agent(t);
  fake.script("run-1", runStatus({ state: "running", finished_at: null, duration_ms: null }));
  const r = await run("run", "greet", "--wait", "--timeout-ms", "300");
  assert.equal(r.code, 1);
  assert.deepEqual(r.out, ["run-1"]);
  assert.match(r.err[0] ?? "", /^adaos-edge: run run-1 is still running after 300 ms .*scenario status run-1.*\(E_TIMEOUT\)$/);
  assert.ok(fake.count("status") >= 2, "polled more than once");
});

test("scenario run: usage errors exit 2 before anything reaches the agent", async (t) => {
  const { fake, run } = await agent(t);
  const cases: [string[], RegExp][] = [
    [["run"], /missing the scenario id/],
    [["run", "a", "b"], /expected exactly one scenario id/],
    [["run", "greet", "--ctx", "{who:"], /--ctx is not valid JSON/],
    [["run", "greet", "--ctx", "[1]"], /--ctx must be a JSON object .*got an array/],
    [["run", "greet", "--priority", "urgent"], /--priority must be one of HIGH, NORM, LOW, got "urgent"/],
    [["run", "greet", "--timeout-ms", "10"], /--timeout-ms goes with --wait/],
    [["run", "greet", "--wait", "--timeout-ms", "0"], /--timeout-ms must be an integer/],
    [["run", "greet", "--colour"], /Unknown option '--colour'/],
  ];
  for (const [args, message] of cases) {
    const r = await run(...args);
    assert.equal(r.code, 2, args.join(" "));
    assert.match(r.err.join("\n"), message, args.join(" "));
    assert.match(r.err.join("\n"), /\(E_USAGE\)/);
  }
  assert.deepEqual(fake.calls, []);
});

test("scenario run: the agent's errors exit 1 with their code; an agent without a runtime says so", async (t) => {
  const { fake, run } = await agent(t);
  fake.fail.run = new ScenarioBusyError("scenario greet already has 1 run active");
  assert.deepEqual(await run("run", "greet"), { code: 1, out: [], err: ["adaos-edge: scenario greet already has 1 run active (E_SCENARIO_BUSY)"] });
  const bare = await startApi(t);
  const none = await exec(["scenario", "list", "--api", bare.url, "--token", TOKEN]);
  assert.deepEqual(none, { code: 1, out: [], err: ["adaos-edge: this agent has no scenario runtime (E_NOT_FOUND)"] });
});

test("scenario status: a key/value block and the journal; --json; an unknown run exits 1", async (t) => {
  const { fake, run } = await agent(t);
  fake.script("run-1", runStatus({ replay_of: "run-0", dry_run: true, steps: [stepStatus()] }));
  const r = await run("status", "run-1");
  assert.equal(r.code, 0, r.err.join("\n"));
  assert.deepEqual(r.out.slice(0, 4), ["run          run-1", "scenario     greet", "state        succeeded", "step         say"]);
  assert.ok(r.out.includes("duration     1s250ms"));
  assert.ok(r.out.includes("dry run      yes"));
  assert.ok(r.out.includes("replay of    run-0"));
  assert.deepEqual(r.out.slice(-3), ["", "STEP    ATTEMPT  STATE  LATENCY  ERROR", "lookup  1        ok     12ms"]);

  const json = await run("status", "run-1", "--json");
  assert.deepEqual(JSON.parse(json.out.join("\n")), runStatus({ replay_of: "run-0", dry_run: true, steps: [stepStatus()] }));
  const missing = await run("status", "ghost");
  assert.deepEqual(missing, { code: 1, out: [], err: ['adaos-edge: there is no run "ghost" (E_NOT_FOUND)'] });
  assert.equal((await run("status")).code, 2);
});

test("scenario cancel: cancelled, or already ended", async (t) => {
  const { fake, run } = await agent(t);
  assert.deepEqual(await run("cancel", "run-1"), { code: 0, out: ["cancelled run run-1"], err: [] });
  fake.cancelState = { state: "running", cancelled: true };
  assert.match((await run("cancel", "run-1")).out[0] ?? "", /^cancelling run run-1 \(running\)/);
  fake.cancelState = { state: "succeeded", cancelled: false };
  assert.deepEqual((await run("cancel", "run-1")).out, ["run run-1 already ended: succeeded; nothing to cancel"]);
  assert.deepEqual(fake.calls.map((c) => c.args), [["run-1"], ["run-1"], ["run-1"]]);
  assert.equal((await run("cancel")).code, 2);
});

test("scenario runs: a table; --scenario and --limit reach the agent; --json is NDJSON; --limit is checked", async (t) => {
  const { fake, run } = await agent(t);
  fake.runList = [runStatus(), runStatus({ run_id: "run-2", state: "failed", error: { code: "E_STEP_FAILED", message: "x".repeat(100) } })];
  const r = await run("runs");
  assert.equal(r.code, 0, r.err.join("\n"));
  assert.equal(r.out.length, 3);
  assert.match(r.out[0] ?? "", /^RUN\s+SCENARIO\s+STATE\s+STEP\s+STEPS\s+TRIGGER\s+QUEUED\s+DURATION\s+ERROR$/);
  assert.match(r.out[1] ?? "", /^run-1\s+greet\s+succeeded\s+say\s+2\/2\s+api\s+2025-01-01T08:00:00\.000Z\s+1s250ms\s+-$/);
  assert.match(r.out[2] ?? "", /failed .* x+…$/);

  const json = await run("runs", "--scenario", "greet", "--limit", "500", "--json");
  assert.deepEqual(json.out.map((l) => (JSON.parse(l) as { run_id: string }).run_id), ["run-1", "run-2"]);
  assert.deepEqual(fake.calls.map((c) => c.args[0]), [{}, { scenario_id: "greet", limit: 500 }]);

  fake.runList = [];
  assert.deepEqual((await run("runs", "--scenario", "greet")).out, ["no runs of scenario greet"]);
  assert.deepEqual((await run("runs")).out, ["no runs"]);
  for (const limit of ["0", "501", "x"]) assert.equal((await run("runs", "--limit", limit)).code, 2, limit);
});

test("scenario replay: prints the new run id; --dry-run asks for a dry run, without it the original's is kept", async (t) => {
  const { fake, run } = await agent(t);
  assert.deepEqual(await run("replay", "run-1"), { code: 0, out: ["run-2"], err: [] });
  const json = await run("replay", "run-1", "--dry-run", "--json");
  assert.deepEqual(JSON.parse(json.out[0] ?? ""), { run_id: "run-2", status: "queued", replay_of: "run-1" });
  assert.deepEqual(fake.calls.map((c) => c.args), [["run-1", {}], ["run-1", { dry_run: true }]]);
  assert.equal((await run("replay")).code, 2);
});

test("scenario list: scenarios with their steps and one trigger per row; --json", async (t) => {
  const { fake, run } = await agent(t);
  const r = await run("list");
  assert.equal(r.code, 0, r.err.join("\n"));
  assert.deepEqual(r.out, [
    "ID     STEPS  TRIGGERS                        DESCRIPTION",
    "greet  2      event system.boot.completed     Say hello",
    "              cron 0 8 * * * (Europe/Berlin)",
  ]);
  const json = await run("list", "--json");
  assert.deepEqual(json.out.map((l) => JSON.parse(l) as unknown), fake.scenarioList);
  fake.scenarioList = [];
  assert.deepEqual((await run("list")).out, ["no scenarios loaded"]);
});

test("scenario schedule create: --cron with --tz, --every as ms or a duration, --at; --id, --ctx, --catch-up", async (t) => {
  const { fake, run } = await agent(t);
  const cron = await run("schedule", "create", "--scenario", "greet", "--cron", "0 8 * * *", "--tz", "Europe/Berlin", "--id", "morning", "--ctx", '{"who":"ann"}', "--catch-up");
  assert.equal(cron.code, 0, cron.err.join("\n"));
  assert.deepEqual(cron.out, ["created schedule morning (cron 0 8 * * *; next 2025-01-02T07:00:00.000Z)"]);
  await run("schedule", "create", "--scenario", "greet", "--every", "5m");
  await run("schedule", "create", "--scenario", "greet", "--every", "90000");
  const once = await run("schedule", "create", "--scenario", "greet", "--at", "2030-01-01T08:00:00Z", "--json");
  assert.equal((JSON.parse(once.out.join("\n")) as { id: string }).id, "morning");
  assert.deepEqual(fake.calls.map((c) => c.args[0]), [
    { id: "morning", scenario_id: "greet", spec: { type: "cron", cron: "0 8 * * *", tz: "Europe/Berlin" }, ctx: { who: "ann" }, catch_up: true },
    { scenario_id: "greet", spec: { type: "interval", every_ms: 300_000 } },
    { scenario_id: "greet", spec: { type: "interval", every_ms: 90_000 } },
    { scenario_id: "greet", spec: { type: "once", at: "2030-01-01T08:00:00Z" } },
  ]);

  fake.fail.createSchedule = new ScheduleInvalidError('invalid cron pattern "61 * * * *"');
  const invalid = await run("schedule", "create", "--scenario", "greet", "--cron", "61 * * * *");
  assert.deepEqual(invalid, { code: 1, out: [], err: ['adaos-edge: invalid cron pattern "61 * * * *" (E_SCHEDULE_INVALID)'] });
});

test("scenario schedule create: usage errors exit 2", async (t) => {
  const { fake, run } = await agent(t);
  const cases: [string[], RegExp][] = [
    [["--cron", "0 8 * * *"], /missing --scenario/],
    [["--scenario", "greet"], /no schedule given: give exactly one of --cron/],
    [["--scenario", "greet", "--cron", "0 8 * * *", "--every", "5m"], /--cron and --every given together/],
    [["--scenario", "greet", "--every", "5m", "--tz", "UTC"], /--tz goes with --cron/],
    [["--scenario", "greet", "--every", "soon"], /--every must be milliseconds or a duration/],
    [["--scenario", "greet", "--every", "0"], /--every must be a positive duration/],
    [["--scenario", "greet", "--at", "2030-01-01T08:00:00Z", "--ctx", "1"], /--ctx must be a JSON object/],
    [["extra", "--scenario", "greet", "--every", "5m"], /unexpected argument "extra"/],
  ];
  for (const [args, message] of cases) {
    const r = await run("schedule", "create", ...args);
    assert.equal(r.code, 2, args.join(" "));
    assert.match(r.err.join("\n"), message, args.join(" "));
  }
  assert.deepEqual(fake.calls, []);
});

test("scenario schedule list and delete", async (t) => {
  const { fake, run } = await agent(t);
  fake.scheduleList = [scheduleView(), scheduleView({ id: "trg.greet.0", type: "interval", schedule: "every 60s", tz: null, from_trigger: true, catch_up: true })];
  const r = await run("schedule", "list");
  assert.equal(r.code, 0, r.err.join("\n"));
  assert.match(r.out[0] ?? "", /^ID\s+SCENARIO\s+TYPE\s+SCHEDULE\s+TZ\s+NEXT\s+LAST TICK\s+CATCH UP\s+FROM$/);
  assert.match(r.out[1] ?? "", /^morning\s+greet\s+cron\s+0 8 \* \* \*\s+Europe\/Berlin\s+2025-01-02T07:00:00\.000Z\s+-\s+no\s+api$/);
  assert.match(r.out[2] ?? "", /^trg\.greet\.0\s+greet\s+interval\s+every 60s\s+-\s+\S+\s+-\s+yes\s+trigger$/);
  const json = await run("schedule", "list", "--json");
  assert.deepEqual(json.out.map((l) => (JSON.parse(l) as { id: string }).id), ["morning", "trg.greet.0"]);
  fake.scheduleList = [scheduleView()];

  assert.deepEqual(await run("schedule", "delete", "morning"), { code: 0, out: ["deleted schedule morning"], err: [] });
  assert.deepEqual(await run("schedule", "delete", "nightly"), { code: 1, out: [], err: ['adaos-edge: there is no schedule "nightly" (E_NOT_FOUND)'] });
  assert.equal((await run("schedule", "delete")).code, 2);
  fake.scheduleList = [];
  assert.deepEqual((await run("schedule", "list")).out, ["no schedules"]);
});

test("scenario validate: ok with the counts per good file, every problem of a bad one, exit 1 if any is bad; no agent needed", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "adaos-scenario-validate-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const good = [
    "id: hello",
    "triggers:",
    '  - cron: "0 8 * * *"',
    "    tz: Europe/Berlin",
    "  - interval: 10m",
    "steps:",
    "  - name: compose",
    '    set: { text: "Hello" }',
    "  - name: nap",
    "    sleep: 1s",
    "",
  ].join("\n");
  writeFileSync(join(dir, "hello.yaml"), good);
  writeFileSync(join(dir, "one.yaml"), ["id: one", "steps:", "  - name: nap", "    sleep: 1s", ""].join("\n"));
  writeFileSync(join(dir, "bad.yaml"), ["id: Bad Id", "steps:", "  - name: y", "    sleep: soon", ""].join("\n"));
  const io = (out: string[], err: string[]): CliIo => ({ out: (l) => void out.push(l), err: (l) => void err.push(l), env: {}, cwd: dir });

  const out: string[] = [];
  const err: string[] = [];
  assert.equal(await dispatch(["scenario", "validate", "hello.yaml", "one.yaml"], io(out, err)), 0, err.join("\n"));
  assert.deepEqual(out, ["ok hello.yaml (hello: 2 steps, 2 triggers)", "ok one.yaml (one: 1 step, 0 triggers)"]);

  const out2: string[] = [];
  const err2: string[] = [];
  assert.equal(await dispatch(["scenario", "validate", "bad.yaml", "hello.yaml", "missing.yaml"], io(out2, err2)), 1);
  assert.deepEqual(out2, ["ok hello.yaml (hello: 2 steps, 2 triggers)"]);
  const text = err2.join("\n");
  assert.match(err2[0] ?? "", /bad\.yaml: invalid scenario \(\d+ problems?\)$/);
  for (const where of ["/id ", "/steps/0/sleep "]) assert.ok(text.includes(where), `names ${where}: ${text}`);
  assert.match(text, /missing\.yaml: invalid scenario \(1 problem\)\n\/ cannot read .*missing\.yaml/);

  const none: string[] = [];
  assert.equal(await dispatch(["scenario", "validate"], io([], none)), 2);
  assert.match(none.join("\n"), /missing the scenario file/);
});
