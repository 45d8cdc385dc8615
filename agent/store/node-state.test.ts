import { strict as assert } from "node:assert";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import Database from "better-sqlite3";
import { ManualClock } from "../core/clock.js";
import { StorageError } from "../core/errors.js";
import { NodeState } from "./node-state.js";
import { openDatabase } from "./sqlite.js";

function tempDir(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), "adaos-state-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

test("the boot count survives restarts and is written in WAL mode", async (t) => {
  const dir = tempDir(t);
  const clock = new ManualClock(Date.UTC(2026, 10, 22));
  for (let i = 1; i <= 3; i++) {
    const state = new NodeState(join(dir, "var"), clock);
    await state.start();
    assert.equal(state.boot.count, i);
    assert.equal(state.boot.at, "2026-11-22T00:00:00.000Z");
    await state.stop();
  }
  const db = new Database(join(dir, "var", "agent.db"), { readonly: true });
  assert.equal(db.pragma("journal_mode", { simple: true }), "wal");
  assert.equal(db.pragma("user_version", { simple: true }), 1);
  db.close();
});

test("a database from a newer release is refused instead of being damaged", (t) => {
  const path = join(tempDir(t), "x.db");
  const db = new Database(path);
  db.pragma("user_version = 9");
  db.close();
  assert.throws(() => openDatabase(path, [() => undefined]), (e: unknown) => e instanceof StorageError && /newer than this adaos-edge knows/.test(e.message));
});

test("a corrupt database is a StorageError naming the file", async (t) => {
  const dir = tempDir(t);
  writeFileSync(join(dir, "agent.db"), "this is not a database, just text that is long enough to have a header".repeat(20));
  const state = new NodeState(dir, new ManualClock());
  await assert.rejects(state.start(), (e: unknown) => e instanceof StorageError && e.message.includes(join(dir, "agent.db")));
  await assert.rejects(new NodeState(join(dir, "agent.db", "below-a-file"), new ManualClock()).start(), StorageError, "a data dir that cannot be created");
});

test("a failed migration leaves the schema version where it was", (t) => {
  const path = join(tempDir(t), "m.db");
  const ok = (db: Database.Database): void => void db.exec("CREATE TABLE a (x)");
  const bad = (): void => {
    throw new Error("boom");
  };
  assert.throws(() => openDatabase(path, [ok, bad]), StorageError);
  const db = new Database(path);
  assert.equal(db.pragma("user_version", { simple: true }), 1, "migration 1 committed, 2 rolled back");
  db.close();
  openDatabase(path, [ok, (d) => void d.exec("CREATE TABLE b (y)")]).close();
});
