import { strict as assert } from "node:assert";
import { test, type TestContext } from "node:test";
import { ConflictError, NotFoundError, ScenarioBusyError, ScheduleInvalidError } from "../../core/errors.js";
import { call, errorOf, postJson, startApi } from "../test-fixture.js";
import { FakeScenarioApi, runStatus, scheduleView, stepStatus } from "./scenario-fake.js";

async function withRuntime(t: TestContext) {
  const fake = new FakeScenarioApi();
  const fixture = await startApi(t, { scenarios: fake });
  return { ...fixture, fake };
}

test("scenario run: 202 {run_id, status}; the body reaches the runtime as given, priority upper-cased", async (t) => {
  const { url, fake } = await withRuntime(t);
  const res = await postJson(`${url}/api/scenario/run`, { id: "greet", ctx: { who: "ann" }, priority: "high", force: true, dry_run: true });
  assert.equal(res.status, 202);
  assert.deepEqual(res.body, { run_id: "run-1", status: "queued" });
  assert.deepEqual(fake.calls, [{ method: "run", args: [{ id: "greet", ctx: { who: "ann" }, priority: "HIGH", force: true, dry_run: true }] }]);

  const bare = await postJson(`${url}/api/scenario/run`, { id: "greet", priority: "LOW" });
  assert.equal(bare.status, 202);
  assert.deepEqual(fake.calls[1]?.args, [{ id: "greet", priority: "LOW" }], "absent fields stay absent");
});

test("scenario run: a duplicate (same trigger key) is 200 with duplicate: true", async (t) => {
  const { url, fake } = await withRuntime(t);
  fake.started = { run_id: "run-7", status: "running", duplicate: true };
  const res = await postJson(`${url}/api/scenario/run`, { id: "greet" });
  assert.equal(res.status, 200);
  assert.deepEqual(res.body, { run_id: "run-7", status: "running", duplicate: true });
});

test("scenario run: unknown fields (run_id and correlation_id too) and wrong types are 400 naming the field; the runtime is not called", async (t) => {
  const { url, fake } = await withRuntime(t);
  const cases: [unknown, string, RegExp][] = [
    [{ id: "greet", run_id: "mine" }, "/run_id", /is not allowed/],
    [{ id: "greet", correlation_id: "c" }, "/correlation_id", /is not allowed/],
    [{ id: "greet", colour: "red" }, "/colour", /is not allowed \(known: id, ctx, priority, force, dry_run\)/],
    [{}, "/id", /is required/],
    [{ id: "" }, "/id", /non-empty string/],
    [{ id: 7 }, "/id", /non-empty string/],
    [{ id: "greet", ctx: [1] }, "/ctx", /JSON object/],
    [{ id: "greet", ctx: null }, "/ctx", /JSON object/],
    [{ id: "greet", priority: "URGENT" }, "/priority", /one of HIGH, NORM, LOW/],
    [{ id: "greet", priority: "High" }, "/priority", /one of HIGH, NORM, LOW/],
    [{ id: "greet", priority: 1 }, "/priority", /one of HIGH, NORM, LOW/],
    [{ id: "greet", force: "yes" }, "/force", /true or false/],
    [{ id: "greet", dry_run: 1 }, "/dry_run", /true or false/],
  ];
  for (const [body, pointer, message] of cases) {
    const res = await postJson(`${url}/api/scenario/run`, body);
    assert.equal(res.status, 400, JSON.stringify(body));
    const e = errorOf(res);
    assert.equal(e.code, "E_BAD_REQUEST");
    assert.equal(e.issues?.[0]?.pointer, pointer, JSON.stringify(body));
    assert.match(e.issues?.[0]?.message ?? "", message, JSON.stringify(body));
    assert.match(e.message, new RegExp(`^invalid run request: ${pointer}`));
  }
  const both = errorOf(await postJson(`${url}/api/scenario/run`, { id: 1, force: "no", extra: true }));
  assert.deepEqual(both.issues?.map((i) => i.pointer), ["/extra", "/id", "/force"], "every problem is listed");
  assert.equal(fake.count("run"), 0);
});

test("scenario run: malformed JSON, a non-object, an empty body are 400; an oversized body is 413", async (t) => {
  const { url, fake } = await withRuntime(t);
  for (const body of ["{id:", "[1]", "\"greet\"", ""]) {
    const res = await call(`${url}/api/scenario/run`, "POST", body);
    assert.equal(res.status, 400, body);
    assert.equal(errorOf(res).code, "E_BAD_REQUEST");
  }
  const big = await postJson(`${url}/api/scenario/run`, { id: "greet", ctx: { pad: "x".repeat(5000) } });
  assert.equal(big.status, 413);
  assert.equal(errorOf(big).code, "E_PAYLOAD_TOO_LARGE");
  assert.equal(fake.count("run"), 0);
});

test("scenario run: the runtime's errors keep their codes (E_NOT_FOUND 404, E_SCENARIO_BUSY 409)", async (t) => {
  const { url, fake } = await withRuntime(t);
  fake.fail.run = new NotFoundError('there is no scenario "nope"');
  const missing = await postJson(`${url}/api/scenario/run`, { id: "nope" });
  assert.equal(missing.status, 404);
  assert.deepEqual(missing.body, { error: { code: "E_NOT_FOUND", message: 'there is no scenario "nope"' } });

  fake.fail.run = new ScenarioBusyError("scenario greet already has 1 run active (max_concurrent 1); force starts another");
  const busy = await postJson(`${url}/api/scenario/run`, { id: "greet" });
  assert.equal(busy.status, 409);
  assert.equal(errorOf(busy).code, "E_SCENARIO_BUSY");
  assert.match(errorOf(busy).message, /max_concurrent/);
});

test("scenario status: the run with its steps; run_id is required; an unknown run is 404", async (t) => {
  const { url, fake } = await withRuntime(t);
  const status = runStatus({ run_id: "r 1", steps: [stepStatus(), stepStatus({ step: "say", latency_ms: 40 })] });
  fake.script("r 1", status);
  const res = await call(`${url}/api/scenario/status?run_id=r%201`, "GET");
  assert.equal(res.status, 200);
  assert.deepEqual(res.body, status);
  assert.deepEqual(fake.calls, [{ method: "status", args: ["r 1"] }]);

  for (const query of ["", "?run_id=", "?run=1"]) {
    const bad = await call(`${url}/api/scenario/status${query}`, "GET");
    assert.equal(bad.status, 400, query);
    assert.equal(errorOf(bad).issues?.[0]?.pointer, "/run_id");
  }
  const unknown = await call(`${url}/api/scenario/status?run_id=ghost`, "GET");
  assert.equal(unknown.status, 404);
  assert.equal(errorOf(unknown).code, "E_NOT_FOUND");
});

test("scenario cancel: {run_id, state, cancelled}; a finished run answers cancelled: false; bad bodies are 400", async (t) => {
  const { url, fake } = await withRuntime(t);
  const res = await postJson(`${url}/api/scenario/cancel`, { run_id: "run-1" });
  assert.equal(res.status, 200);
  assert.deepEqual(res.body, { run_id: "run-1", state: "cancelled", cancelled: true });
  fake.cancelState = { state: "succeeded", cancelled: false };
  assert.deepEqual((await postJson(`${url}/api/scenario/cancel`, { run_id: "run-1" })).body, { run_id: "run-1", state: "succeeded", cancelled: false });

  for (const [body, pointer] of [[{}, "/run_id"], [{ run_id: 5 }, "/run_id"], [{ run_id: "r", force: true }, "/force"]] as const) {
    const bad = await postJson(`${url}/api/scenario/cancel`, body);
    assert.equal(bad.status, 400, JSON.stringify(body));
    assert.equal(errorOf(bad).issues?.[0]?.pointer, pointer);
  }
  fake.fail.cancel = new NotFoundError('there is no run "ghost"');
  assert.equal((await postJson(`${url}/api/scenario/cancel`, { run_id: "ghost" })).status, 404);
  assert.equal(fake.count("cancel"), 3);
});

test("scenario runs: {runs}; scenario_id and limit reach the runtime; limit outside 1..500 is 400", async (t) => {
  const { url, fake } = await withRuntime(t);
  const res = await call(`${url}/api/scenario/runs`, "GET");
  assert.equal(res.status, 200);
  assert.deepEqual(res.body, { runs: fake.runList });
  await call(`${url}/api/scenario/runs?scenario_id=greet&limit=500`, "GET");
  await call(`${url}/api/scenario/runs?limit=1`, "GET");
  assert.deepEqual(fake.calls.map((c) => c.args[0]), [{}, { scenario_id: "greet", limit: 500 }, { limit: 1 }]);

  for (const limit of ["0", "501", "-1", "1.5", "x", "1e2"]) {
    const bad = await call(`${url}/api/scenario/runs?limit=${limit}`, "GET");
    assert.equal(bad.status, 400, limit);
    assert.equal(errorOf(bad).issues?.[0]?.pointer, "/limit");
    assert.match(errorOf(bad).message, /between 1 and 500/);
  }
  assert.equal(fake.count("runs"), 3);
});

test("scenario replay: 202 {run_id, status, replay_of}; dry_run passes on; bad bodies are 400; unknown run 404", async (t) => {
  const { url, fake } = await withRuntime(t);
  const res = await postJson(`${url}/api/scenario/replay`, { run_id: "run-1" });
  assert.equal(res.status, 202);
  assert.deepEqual(res.body, { run_id: "run-2", status: "queued", replay_of: "run-1" });
  await postJson(`${url}/api/scenario/replay`, { run_id: "run-1", dry_run: false });
  assert.deepEqual(fake.calls.map((c) => c.args), [["run-1", {}], ["run-1", { dry_run: false }]]);

  for (const [body, pointer] of [[{}, "/run_id"], [{ run_id: "r", dry_run: "yes" }, "/dry_run"], [{ run_id: "r", ctx: {} }, "/ctx"]] as const) {
    const bad = await postJson(`${url}/api/scenario/replay`, body);
    assert.equal(bad.status, 400, JSON.stringify(body));
    assert.equal(errorOf(bad).issues?.[0]?.pointer, pointer);
  }
  fake.fail.replay = new NotFoundError('there is no run "ghost"');
  assert.equal((await postJson(`${url}/api/scenario/replay`, { run_id: "ghost" })).status, 404);
});

test("scenarios: the list with triggers and steps", async (t) => {
  const { url, fake } = await withRuntime(t);
  const res = await call(`${url}/api/scenarios`, "GET");
  assert.equal(res.status, 200);
  assert.deepEqual(res.body, { scenarios: fake.scenarioList });
});

test("schedules: list; create passes the body as it came and answers 201; E_SCHEDULE_INVALID is 400", async (t) => {
  const { url, fake } = await withRuntime(t);
  assert.deepEqual((await call(`${url}/api/scenario/schedules`, "GET")).body, { schedules: [scheduleView()] });

  const input = { id: "tea", scenario_id: "greet", spec: { type: "interval", every_ms: 60_000 }, ctx: { cups: 2 }, catch_up: true };
  const created = await postJson(`${url}/api/scenario/schedules`, input);
  assert.equal(created.status, 201);
  assert.deepEqual(created.body, scheduleView({ id: "tea", scenario_id: "greet" }));
  assert.deepEqual(fake.calls.at(-1), { method: "createSchedule", args: [input] });

  fake.fail.createSchedule = new ScheduleInvalidError('invalid cron pattern "61 * * * *"');
  const invalid = await postJson(`${url}/api/scenario/schedules`, { scenario_id: "greet", spec: { type: "cron", cron: "61 * * * *" } });
  assert.equal(invalid.status, 400);
  assert.deepEqual(invalid.body, { error: { code: "E_SCHEDULE_INVALID", message: 'invalid cron pattern "61 * * * *"' } });
  const notObject = await call(`${url}/api/scenario/schedules`, "POST", "[]");
  assert.equal(notObject.status, 400);
  assert.equal(errorOf(notObject).code, "E_BAD_REQUEST");
});

test("schedules: DELETE /api/scenario/schedules/{id} → {deleted: true, id}; the runtime's 404 and 409 pass through", async (t) => {
  const { url, fake } = await withRuntime(t);
  const res = await call(`${url}/api/scenario/schedules/morning`, "DELETE");
  assert.equal(res.status, 200);
  assert.deepEqual(res.body, { deleted: true, id: "morning" });
  const missing = await call(`${url}/api/scenario/schedules/nightly`, "DELETE");
  assert.equal(missing.status, 404);
  assert.equal(errorOf(missing).code, "E_NOT_FOUND");
  assert.deepEqual(fake.calls.map((c) => c.args[0]), ["morning", "nightly"]);

  fake.fail.deleteSchedule = new ConflictError("schedule trg.greet.0 comes from a trigger of scenario greet");
  assert.equal((await call(`${url}/api/scenario/schedules/trg.greet.0`, "DELETE")).status, 409);
  const badEscape = await call(`${url}/api/scenario/schedules/%E0%A4%A`, "DELETE");
  assert.equal(badEscape.status, 400);
  const wrongMethod = await call(`${url}/api/scenario/schedules/morning`, "GET");
  assert.equal(wrongMethod.status, 405);
});

test("scenario routes need the token; without a runtime every one answers 404 saying so", async (t) => {
  const withFake = await withRuntime(t);
  const bare = await startApi(t);
  const checks: [string, string, unknown?][] = [
    ["POST", "/api/scenario/run", { id: "greet" }], ["GET", "/api/scenario/status?run_id=run-1"], ["POST", "/api/scenario/cancel", { run_id: "run-1" }],
    ["GET", "/api/scenario/runs"], ["POST", "/api/scenario/replay", { run_id: "run-1" }], ["GET", "/api/scenarios"],
    ["GET", "/api/scenario/schedules"], ["POST", "/api/scenario/schedules", { spec: { type: "once", at: "2030-01-01T00:00:00Z" } }],
    ["DELETE", "/api/scenario/schedules/morning"],
  ];
  for (const [method, path, body] of checks) {
    const anonymous = await call(withFake.url + path, method, body, {});
    assert.equal(anonymous.status, 401, `${method} ${path} without a token`);
    assert.equal(errorOf(anonymous).code, "E_UNAUTHORIZED");

    const none = await call(bare.url + path, method, body);
    assert.equal(none.status, 404, `${method} ${path} without a runtime`);
    assert.deepEqual(none.body, { error: { code: "E_NOT_FOUND", message: "this agent has no scenario runtime" } });
  }
  assert.deepEqual(withFake.fake.calls, [], "nothing reached the runtime without a token");
});
