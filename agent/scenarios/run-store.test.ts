import { test } from "node:test";
import { strict as assert } from "node:assert";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ConflictError, NotFoundError, StorageError } from "../core/errors.js";
import type { Db } from "../store/sqlite.js";
import { MAX_RESULT_BYTES, RunStore, type NewRun, type RunRecord } from "./run-store.js";
import { openScenarioDb } from "./scenario-db.js";

type T = { after(fn: () => void): void };

function dir(t: T): string {
  const d = mkdtempSync(join(tmpdir(), "adaos-runs-"));
  t.after(() => rmSync(d, { recursive: true, force: true }));
  return d;
}

/** A store on a fresh scenarios.db; the Db is closed after the test (after the store). */
function open(t: T, d = dir(t)): { store: RunStore; db: Db; d: string } {
  const db = openScenarioDb(d);
  t.after(() => db.close());
  return { store: new RunStore(db), db, d };
}

const T0 = 1_768_435_200_000;

function newRun(run_id: string, over: Partial<NewRun> = {}): NewRun {
  return {
    run_id, scenario_id: "morning", priority: "NORM", ctx: {}, dry_run: false, force: false, trigger: "api",
    trigger_key: null, correlation_id: `c-${run_id}`, replay_of: null, steps_total: 3, queued_at: T0, ...over,
  };
}

function fresh(run: NewRun): RunRecord {
  return { ...run, state: "queued", step: null, steps_done: 0, started_at: null, finished_at: null, error: null, bag: {} };
}

test("insert then get round-trips every field, JSON and booleans included", (t) => {
  const { store } = open(t);
  const run = newRun("r1", {
    priority: "HIGH", ctx: { room: "kitchen", n: 3, nested: { list: [1, "two", null] } }, dry_run: true, force: true,
    trigger: "replay:r0", trigger_key: "morning@2026-01-15T07:00:00.000Z", replay_of: "r0", steps_total: 5,
  });
  assert.deepEqual(store.insert(run), { inserted: true, run: fresh(run) });
  assert.deepEqual(store.get("r1"), fresh(run));
  assert.equal(store.get("nope"), undefined);
});

test("a taken trigger_key returns the run holding it; null keys never collide; a taken run_id is ConflictError", (t) => {
  const { store } = open(t);
  const first = newRun("r1", { trigger: "schedule:morning", trigger_key: "morning@2026-01-15T07:00:00.000Z" });
  store.insert(first);
  store.update("r1", { state: "running", started_at: T0 + 5 });

  const again = store.insert(newRun("r2", { trigger: "schedule:morning", trigger_key: first.trigger_key, queued_at: T0 + 9 }));
  assert.deepEqual(again, { inserted: false, existing: { ...fresh(first), state: "running", started_at: T0 + 5 } });
  assert.equal(store.get("r2"), undefined, "no second run");
  assert.deepEqual(store.byTriggerKey(first.trigger_key ?? ""), again.inserted ? undefined : again.existing);
  assert.equal(store.byTriggerKey("never"), undefined);
  assert.equal(store.insert(first).inserted, false, "the very same insert retried is a duplicate, not a conflict");

  assert.equal(store.insert(newRun("n1")).inserted, true);
  assert.equal(store.insert(newRun("n2")).inserted, true);

  assert.throws(() => store.insert(newRun("n1", { queued_at: T0 + 1 })),
    (err: unknown) => err instanceof ConflictError && err.code === "E_CONFLICT" && err.message === "run n1 exists");
  assert.deepEqual(store.list({}).map((r) => r.run_id).sort(), ["n1", "n2", "r1"]);
});

test("update sets only the given fields, null included; an unknown run is NotFoundError", (t) => {
  const { store } = open(t);
  const run = newRun("r1");
  store.insert(run);
  store.update("r1", { state: "running", step: "lights", started_at: T0 + 10, bag: { lights: { on: true } } });
  store.update("r1", { steps_done: 1 });
  assert.deepEqual(store.get("r1"), { ...fresh(run), state: "running", step: "lights", started_at: T0 + 10, steps_done: 1, bag: { lights: { on: true } } });

  const failure = Object.assign(new Error("boom"), { code: "E_STEP_FAILED", extra: "dropped" });
  store.update("r1", { state: "failed", finished_at: T0 + 20, error: failure, step: null });
  assert.deepEqual(store.get("r1"), {
    ...fresh(run), state: "failed", step: null, started_at: T0 + 10, finished_at: T0 + 20, steps_done: 1,
    error: { code: "E_STEP_FAILED", message: "boom" }, bag: { lights: { on: true } },
  });
  store.update("r1", { error: null });
  assert.equal(store.get("r1")?.error, null);
  assert.doesNotThrow(() => store.update("r1", {}));

  for (const patch of [{ state: "running" as const }, {}]) {
    assert.throws(() => store.update("ghost", patch), (err: unknown) => err instanceof NotFoundError && err.message === "run ghost not found");
  }
  assert.throws(() => store.update("r1", { bag: { n: 1n } }), (err: unknown) => err instanceof StorageError && /cannot update run r1 .*BigInt/.test(err.message));
});

test("list: newest first (queued_at, then run_id), by scenario, by states, limit defaulting to 20 and capped at 500", (t) => {
  const { store } = open(t);
  store.batch(() => {
    for (let i = 0; i < 30; i++) store.insert(newRun(`m${String(i).padStart(2, "0")}`, { queued_at: T0 + i }));
    store.insert(newRun("e-b", { scenario_id: "evening", queued_at: T0 + 100 }));
    store.insert(newRun("e-a", { scenario_id: "evening", queued_at: T0 + 100 }));
    store.insert(newRun("e-c", { scenario_id: "evening", queued_at: T0 + 50 }));
  });
  store.update("m29", { state: "running" });
  store.update("m28", { state: "failed" });
  store.update("e-c", { state: "failed" });

  const all = store.list({});
  assert.equal(all.length, 20);
  assert.deepEqual(all.slice(0, 5).map((r) => r.run_id), ["e-b", "e-a", "e-c", "m29", "m28"]);
  assert.deepEqual(store.list({ scenario_id: "evening" }).map((r) => r.run_id), ["e-b", "e-a", "e-c"]);
  assert.deepEqual(store.list({ scenario_id: "morning", limit: 2 }).map((r) => r.run_id), ["m29", "m28"]);
  assert.deepEqual(store.list({ states: ["failed"] }).map((r) => r.run_id), ["e-c", "m28"]);
  assert.deepEqual(store.list({ scenario_id: "morning", states: ["running", "failed"] }).map((r) => r.run_id), ["m29", "m28"]);
  assert.deepEqual(store.list({ states: [] }), []);
  assert.deepEqual(store.list({ scenario_id: "nobody" }), []);
  assert.equal(store.list({ limit: 10_000 }).length, 33, "capped at 500, which is more than there are");
  assert.equal(store.list({ limit: 0 }).length, 1, "at least one");

  store.batch(() => {
    for (let i = 0; i < 520; i++) store.insert(newRun(`x${i}`, { scenario_id: "bulk", queued_at: T0 - i }));
  });
  assert.equal(store.list({ limit: 10_000 }).length, 500);
});

test("inFlight: queued and running runs, oldest first", (t) => {
  const { store } = open(t);
  store.insert(newRun("late", { queued_at: T0 + 30 }));
  store.insert(newRun("done", { queued_at: T0 + 5 }));
  store.insert(newRun("early", { queued_at: T0 + 10, scenario_id: "evening" }));
  store.insert(newRun("same-b", { queued_at: T0 + 20 }));
  store.insert(newRun("same-a", { queued_at: T0 + 20 }));
  store.update("early", { state: "running" });
  store.update("done", { state: "succeeded" });
  store.update("same-b", { state: "interrupted" });
  assert.deepEqual(store.inFlight().map((r) => [r.run_id, r.state]), [["early", "running"], ["same-a", "queued"], ["late", "queued"]]);
});

test("the journal: attempts, latency, results, errors, compensation rows, in insertion order", (t) => {
  const { store } = open(t);
  store.insert(newRun("r1"));
  store.stepStarted("r1", "fetch", 1, T0);
  store.stepFinished("r1", "fetch", 1, { state: "error", at: T0 + 120, error: { code: "E_TIMEOUT", message: "no answer" } });
  store.stepStarted("r1", "fetch", 2, T0 + 200);
  store.stepFinished("r1", "fetch", 2, { state: "ok", at: T0 + 250, result: { temp: 21.5, unit: "C" } });
  store.stepFinished("r1", "gate", 1, { state: "skipped", at: T0 + 260 });
  store.stepStarted("r1", "say", 1, T0 + 270);
  store.stepFinished("r1", "say", 1, { state: "simulated", at: T0 + 270, result: "dry" });
  store.stepFinished("r1", "fetch", 2, { state: "compensated", at: T0 + 300 });
  store.stepFinished("r1", "say", 1, { state: "compensation_failed", at: T0 + 310, error: { code: "E_BUS_CLOSED", message: "bus gone" } });
  store.stepStarted("r1", "notify", 1, T0 + 320);

  const row = (step: string, attempt: number, state: string, started_at: number, finished_at: number | null, latency_ms: number | null, result: unknown = null, error: unknown = null) =>
    ({ run_id: "r1", step, attempt, state, started_at, finished_at, latency_ms, result, error });
  assert.deepEqual(store.steps("r1"), [
    row("fetch", 1, "error", T0, T0 + 120, 120, null, { code: "E_TIMEOUT", message: "no answer" }),
    row("fetch", 2, "ok", T0 + 200, T0 + 250, 50, { temp: 21.5, unit: "C" }),
    row("gate", 1, "skipped", T0 + 260, T0 + 260, 0),
    row("say", 1, "simulated", T0 + 270, T0 + 270, 0, "dry"),
    row("fetch", 2, "compensated", T0 + 300, T0 + 300, 0),
    row("say", 1, "compensation_failed", T0 + 310, T0 + 310, 0, null, { code: "E_BUS_CLOSED", message: "bus gone" }),
    row("notify", 1, "started", T0 + 320, null, null),
  ]);
  assert.deepEqual(store.steps("nope"), []);
});

test("the journal: a clock stepped back gives latency 0; a step for an unknown run is NotFoundError", (t) => {
  const { store } = open(t);
  store.insert(newRun("r1"));
  store.stepStarted("r1", "a", 1, T0 + 5000);
  store.stepFinished("r1", "a", 1, { state: "ok", at: T0 });
  assert.equal(store.steps("r1")[0]?.latency_ms, 0);
  assert.throws(() => store.stepStarted("ghost", "a", 1, T0), (err: unknown) => err instanceof NotFoundError && err.message === "run ghost not found");
  assert.throws(() => store.stepFinished("ghost", "a", 1, { state: "skipped", at: T0 }), NotFoundError);
});

test("results too large or not JSON are stored as a truncation marker; the step is still journaled", (t) => {
  const { store } = open(t);
  store.insert(newRun("r1"));
  const cyclic: Record<string, unknown> = { a: 1 };
  cyclic["self"] = cyclic;
  const huge = "x".repeat(MAX_RESULT_BYTES);
  const fits = "y".repeat(MAX_RESULT_BYTES - 2);
  const outcomes: [string, unknown][] = [["huge", huge], ["fits", fits], ["big", 12n], ["cyclic", cyclic], ["fn", () => 1], ["none", undefined]];
  for (const [step, result] of outcomes) {
    store.stepStarted("r1", step, 1, T0);
    store.stepFinished("r1", step, 1, { state: "ok", at: T0 + 1, result });
  }
  const results = store.steps("r1").map((s) => [s.step, s.state, s.result]);
  assert.deepEqual(results.slice(0, 2), [["huge", "ok", { truncated: true, bytes: MAX_RESULT_BYTES + 2 }], ["fits", "ok", fits]]);
  const [big, cyc, fn, none] = results.slice(2);
  assert.deepEqual(big, ["big", "ok", { truncated: true, bytes: null, reason: "Do not know how to serialize a BigInt" }]);
  assert.equal(cyc?.[1], "ok");
  assert.match((cyc?.[2] as { reason: string }).reason, /circular/i);
  assert.deepEqual(fn, ["fn", "ok", { truncated: true, bytes: null, reason: "a function is not JSON" }]);
  assert.deepEqual(none, ["none", "ok", null]);
  assert.deepEqual(store.finishedSteps("r1").get("huge"), { state: "ok", result: { truncated: true, bytes: MAX_RESULT_BYTES + 2 } });
});

test("finishedSteps: a step counts when its latest entry is ok, simulated or skipped", (t) => {
  const { store } = open(t);
  store.insert(newRun("r1"));
  store.insert(newRun("other"));
  const finish = (step: string, attempt: number, state: "ok" | "error" | "simulated" | "skipped" | "compensated", result?: unknown) => {
    store.stepStarted("r1", step, attempt, T0);
    store.stepFinished("r1", step, attempt, result === undefined ? { state, at: T0 + 1 } : { state, at: T0 + 1, result });
  };
  finish("retried", 1, "error");
  finish("retried", 2, "ok", { id: 7 });
  finish("failed-last", 1, "ok", "first");
  finish("failed-last", 2, "error");
  finish("dry", 1, "simulated", { would: "say hi" });
  store.stepFinished("r1", "gate", 1, { state: "skipped", at: T0 });
  finish("undone", 1, "ok", 1);
  store.stepFinished("r1", "undone", 1, { state: "compensated", at: T0 + 2 });
  store.stepStarted("r1", "crashed", 1, T0);
  store.stepStarted("other", "retried", 1, T0);

  assert.deepEqual([...store.finishedSteps("r1")], [
    ["retried", { state: "ok", result: { id: 7 } }],
    ["dry", { state: "simulated", result: { would: "say hi" } }],
    ["gate", { state: "skipped", result: null }],
  ]);
  assert.equal(store.finishedSteps("other").size, 0);
});

test("prune keeps each scenario's newest N finished runs and every queued or running one", (t) => {
  const { store, db } = open(t);
  store.batch(() => {
    for (let i = 0; i < 6; i++) {
      store.insert(newRun(`m${i}`, { queued_at: T0 + i }));
      store.update(`m${i}`, { state: i === 0 ? "running" : i === 1 ? "queued" : "succeeded" });
      store.stepFinished(`m${i}`, "a", 1, { state: "skipped", at: T0 + i });
    }
    store.insert(newRun("e0", { scenario_id: "evening", queued_at: T0 - 100 }));
    store.update("e0", { state: "failed" });
  });
  assert.equal(store.prune(2), 2, "m2 and m3 go; m4, m5 are the newest two finished; m0, m1 are in flight");
  assert.deepEqual(store.list({}).map((r) => r.run_id), ["m5", "m4", "m1", "m0", "e0"]);
  assert.deepEqual(store.steps("m2"), [], "the journal goes with the run");
  assert.equal((db.prepare("SELECT count(*) AS n FROM run_steps").get() as { n: number }).n, 4);
  assert.equal(store.prune(2), 0);
  assert.equal(store.prune(0), 3);
  assert.deepEqual(store.list({}).map((r) => r.run_id), ["m1", "m0"]);
  assert.throws(() => store.prune(-1), RangeError);
});

test("batch commits all or nothing", (t) => {
  const { store } = open(t);
  assert.equal(store.batch(() => {
    store.insert(newRun("r1"));
    store.stepStarted("r1", "a", 1, T0);
    return 42;
  }), 42);
  assert.throws(() => store.batch(() => {
    store.insert(newRun("r2"));
    store.update("r1", { state: "running" });
    store.stepFinished("r1", "a", 1, { state: "ok", at: T0 + 1 });
    throw new Error("runner bailed");
  }), /runner bailed/);
  assert.equal(store.get("r2"), undefined);
  assert.equal(store.get("r1")?.state, "queued");
  assert.deepEqual(store.steps("r1").map((s) => s.state), ["started"]);
  assert.throws(() => store.batch(() => store.insert(newRun("r1"))), ConflictError, "store errors pass through unchanged");
});

test("runs and their journal survive closing and reopening the file (an agent restart)", (t) => {
  const d = dir(t);
  const db = openScenarioDb(d);
  const store = new RunStore(db);
  store.insert(newRun("r1", { ctx: { who: "anna" }, trigger_key: "k1" }));
  store.update("r1", { state: "running", step: "b", steps_done: 1, bag: { a: 1 } });
  store.stepStarted("r1", "a", 1, T0);
  store.stepFinished("r1", "a", 1, { state: "ok", at: T0 + 3, result: [1] });
  store.stepStarted("r1", "b", 1, T0 + 4);
  const before = { run: store.get("r1"), steps: store.steps("r1") };
  store.close();
  assert.equal(db.open, true, "the Db is the caller's");
  db.close();

  const { store: again } = open(t, d);
  assert.deepEqual({ run: again.get("r1"), steps: again.steps("r1") }, before);
  assert.deepEqual(again.inFlight().map((r) => r.run_id), ["r1"]);
  assert.deepEqual([...again.finishedSteps("r1").keys()], ["a"]);
  assert.equal(again.insert(newRun("r2", { trigger_key: "k1" })).inserted, false, "the trigger key is still taken");
});

test("SQLite failures are StorageError naming the operation", (t) => {
  const d = dir(t);
  const db = openScenarioDb(d);
  const store = new RunStore(db);
  store.insert(newRun("r1"));
  db.close();
  const failures: [() => unknown, RegExp][] = [
    [() => store.get("r1"), /^cannot read run r1 /],
    [() => store.insert(newRun("r2")), /^cannot insert run r2 /],
    [() => store.update("r1", { steps_done: 1 }), /^cannot update run r1 /],
    [() => store.list({}), /^cannot list runs /],
    [() => store.byTriggerKey("k"), /^cannot read run for trigger key k /],
    [() => store.inFlight(), /^cannot list runs in flight /],
    [() => store.stepStarted("r1", "a", 1, T0), /^cannot journal step a of run r1 /],
    [() => store.steps("r1"), /^cannot read steps of run r1 /],
    [() => store.prune(1), /^cannot prune runs /],
    [() => store.batch(() => 1), /^cannot commit batch /],
  ];
  for (const [call, message] of failures) {
    assert.throws(call, (err: unknown) => err instanceof StorageError && err.code === "E_STORAGE" && message.test(err.message), String(message));
  }
});
