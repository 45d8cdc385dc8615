import { strict as assert } from "node:assert";
import { test } from "node:test";
import type { Envelope } from "../../abi/envelope.js";
import { ScenarioBusyError, NotFoundError } from "../core/errors.js";
import { createEnvelope } from "../core/envelope.js";
import { ManualClock } from "../core/clock.js";
import type { Scenario } from "./scenario.js";
import { call, publish, rig, scenario, sleepFor, SOURCE, step, until } from "./test-fixture.js";

const signal = () => new AbortController().signal;
const final = (state: string | undefined) => state !== undefined && !["queued", "running"].includes(state);

/** Answer test.flaky: fail the first `failures` requests ({ok: false}), then succeed with the request's payload. */
function flaky(bus: ReturnType<typeof rig>["bus"], failures: number, delayMs = 0): { calls: Envelope[] } {
  const calls: Envelope[] = [];
  bus.subscribe("test.flaky", async (req) => {
    calls.push(req);
    if (delayMs > 0) await new Promise((r) => setTimeout(r, delayMs));
    const ok = calls.length > failures;
    bus.reply(req, { event_name: "test.flaky.result", version: 1, payload: ok ? { ok: true, echo: req.payload } : { ok: false, error: { code: "E_FLAKY", message: `failure ${calls.length}` } } });
  });
  return { calls };
}

/** The run's scenario.completed reached the rig's recorder (the bus delivers asynchronously, so the events before it did too). */
async function completed(r: ReturnType<typeof rig>, runId: string): Promise<void> {
  await until(() => r.events.some((e) => e.event_name === "scenario.completed" && e.payload.run_id === runId), 5000, `run ${runId} to end`);
}

async function runToEnd(r: ReturnType<typeof rig>, runner: ReturnType<ReturnType<typeof rig>["runner"]>, id: string, extra: Record<string, unknown> = {}) {
  const { run_id } = runner.submit({ id, trigger: "api", ...extra });
  await completed(r, run_id);
  return { run_id, run: r.store.get(run_id), steps: r.store.steps(run_id) };
}

test("a three-step run succeeds: every step journalled ok, the bag filled, scenario.completed with the run's correlation id", async (t) => {
  const s = scenario("three", [
    step("set", { kind: "set", values: { greeting: "Hello ${ctx.name}", n: 2 } }),
    step("tell", publish("test.effect", { text: "${bag.greeting}", n: "${bag.n}" })),
    step("note", { kind: "notify", text: "done ${run.scenario_id}", level: "info" }),
  ], { ctx: { name: "Ada" } });
  const r = rig(t, [s]);
  const runner = r.runner();
  await runner.start(signal());
  const { run_id, run, steps } = await runToEnd(r, runner, "three", { correlation_id: "corr-1" });
  assert.equal(run?.state, "succeeded");
  assert.equal(run?.steps_done, 3);
  assert.deepEqual(run?.bag, { greeting: "Hello Ada", n: 2 });
  assert.deepEqual(steps.map((x) => [x.step, x.attempt, x.state]), [["set", 1, "ok"], ["tell", 1, "ok"], ["note", 1, "ok"]]);
  const effect = r.events.find((e) => e.event_name === "test.effect");
  assert.deepEqual(effect?.payload, { text: "Hello Ada", n: 2 }, "a lone ${...} keeps its type");
  assert.equal(effect?.correlation_id, "corr-1");
  assert.equal(effect?.headers.idempotency_key, `three/${run_id}/tell`);
  assert.equal(r.events.find((e) => e.event_name === "ui.notify")?.payload.text, "done three");
  const done = r.events.find((e) => e.event_name === "scenario.completed");
  assert.equal(done?.correlation_id, "corr-1");
  assert.deepEqual({ ...done?.payload, started_at: 0, finished_at: 0, duration_ms: 0 }, {
    run_id, scenario_id: "three", status: "succeeded", steps_total: 3, steps_done: 3, started_at: 0, finished_at: 0, duration_ms: 0,
  });
  assert.match(r.metrics.render(), /adaos_scenario_runs_total\{scenario="three",status="succeeded"\} 1/);
  assert.match(r.metrics.render(), /adaos_scenario_steps_total\{outcome="ok",scenario="three",step="tell"\} 1/);
});

test("a step that fails twice succeeds on the third attempt (retries max 2), with the backoff between attempts", async (t) => {
  const s = scenario("retry", [step("ask", call("test.flaky", { q: 1 }), { retries: { max: 2, backoff_ms: 20 }, save_as: "answer" })]);
  const r = rig(t, [s]);
  const { calls } = flaky(r.bus, 2);
  const runner = r.runner();
  await runner.start(signal());
  const { run, steps } = await runToEnd(r, runner, "retry");
  assert.equal(run?.state, "succeeded");
  assert.equal(calls.length, 3);
  assert.deepEqual(steps.map((x) => [x.attempt, x.state, x.error?.code ?? null]), [[1, "error", "E_STEP_FAILED"], [2, "error", "E_STEP_FAILED"], [3, "ok", null]]);
  assert.match(steps[0]?.error?.message ?? "", /E_FLAKY: failure 1/);
  assert.deepEqual(run?.bag.answer, { ok: true, echo: { q: 1 } });
  assert.equal(new Set(calls.map((c) => c.headers.idempotency_key)).size, 1, "every attempt carries the same step key");
  const failed = r.events.filter((e) => e.event_name === "scenario.step.failed");
  assert.deepEqual(failed.map((e) => [e.payload.step, e.payload.attempt, e.payload.will_retry, (e.payload.error as { code: string }).code]), [["ask", 1, true, "E_STEP_FAILED"], ["ask", 2, true, "E_STEP_FAILED"]]);
  assert.ok(failed.every((e) => e.correlation_id === run?.correlation_id));
  const gap1 = Date.parse(calls[1]?.ts ?? "") - Date.parse(calls[0]?.ts ?? "");
  const gap2 = Date.parse(calls[2]?.ts ?? "") - Date.parse(calls[1]?.ts ?? "");
  assert.ok(gap1 >= 20 && gap2 >= 40, `backoff 20 ms then 40 ms (gaps ${gap1}, ${gap2})`);
});

test("retries exhausted: the run fails with the step's error and the finished effectful steps are compensated, last first", async (t) => {
  const s = scenario("saga", [
    step("book", publish("test.effect", { what: "book" }), { compensate: { kind: "publish", event: "test.undo", version: 1, payload: { undo: "book" } } }),
    step("pay", publish("test.effect", { what: "pay" }), { compensate: { kind: "publish", event: "test.undo", version: 1, payload: { undo: "pay" } } }),
    step("set-only", { kind: "set", values: { x: 1 } }),
    step("confirm", call("test.flaky"), { retries: { max: 1, backoff_ms: 1 } }),
    step("never", publish("test.effect", { what: "never" })),
  ]);
  const r = rig(t, [s]);
  flaky(r.bus, 99);
  const runner = r.runner();
  await runner.start(signal());
  const { run, steps } = await runToEnd(r, runner, "saga");
  assert.equal(run?.state, "failed");
  assert.equal(run?.error?.code, "E_STEP_FAILED");
  assert.equal(run?.steps_done, 3);
  assert.deepEqual(r.events.filter((e) => e.event_name === "test.undo").map((e) => e.payload), [{ undo: "pay" }, { undo: "book" }]);
  assert.deepEqual(steps.filter((x) => x.state === "compensated").map((x) => x.step), ["pay", "book"]);
  assert.equal(r.events.filter((e) => e.event_name === "test.effect").length, 2, "the step after the failure never ran");
  assert.equal(r.events.find((e) => e.event_name === "scenario.completed")?.payload.status, "failed");
  assert.deepEqual(r.events.filter((e) => e.event_name === "scenario.step.failed").map((e) => [e.payload.attempt, e.payload.will_retry]), [[1, true], [2, false]]);
});

test("cancel stops a long step within 1 s and compensates what was done; a cancelled run publishes scenario.completed cancelled", async (t) => {
  const s = scenario("long", [
    step("start", publish("test.effect"), { compensate: { kind: "publish", event: "test.undo", version: 1, payload: {} } }),
    step("nap", sleepFor(60_000)),
  ]);
  const r = rig(t, [s]);
  const runner = r.runner();
  await runner.start(signal());
  const { run_id } = runner.submit({ id: "long", trigger: "api" });
  await until(() => r.store.get(run_id)?.step === "nap");
  const t0 = Date.now();
  assert.equal(runner.cancel(run_id), true);
  await until(() => final(r.store.get(run_id)?.state));
  const took = Date.now() - t0;
  await completed(r, run_id);
  assert.ok(took < 1000, `stopped in ${took} ms`);
  assert.equal(r.store.get(run_id)?.state, "cancelled");
  assert.equal(r.store.get(run_id)?.error?.code, "E_CANCELLED");
  assert.equal(r.events.filter((e) => e.event_name === "test.undo").length, 1);
  assert.equal(r.events.find((e) => e.event_name === "scenario.completed")?.payload.status, "cancelled");
});

test("cancel also stops a call whose answer never comes", async (t) => {
  const s = scenario("hang", [step("ask", call("test.flaky"))]);
  const r = rig(t, [s]);
  r.bus.subscribe("test.flaky", () => undefined);
  const runner = r.runner();
  await runner.start(signal());
  const { run_id } = runner.submit({ id: "hang", trigger: "api" });
  await until(() => r.store.steps(run_id).length === 1);
  runner.cancel(run_id);
  await until(() => final(r.store.get(run_id)?.state), 1000);
  assert.equal(r.store.get(run_id)?.state, "cancelled");
});

test("a step's timeout fails the attempt with E_TIMEOUT and is retried; the run's timeout ends it as timed_out", async (t) => {
  const slow = scenario("slow", [step("ask", call("test.flaky"), { timeout_ms: 50, retries: { max: 1, backoff_ms: 1 } })]);
  const bounded = scenario("bounded", [step("nap", sleepFor(10_000))], { timeout_ms: 100 });
  const r = rig(t, [slow, bounded]);
  flaky(r.bus, 0, 500);
  const runner = r.runner();
  await runner.start(signal());
  const a = await runToEnd(r, runner, "slow");
  assert.equal(a.run?.state, "failed");
  assert.deepEqual(a.steps.map((x) => [x.attempt, x.state, x.error?.code]), [[1, "error", "E_TIMEOUT"], [2, "error", "E_TIMEOUT"]]);
  const b = await runToEnd(r, runner, "bounded");
  assert.equal(b.run?.state, "timed_out");
  assert.equal(b.run?.error?.code, "E_TIMEOUT");
  assert.equal(r.events.filter((e) => e.event_name === "scenario.completed").map((e) => e.payload.status).join(), "failed,timed_out");
});

test("two runs contending for tts never overlap: the second waits for the lock", async (t) => {
  const speak = (id: string): Scenario => scenario(id, [step("speak", sleepFor(80), { locks: ["tts"] }), step("after", { kind: "set", values: { done: true } })]);
  const r = rig(t, [speak("one"), speak("two"), speak("three")]);
  const runner = r.runner();
  await runner.start(signal());
  const ids = ["one", "two", "three"].map((id) => runner.submit({ id, trigger: "api" }).run_id);
  await until(() => ids.every((id) => final(r.store.get(id)?.state)));
  const spans = ids.map((id) => r.store.steps(id).find((x) => x.step === "speak")).map((x) => [x?.started_at ?? 0, x?.finished_at ?? 0] as const).sort((a, b) => a[0] - b[0]);
  for (let i = 1; i < spans.length; i++) {
    assert.ok((spans[i]?.[0] ?? 0) >= (spans[i - 1]?.[1] ?? Infinity), `span ${i} starts after span ${i - 1} ended: ${JSON.stringify(spans)}`);
  }
  assert.equal(runner.locks.busy().size, 0, "every lock released");
});

test("the queue starts HIGH before NORM before LOW when the node's slots are full", async (t) => {
  const blocker = scenario("blocker", [step("hold", { kind: "wait", event: "test.answer", timeout_ms: 5000 })]);
  const quick = (id: string): Scenario => scenario(id, [step("s", sleepFor(15))]);
  const r = rig(t, [blocker, quick("low"), quick("norm"), quick("high")]);
  const runner = r.runner({ maxConcurrentPerNode: 1 });
  await runner.start(signal());
  runner.submit({ id: "blocker", trigger: "api" });
  const low = runner.submit({ id: "low", trigger: "api", priority: "LOW" });
  const norm = runner.submit({ id: "norm", trigger: "api", priority: "NORM" });
  const high = runner.submit({ id: "high", trigger: "api", priority: "HIGH" });
  assert.deepEqual([low.status, norm.status, high.status], ["queued", "queued", "queued"]);
  r.bus.publish(createEnvelope({ event_name: "test.answer", version: 1, source: SOURCE, payload: {} }));
  for (const x of [low, norm, high]) await completed(r, x.run_id);
  // Each sleeps 15 ms on the one slot, so their start times are apart.
  const order = [["low", low], ["norm", norm], ["high", high]].map(([name, x]) => [name, r.store.get((x as { run_id: string }).run_id)?.started_at ?? 0] as const).sort((a, b) => a[1] - b[1]);
  assert.deepEqual(order.map((x) => x[0]), ["high", "norm", "low"]);
});

test("max_concurrent per scenario: a second run is refused E_SCENARIO_BUSY unless forced; an unknown scenario is E_NOT_FOUND", async (t) => {
  const s = scenario("solo", [step("hold", { kind: "wait", event: "test.answer", timeout_ms: 5000 })]);
  const r = rig(t, [s]);
  const runner = r.runner();
  await runner.start(signal());
  const first = runner.submit({ id: "solo", trigger: "api" });
  assert.throws(() => runner.submit({ id: "solo", trigger: "api" }), ScenarioBusyError);
  const forced = runner.submit({ id: "solo", trigger: "api", force: true });
  assert.notEqual(forced.run_id, first.run_id);
  assert.throws(() => runner.submit({ id: "nope", trigger: "api" }), NotFoundError);
  r.bus.publish(createEnvelope({ event_name: "test.answer", version: 1, source: SOURCE, payload: {} }));
  r.bus.publish(createEnvelope({ event_name: "test.answer", version: 1, source: SOURCE, payload: {} }));
  await until(() => [first, forced].every((x) => final(r.store.get(x.run_id)?.state)));
  assert.match(r.metrics.render(), /adaos_scenario_runs_refused_total\{reason="busy",scenario="solo"\} 1/);
});

test("the same trigger key starts one run: the second submit is that run, marked duplicate", async (t) => {
  const s = scenario("tick", [step("s", { kind: "set", values: { x: 1 } })], { max_concurrent: 5 });
  const r = rig(t, [s]);
  const runner = r.runner();
  await runner.start(signal());
  const a = runner.submit({ id: "tick", trigger: "schedule:x", triggerKey: "x@2026-01-01T00:00:00.000Z" });
  await until(() => final(r.store.get(a.run_id)?.state));
  const b = runner.submit({ id: "tick", trigger: "schedule:x", triggerKey: "x@2026-01-01T00:00:00.000Z" });
  assert.equal(b.run_id, a.run_id);
  assert.equal(b.duplicate, true);
  assert.equal(r.store.list({ scenario_id: "tick" }).length, 1);
});

test("dry_run simulates call, publish, say and wait: nothing reaches the bus, the journal says simulated", async (t) => {
  const s = scenario("dry", [
    step("ask", call("test.flaky", { q: "${ctx.q}" }), { save_as: "reply" }),
    step("tell", publish("test.effect")),
    step("say", { kind: "say", text: "hi" }),
    step("wait", { kind: "wait", event: "test.answer", timeout_ms: 10_000 }),
    step("set", { kind: "set", values: { y: 2 } }),
  ]);
  const r = rig(t, [s]);
  const { calls } = flaky(r.bus, 0);
  const runner = r.runner();
  await runner.start(signal());
  const { run, steps } = await runToEnd(r, runner, "dry", { dry_run: true, ctx: { q: 7 } });
  assert.equal(run?.state, "succeeded");
  assert.deepEqual(steps.map((x) => x.state), ["simulated", "simulated", "simulated", "simulated", "ok"]);
  assert.equal(calls.length, 0);
  assert.deepEqual(r.events.map((e) => e.event_name), ["scenario.completed"]);
  assert.deepEqual(run?.bag.reply, { simulated: "call", command: "test.flaky@1", payload: { q: 7 } });
});

test("wait takes the first matching event from the run's mailbox (even one that came before the wait began); a wait that times out fails", async (t) => {
  const s = scenario("dialog", [
    step("ask", publish("test.effect", { q: "name?" })),
    step("pause", sleepFor(30)),
    step("answer", { kind: "wait", event: "test.answer", filter: '$.payload.to == run.id', timeout_ms: 2000 }, { save_as: "answer" }),
    step("greet", { kind: "notify", text: "Hi ${bag.answer.name}", level: "info" }),
  ]);
  const lonely = scenario("lonely", [step("answer", { kind: "wait", event: "test.answer", timeout_ms: 50 })]);
  const r = rig(t, [s, lonely]);
  r.bus.subscribe("test.effect", (e) => {
    const to = e.headers.idempotency_key?.split("/")[1] ?? "";
    r.bus.publish(createEnvelope({ event_name: "test.answer", version: 1, source: SOURCE, payload: { to: "someone-else", name: "Eve" } }));
    r.bus.publish(createEnvelope({ event_name: "test.answer", version: 1, source: SOURCE, payload: { to, name: "Ada" } }));
  });
  const runner = r.runner();
  await runner.start(signal());
  const a = await runToEnd(r, runner, "dialog");
  assert.equal(a.run?.state, "succeeded");
  assert.equal(r.events.find((e) => e.event_name === "ui.notify")?.payload.text, "Hi Ada");
  const b = await runToEnd(r, runner, "lonely");
  assert.equal(b.run?.state, "failed");
  assert.equal(b.run?.error?.code, "E_TIMEOUT");
});

test("when: false skips the step (journalled skipped); a throwing expression fails the run with E_EXPRESSION_INVALID", async (t) => {
  const s = scenario("cond", [
    step("maybe", publish("test.effect"), { when: "ctx.go == true" }),
    step("always", { kind: "set", values: { ran: true } }),
  ]);
  const bad = scenario("bad", [step("x", { kind: "set", values: { v: "${ctx.n < 3}" } })]);
  const r = rig(t, [s, bad]);
  const runner = r.runner();
  await runner.start(signal());
  const a = await runToEnd(r, runner, "cond", { ctx: { go: false } });
  assert.deepEqual(a.steps.map((x) => [x.step, x.state]), [["maybe", "skipped"], ["always", "ok"]]);
  assert.equal(a.run?.steps_done, 2);
  const b = await runToEnd(r, runner, "bad");
  assert.equal(b.run?.state, "failed");
  assert.equal(b.run?.error?.code, "E_EXPRESSION_INVALID");
});

test("a queued run can be cancelled before it starts", async (t) => {
  const blocker = scenario("blocker", [step("hold", { kind: "wait", event: "test.answer", timeout_ms: 5000 })]);
  const other = scenario("other", [step("s", publish("test.effect"))]);
  const r = rig(t, [blocker, other]);
  const runner = r.runner({ maxConcurrentPerNode: 1 });
  await runner.start(signal());
  runner.submit({ id: "blocker", trigger: "api" });
  const q = runner.submit({ id: "other", trigger: "api" });
  assert.equal(q.status, "queued");
  assert.equal(runner.cancel(q.run_id), true);
  assert.equal(r.store.get(q.run_id)?.state, "cancelled");
  r.bus.publish(createEnvelope({ event_name: "test.answer", version: 1, source: SOURCE, payload: {} }));
  await until(() => r.events.some((e) => e.event_name === "scenario.completed" && e.payload.scenario_id === "blocker"));
  assert.equal(r.events.filter((e) => e.event_name === "test.effect").length, 0);
});

test("restart: an interrupted run is marked interrupted; a resumable one continues without repeating finished steps", async (t) => {
  const body = [
    step("first", publish("test.effect", { n: 1 })),
    step("hold", { kind: "wait", event: "test.answer", timeout_ms: 10_000 }),
    step("last", publish("test.effect", { n: 3 })),
  ] as const;
  const plain = scenario("plain", body);
  const resumable = scenario("resumable", body, { on_restart: "resume" });
  const r = rig(t, [plain, resumable]);
  const before = r.runner();
  await before.start(signal());
  const p = before.submit({ id: "plain", trigger: "api" });
  const q = before.submit({ id: "resumable", trigger: "api" });
  await until(() => [p, q].every((x) => r.store.get(x.run_id)?.step === "hold"));
  await before.stop();
  assert.equal(r.store.get(p.run_id)?.state, "interrupted", "stop() marks a non-resumable run at once");
  assert.equal(r.store.get(q.run_id)?.state, "running", "a resumable one stays running for the next start");
  assert.equal(r.events.filter((e) => e.event_name === "test.undo" || e.event_name === "scenario.completed").length, 0);

  r.reopen();
  const after = r.runner();
  await after.start(signal());
  r.bus.publish(createEnvelope({ event_name: "test.answer", version: 1, source: SOURCE, payload: {} }));
  await completed(r, q.run_id);
  assert.equal(r.store.get(q.run_id)?.state, "succeeded");
  assert.deepEqual(r.events.filter((e) => e.event_name === "test.effect").map((e) => e.payload.n), [1, 1, 3], "first ran once per run; last only in the resumed one");
  assert.equal(r.store.get(p.run_id)?.state, "interrupted");
});

test("a run that was running when the process died is marked interrupted at the next start", async (t) => {
  const s = scenario("crash", [step("s", publish("test.effect"))]);
  const r = rig(t, [s]);
  r.store.insert({ run_id: "r-dead", scenario_id: "crash", priority: "NORM", ctx: {}, dry_run: false, force: false, trigger: "api", trigger_key: null, correlation_id: "c", replay_of: null, steps_total: 1, queued_at: Date.now() });
  r.store.update("r-dead", { state: "running", started_at: Date.now(), step: "s" });
  r.store.insert({ run_id: "r-queued", scenario_id: "crash", priority: "NORM", ctx: {}, dry_run: false, force: false, trigger: "api", trigger_key: null, correlation_id: "c2", replay_of: null, steps_total: 1, queued_at: Date.now() });
  const runner = r.runner();
  await runner.start(signal());
  assert.equal(r.store.get("r-dead")?.state, "interrupted");
  assert.match(r.store.get("r-dead")?.error?.message ?? "", /during step s/);
  await until(() => final(r.store.get("r-queued")?.state));
  assert.equal(r.store.get("r-queued")?.state, "succeeded", "a run that never started is queued again");
});

test("scenario.run over the bus starts a run and replies scenario.run.result; a refusal replies ok: false", async (t) => {
  const s = scenario("remote", [step("s", { kind: "set", values: { x: 1 } })]);
  const r = rig(t, [s]);
  const runner = r.runner();
  await runner.start(signal());
  const ask = (id: string) => r.bus.request(createEnvelope({ event_name: "scenario.run", version: 1, kind: "command", source: SOURCE, payload: { id, ctx: { a: 1 }, priority: 0 } }));
  const ok = await ask("remote");
  assert.equal(ok.payload.ok, true);
  const runId = String(ok.payload.run_id);
  await until(() => final(r.store.get(runId)?.state));
  assert.equal(r.store.get(runId)?.priority, "HIGH");
  assert.deepEqual(r.store.get(runId)?.ctx, { a: 1 });
  const no = await ask("missing");
  assert.deepEqual([no.payload.ok, (no.payload.error as { code: string }).code], [false, "E_NOT_FOUND"]);
});

test("on an injected clock: retries wait exactly backoff, then twice that; a step's timeout fires at its bound", async (t) => {
  const clock = new ManualClock(Date.parse("2026-05-01T00:00:00.000Z"));
  const s = scenario("timed", [step("ask", call("test.flaky"), { retries: { max: 2, backoff_ms: 1000 }, timeout_ms: 30_000 })]);
  const r = rig(t, [s], clock);
  const { calls } = flaky(r.bus, 2);
  const runner = r.runner();
  await runner.start(signal());
  const { run_id } = runner.submit({ id: "timed", trigger: "api" });
  const settle = async () => { for (let i = 0; i < 30; i++) await new Promise((res) => setImmediate(res)); };
  await settle();
  assert.equal(calls.length, 1);
  clock.advance(999);
  await settle();
  assert.equal(calls.length, 1, "not before the backoff");
  clock.advance(1);
  await settle();
  assert.equal(calls.length, 2);
  clock.advance(1999);
  await settle();
  assert.equal(calls.length, 2, "the second retry waits twice as long");
  clock.advance(1);
  await settle();
  assert.equal(calls.length, 3);
  await completed(r, run_id);
  assert.equal(r.store.get(run_id)?.state, "succeeded");

  const hang = scenario("hang2", [step("ask", { kind: "wait", event: "test.answer", timeout_ms: 60_000 }, { timeout_ms: 5000 })]);
  r.scenarios.set("hang2", hang);
  const h = runner.submit({ id: "hang2", trigger: "api" });
  await settle();
  clock.advance(4999);
  await settle();
  assert.equal(r.store.get(h.run_id)?.state, "running");
  clock.advance(1);
  await completed(r, h.run_id);
  assert.equal(r.store.get(h.run_id)?.error?.code, "E_TIMEOUT");
});
