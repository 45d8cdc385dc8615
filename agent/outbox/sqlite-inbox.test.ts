/** The inbox contract against the SQLite inbox on a real outbox.db, plus what survives a restart. */
import { strict as assert } from "node:assert";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test, type TestContext } from "node:test";
import { ManualClock } from "../core/clock.js";
import { StorageError } from "../core/errors.js";
import { inboxContract } from "./inbox-contract.js";
import { openOutboxDb, outboxDbPath } from "./outbox-db.js";
import { SqliteInbox } from "./sqlite-inbox.js";

function tempDir(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), "adaos-inbox-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Open outbox.db in `dir` and an inbox on it; the returned close() closes both, in order. */
function open(dir: string, window: number, clock = new ManualClock()): { inbox: SqliteInbox; close: () => Promise<void> } {
  const db = openOutboxDb(outboxDbPath(dir));
  const inbox = new SqliteInbox(db, { window, clock });
  return { inbox, close: async () => { await inbox.close(); db.close(); } };
}

inboxContract("sqlite", (t, window) => {
  const { inbox, close } = open(tempDir(t), window);
  t.after(close);
  return inbox;
});

test("recorded keys survive a reopen of the same file, with when they were recorded", async (t) => {
  const dir = tempDir(t);
  const clock = new ManualClock(Date.UTC(2026, 4, 1));
  const first = open(dir, 100, clock);
  await first.inbox.record("a");
  clock.advance(1000);
  const staged = first.inbox.record("b");
  await first.close();
  await staged;

  const second = open(dir, 100);
  t.after(second.close);
  assert.equal(second.inbox.has("a"), true);
  assert.equal(second.inbox.has("b"), true, "a key staged at close() was committed");
  assert.equal(second.inbox.size(), 2);
  const db = openOutboxDb(outboxDbPath(dir));
  t.after(() => db.close());
  assert.deepEqual(db.prepare("SELECT key, at FROM inbox ORDER BY seq").all(), [
    { key: "a", at: Date.UTC(2026, 4, 1) },
    { key: "b", at: Date.UTC(2026, 4, 1) + 1000 },
  ]);
});

test("the window is enforced after a reopen, counting the rows already on disk", async (t) => {
  const dir = tempDir(t);
  const first = open(dir, 5);
  for (const k of ["k0", "k1", "k2", "k3", "k4"]) await first.inbox.record(k);
  await first.close();

  const second = open(dir, 5);
  await second.inbox.record("k5");
  assert.equal(second.inbox.size(), 5);
  assert.equal(second.inbox.has("k0"), false, "the oldest from the last run is forgotten first");
  assert.equal(second.inbox.has("k1"), true);
  await second.close();

  const smaller = open(dir, 2);
  t.after(smaller.close);
  assert.equal(smaller.inbox.size(), 2, "a smaller window applies at open");
  assert.deepEqual(["k1", "k2", "k3", "k4", "k5"].filter((k) => smaller.inbox.has(k)), ["k4", "k5"]);
});

test("a commit that fails rejects every record() of its tick with StorageError", async (t) => {
  const dir = tempDir(t);
  const db = openOutboxDb(outboxDbPath(dir));
  const inbox = new SqliteInbox(db, { window: 100, clock: new ManualClock() });
  const pending = [inbox.record("a"), inbox.record("b")];
  db.close();
  for (const p of pending) await assert.rejects(p, StorageError);
  await inbox.close();
});

test("commitEveryMs: keys recorded on separate ticks within the window share one commit; has() sees them at once", async (t) => {
  const db = openOutboxDb(outboxDbPath(tempDir(t)));
  const inbox = new SqliteInbox(db, { window: 100, clock: new ManualClock(), commitEveryMs: 40 });
  t.after(async () => { await inbox.close(); db.close(); });
  const durable: Promise<void>[] = [];
  for (const k of ["a", "b", "c"]) {
    durable.push(inbox.record(k));
    assert.equal(inbox.has(k), true);
    await new Promise((r) => setTimeout(r, 5));
  }
  assert.equal(inbox.commits, 0, "still waiting for company");
  await Promise.all(durable);
  assert.equal(inbox.commits, 1);
  assert.equal(inbox.size(), 3);
});
