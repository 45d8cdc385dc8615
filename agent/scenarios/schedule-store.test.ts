import { strict as assert } from "node:assert";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import Database from "better-sqlite3";
import { ScheduleInvalidError, StorageError } from "../core/errors.js";
import { openDatabase } from "../store/sqlite.js";
import type { Schedule } from "./schedule.js";
import { SCENARIOS_DB_FILE, SCHEDULE_MIGRATIONS, ScheduleStore } from "./schedule-store.js";

function dir(t: { after(fn: () => void): void }): string {
  const d = mkdtempSync(join(tmpdir(), "adaos-schedules-"));
  t.after(() => rmSync(d, { recursive: true, force: true }));
  return d;
}

const morning: Schedule = {
  id: "morning-news", scenario_id: "news", spec: { type: "cron", cron: "0 7 * * 1-5", tz: "Europe/Berlin" },
  ctx: { room: "kitchen", volume: 3 }, event: "timer.tick", catch_up: true, created_at: 1_768_435_200_000,
};
const bare: Schedule = {
  id: "poll", scenario_id: null, spec: { type: "interval", every_ms: 5000 }, ctx: {}, event: "timer.tick", catch_up: false, created_at: 1_768_435_300_000,
};

test("create, get, list (oldest first), markFired only forwards, delete; a reopened file has it all", (t) => {
  const d = dir(t);
  const store = ScheduleStore.open(d);
  store.create(bare);
  store.create(morning);
  assert.deepEqual(store.get("morning-news"), { ...morning, last_tick_at: null, seq: 0 });
  assert.deepEqual(store.list().map((s) => s.id), ["morning-news", "poll"]);
  assert.equal(store.get("nope"), undefined);

  assert.equal(store.markFired("poll", 1_768_435_305_000, 1), true);
  assert.equal(store.markFired("poll", 1_768_435_310_000, 2), true);
  assert.equal(store.markFired("poll", 1_768_435_305_000, 1), false, "an older tick never moves it back");
  assert.equal(store.markFired("gone", 1, 1), false);
  assert.deepEqual(store.get("poll"), { ...bare, last_tick_at: 1_768_435_310_000, seq: 2 });

  assert.throws(() => store.create(bare), (err: unknown) => err instanceof ScheduleInvalidError && err.message === "schedule poll exists");
  store.close();

  const again = ScheduleStore.open(d);
  t.after(() => again.close());
  assert.deepEqual(again.list(), [{ ...morning, last_tick_at: null, seq: 0 }, { ...bare, last_tick_at: 1_768_435_310_000, seq: 2 }]);
  assert.equal(again.delete("poll"), true);
  assert.equal(again.delete("poll"), false);
  assert.deepEqual(again.list().map((s) => s.id), ["morning-news"]);

  const raw = new Database(join(d, SCENARIOS_DB_FILE), { readonly: true });
  t.after(() => raw.close());
  assert.deepEqual(raw.prepare("SELECT id, scenario_id, spec, ctx, event, catch_up, created_at, last_tick_at, seq FROM schedules").all(), [{
    id: "morning-news", scenario_id: "news", spec: '{"type":"cron","cron":"0 7 * * 1-5","tz":"Europe/Berlin"}', ctx: '{"room":"kitchen","volume":3}',
    event: "timer.tick", catch_up: 1, created_at: 1_768_435_200_000, last_tick_at: null, seq: 0,
  }]);
});

test("a Db shared with another component's tables: the store takes it open and leaves it open", (t) => {
  const path = join(dir(t), SCENARIOS_DB_FILE);
  const db = openDatabase(path, [...SCHEDULE_MIGRATIONS, (x) => x.exec("CREATE TABLE runs (id TEXT PRIMARY KEY)")]);
  t.after(() => db.close());
  const store = new ScheduleStore(db);
  store.create(bare);
  db.prepare("INSERT INTO runs (id) VALUES ('r1')").run();
  store.close();
  assert.equal(db.open, true, "not the store's to close");
  assert.deepEqual(new ScheduleStore(db).list().map((s) => s.id), ["poll"]);
  // Its migrations are idempotent: applied again over an existing table they do nothing.
  assert.doesNotThrow(() => db.transaction(() => SCHEDULE_MIGRATIONS.forEach((m) => m(db)))());
});

test("SQLite failures are StorageError", (t) => {
  const d = dir(t);
  const db = openDatabase(join(d, SCENARIOS_DB_FILE), SCHEDULE_MIGRATIONS);
  const store = new ScheduleStore(db);
  db.close();
  assert.throws(() => store.list(), StorageError);
  assert.throws(() => store.create(bare), (err: unknown) => err instanceof StorageError && /cannot write schedules/.test(err.message));
  assert.throws(() => store.markFired("poll", 1, 1), StorageError);
});
