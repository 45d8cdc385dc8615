import { test } from "node:test";
import { strict as assert } from "node:assert";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { StorageError } from "../core/errors.js";
import type { Db } from "../store/sqlite.js";
import type { Schedule } from "./schedule.js";
import { RUN_MIGRATIONS, RunStore } from "./run-store.js";
import { SCENARIO_DB_MIGRATIONS, openScenarioDb } from "./scenario-db.js";
import { SCHEDULE_MIGRATIONS, ScheduleStore } from "./schedule-store.js";

function dir(t: { after(fn: () => void): void }): string {
  const d = mkdtempSync(join(tmpdir(), "adaos-scenario-db-"));
  t.after(() => rmSync(d, { recursive: true, force: true }));
  return d;
}

const poll: Schedule = {
  id: "poll", scenario_id: "news", spec: { type: "interval", every_ms: 5000 }, ctx: { room: "hall" }, event: "timer.tick", catch_up: false, created_at: 1_768_435_300_000,
};

const version = (db: Db) => db.pragma("user_version", { simple: true }) as number;
const schema = (db: Db) => db.prepare("SELECT type, name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' ORDER BY name").all();
const tables = (db: Db) => (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name").all() as { name: string }[]).map((r) => r.name);

function aRun(run_id: string) {
  return {
    run_id, scenario_id: "news", priority: "NORM" as const, ctx: {}, dry_run: false, force: false, trigger: "api", trigger_key: null,
    correlation_id: "c1", replay_of: null, steps_total: 1, queued_at: 1_768_435_400_000,
  };
}

test("the list is the schedule store's migrations, then the run store's, in that order", () => {
  assert.deepEqual(SCENARIO_DB_MIGRATIONS, [...SCHEDULE_MIGRATIONS, ...RUN_MIGRATIONS]);
  assert.equal(SCENARIO_DB_MIGRATIONS.length, 2, "a new migration is appended here: bump this and add an upgrade test");
});

test("a file made by ScheduleStore.open upgrades cleanly and keeps its schedules", (t) => {
  const d = dir(t);
  const old = ScheduleStore.open(d);
  old.create(poll);
  old.markFired("poll", 1_768_435_305_000, 1);
  old.close();

  const db = openScenarioDb(d);
  t.after(() => db.close());
  assert.equal(version(db), SCENARIO_DB_MIGRATIONS.length);
  assert.deepEqual(tables(db), ["run_steps", "runs", "schedules"]);
  assert.deepEqual(new ScheduleStore(db).list(), [{ ...poll, last_tick_at: 1_768_435_305_000, seq: 1 }]);
  const runs = new RunStore(db);
  assert.equal(runs.insert(aRun("r1")).inserted, true);

  // The upgraded file is newer than the schedule list alone: the runtime shares this Db instead.
  assert.throws(() => ScheduleStore.open(d), (err: unknown) => err instanceof StorageError && /newer than this adaos-edge knows/.test(err.message));
});

test("a fresh file gets every table; reopening it changes nothing", (t) => {
  const d = dir(t);
  const db = openScenarioDb(d);
  assert.equal(version(db), SCENARIO_DB_MIGRATIONS.length);
  assert.deepEqual(tables(db), ["run_steps", "runs", "schedules"]);
  new ScheduleStore(db).create(poll);
  new RunStore(db).insert(aRun("r1"));
  const before = schema(db);
  db.close();

  const again = openScenarioDb(d);
  t.after(() => again.close());
  assert.equal(version(again), SCENARIO_DB_MIGRATIONS.length);
  assert.deepEqual(schema(again), before);
  assert.deepEqual(new ScheduleStore(again).list().map((s) => s.id), ["poll"]);
  assert.equal(new RunStore(again).get("r1")?.state, "queued");
});

test("the run migrations are idempotent too: applied again over existing tables they do nothing", (t) => {
  const db = openScenarioDb(dir(t));
  t.after(() => db.close());
  new RunStore(db).insert(aRun("r1"));
  const before = schema(db);
  assert.doesNotThrow(() => db.transaction(() => SCENARIO_DB_MIGRATIONS.forEach((m) => m(db)))());
  assert.deepEqual(schema(db), before);
  assert.equal(new RunStore(db).get("r1")?.run_id, "r1");
});
