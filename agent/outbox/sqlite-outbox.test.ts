/**
 * The outbox and dead-letter contracts against the SQLite outbox on a real outbox.db, plus what
 * only a database has: durability across a reopen, group commit, write failures, and kill -9 in
 * the middle of writing.
 */
import { strict as assert } from "node:assert";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test, type TestContext } from "node:test";
import type { Envelope } from "../../abi/envelope.js";
import { ManualClock } from "../core/clock.js";
import { createEnvelope } from "../core/envelope.js";
import { StorageError } from "../core/errors.js";
import type { Db } from "../store/sqlite.js";
import { openOutboxDb, outboxDbPath } from "./outbox-db.js";
import { outboxContract } from "./outbox-contract.js";
import type { OutboxLimits } from "./outbox.js";
import { SqliteOutbox } from "./sqlite-outbox.js";

const LIMITS: OutboxLimits = { maxRows: 1_000_000, maxBytes: 2 ** 30, ttlMs: 3_600_000 };
/** How long the child writes before it is killed: long enough for many commits. */
const KILL_AFTER_MS = 300;
/** The child prints its first acknowledgement well within this, or the test fails with its stderr. */
const CHILD_START_TIMEOUT_MS = 15_000;

function tempDir(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), "adaos-outbox-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

interface OpenOptions {
  readonly clock?: ManualClock;
  readonly limits?: OutboxLimits;
  /** What the outbox gets instead of the db (a spy). */
  readonly wrap?: (db: Db) => Db;
}

/** Open outbox.db in `dir` and an outbox on it; close() closes both, in order. */
function open(dir: string, { clock = new ManualClock(), limits = LIMITS, wrap = (db: Db) => db }: OpenOptions = {}) {
  const db = openOutboxDb(outboxDbPath(dir));
  const outbox = new SqliteOutbox(wrap(db), { limits, dlqMaxRows: 1000, clock });
  return { db, outbox, close: async () => { await outbox.close(); db.close(); } };
}

/** Envelopes numbered from `from` (payload.n), padded to weigh more when asked. */
function envelopes(clock: ManualClock, count: number, from = 0, pad = 0): Envelope[] {
  return Array.from({ length: count }, (_, i) =>
    createEnvelope({ event_name: "telemetry.reading", version: 1, source: "agent://hub/a", payload: { n: from + i, pad: "x".repeat(pad) } }, clock),
  );
}

const nOf = (x: { readonly data: Uint8Array }): number => (JSON.parse(Buffer.from(x.data).toString()) as Envelope<{ n: number }>).payload.n;

/** The db, with every call of a transaction function that starts a real transaction (not a savepoint) counted. */
function countingTransactions(db: Db): { db: Db; count: () => number } {
  let started = 0;
  type TxFn = Parameters<Db["transaction"]>[0];
  const proxy = new Proxy(db, {
    get(target, prop) {
      if (prop === "transaction") {
        return (fn: TxFn) => {
          const tx = target.transaction(fn);
          return (...args: unknown[]) => {
            if (!target.inTransaction) started++;
            return tx(...args);
          };
        };
      }
      const value: unknown = Reflect.get(target, prop, target);
      return typeof value === "function" ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
  return { db: proxy, count: () => started };
}

outboxContract("sqlite", (t, opts) => {
  const dir = mkdtempSync(join(tmpdir(), "adaos-outbox-"));
  const db = openOutboxDb(outboxDbPath(dir));
  const outbox = new SqliteOutbox(db, opts);
  t.after(async () => {
    await outbox.close();
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return outbox;
});

test("what was acknowledged or staged at close survives a reopen: same entries, order, attempts, dead letters; in flight is forgotten", async (t) => {
  const dir = tempDir(t);
  const clock = new ManualClock();
  const first = open(dir, { clock });
  const envs = envelopes(clock, 1000);
  await Promise.all(envs.map((e) => first.outbox.enqueue("up", e)));
  const handed = first.outbox.next(10);
  first.outbox.retry(handed.slice(0, 3).map((x) => x.id), "timeout");
  first.outbox.poison(handed.slice(3, 4).map((x) => x.id), "refused");
  const bytes = first.outbox.stats().bytes;
  const late = envelopes(clock, 1, 1000)[0] as Envelope;
  const staged = first.outbox.enqueue("up", late);
  await first.close(); // the db is closed right after the outbox: the staged enqueue must be in by then
  assert.deepEqual(await staged, { duplicate: false });

  const second = open(dir, { clock });
  t.after(second.close);
  const stats = second.outbox.stats();
  const lateBytes = Buffer.byteLength(JSON.stringify(late));
  assert.deepEqual([stats.depth, stats.bytes, stats.inFlight], [1000, bytes + lateBytes, 0], "totals are counted again on open");
  const all = second.outbox.next(2000);
  assert.deepEqual(all.map((x) => x.id), [...envs.filter((_, n) => n !== 3), late].map((e) => e.id), "all but the poisoned one, in order");
  assert.deepEqual(all.slice(0, 5).map((x) => x.attempts), [1, 1, 1, 0, 0]);
  assert.deepEqual(second.outbox.dlq.list().map((d) => [nOf(d), d.reason]), [[3, "poison"]]);
});

test("group commit: the enqueues of one tick share one transaction, at most 1000 to a transaction", async (t) => {
  const dir = tempDir(t);
  const clock = new ManualClock();
  let spy: ReturnType<typeof countingTransactions> | undefined;
  const { outbox, close } = open(dir, { clock, wrap: (db) => (spy = countingTransactions(db)).db });
  t.after(close);
  const count = (): number => spy?.count() ?? -1;

  await Promise.all(envelopes(clock, 500).map((e) => outbox.enqueue("up", e)));
  assert.equal(count(), 1, "500 in one tick: one transaction");
  await Promise.all(envelopes(clock, 2500, 500).map((e) => outbox.enqueue("up", e)));
  assert.equal(count(), 1 + 3, "2500 in one tick: 1000 + 1000 + 500");
  for (const e of envelopes(clock, 3, 3000)) await outbox.enqueue("up", e);
  assert.equal(count(), 4 + 3, "awaited one by one: one transaction each");
  assert.equal(outbox.stats().depth, 3003);
  assert.deepEqual(outbox.next(5000).map(nOf), Array.from({ length: 3003 }, (_, n) => n));
});

test("a failed write rejects every enqueue of its group with StorageError, changes nothing, and the next write works", async (t) => {
  const dir = tempDir(t);
  const clock = new ManualClock();
  const { db, outbox, close } = open(dir, { clock });
  t.after(close);
  await outbox.enqueue("up", envelopes(clock, 1, 100)[0] as Envelope);
  const before = outbox.stats();
  db.pragma("query_only = ON"); // every write now fails, as on a read-only or failing disk
  const results = await Promise.allSettled(envelopes(clock, 3).map((e) => outbox.enqueue("up", e)));
  assert.ok(results.every((r) => r.status === "rejected" && r.reason instanceof StorageError), "all three rejected with StorageError");
  assert.deepEqual(outbox.stats(), before, "totals and counters unchanged");
  const handed = outbox.next(10);
  assert.throws(() => outbox.sent(handed.map((x) => x.id)), StorageError);
  db.pragma("query_only = OFF");
  assert.deepEqual(outbox.next(10).map(nOf), [100], "a failed sent() leaves the entry waiting, handed out again");
  await Promise.all(envelopes(clock, 2, 200).map((e) => outbox.enqueue("up", e)));
  assert.equal(outbox.stats().depth, (db.prepare("SELECT COUNT(*) AS n FROM outbox").get() as { n: number }).n);
  assert.equal(outbox.stats().depth, 3);
});

test("a failure late in a group (moving overflow to the DLQ) rolls back the whole group, totals included", async (t) => {
  const dir = tempDir(t);
  const clock = new ManualClock();
  const { db, outbox, close } = open(dir, { clock, limits: { ...LIMITS, maxRows: 3 } });
  t.after(close);
  await Promise.all(envelopes(clock, 3).map((e) => outbox.enqueue("up", e)));
  const before = outbox.stats();
  db.exec("CREATE TEMP TRIGGER dlq_fails BEFORE INSERT ON main.dlq BEGIN SELECT RAISE(ABORT, 'disk on fire'); END");
  // Heavier than the entries they push out, so totals left half-updated would show.
  const results = await Promise.allSettled(envelopes(clock, 2, 3, 100).map((e) => outbox.enqueue("up", e)));
  assert.ok(results.every((r) => r.status === "rejected" && r.reason instanceof StorageError && /disk on fire/.test(r.reason.message)));
  assert.deepEqual(outbox.stats(), before);
  db.exec("DROP TRIGGER dlq_fails");
  await Promise.all(envelopes(clock, 2, 5).map((e) => outbox.enqueue("up", e)));
  assert.deepEqual([outbox.stats().depth, outbox.stats().overflowed], [3, 2]);
  assert.deepEqual(outbox.dlq.list().map(nOf), [0, 1]);
  assert.deepEqual(outbox.next(10).map(nOf), [2, 5, 6]);
});

test("a database closed underneath: enqueue rejects with StorageError and the process carries on", async (t) => {
  const dir = tempDir(t);
  const clock = new ManualClock();
  const { db, outbox, close } = open(dir, { clock });
  t.after(close);
  db.close();
  await assert.rejects(outbox.enqueue("up", envelopes(clock, 1)[0] as Envelope), StorageError);
  assert.throws(() => outbox.next(1), StorageError);
  await outbox.close();
});

/** A child that enqueues in groups of 200 forever, printing the count acknowledged after each group. */
const CHILD = `
const [dbPath, outboxUrl, dbUrl, clockUrl] = process.argv.slice(2);
const { SqliteOutbox } = await import(outboxUrl);
const { openOutboxDb } = await import(dbUrl);
const { systemClock } = await import(clockUrl);
const outbox = new SqliteOutbox(openOutboxDb(dbPath), {
  limits: { maxRows: 10_000_000, maxBytes: 2 ** 34, ttlMs: 3_600_000 }, dlqMaxRows: 1000, clock: systemClock,
});
const pad = "x".repeat(400);
for (let n = 0; ; ) {
  const group = [];
  for (let i = 0; i < 200; i++, n++) {
    group.push(outbox.enqueue("up.kill", {
      id: "kill-" + String(n).padStart(9, "0"), event_name: "telemetry.reading", version: 1, kind: "event",
      ts: new Date().toISOString(), source: "agent://hub/kill", correlation_id: "c", tenant: "default",
      priority: 3, headers: {}, payload: { n, pad },
    }));
  }
  await Promise.all(group);
  process.stdout.write(n + "\\n");
}
`;

test("kill -9 while writing: every acknowledged enqueue is there after reopen, in order, and the file is intact", async (t) => {
  const dir = tempDir(t);
  const script = join(dir, "child.mjs");
  writeFileSync(script, CHILD);
  const url = (path: string): string => new URL(path, import.meta.url).href;
  const child = spawn(process.execPath, [script, outboxDbPath(dir), url("./sqlite-outbox.js"), url("./outbox-db.js"), url("../core/clock.js")], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  t.after(() => child.kill("SIGKILL"));
  let out = "";
  let err = "";
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => (out += chunk));
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => (err += chunk));
  const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on("exit", (_code, signal) => resolve(signal)));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the child acknowledged nothing in ${CHILD_START_TIMEOUT_MS} ms; stderr:\n${err}`)), CHILD_START_TIMEOUT_MS);
    child.stdout.once("data", () => {
      clearTimeout(timer);
      setTimeout(resolve, KILL_AFTER_MS);
    });
    void exited.then(() => reject(new Error(`the child exited early; stderr:\n${err}`)));
  });
  child.kill("SIGKILL");
  assert.equal(await exited, "SIGKILL");
  const lines = out.split("\n").slice(0, -1); // the last piece may be a line cut short
  const acked = Number(lines[lines.length - 1] ?? 0);
  assert.ok(acked >= 200, `the child acknowledged ${acked}`);

  const { db, outbox, close } = open(dir);
  t.after(close);
  assert.equal(db.pragma("integrity_check", { simple: true }), "ok");
  const ids = outbox.next(Number.MAX_SAFE_INTEGER).map((x) => x.id);
  t.diagnostic(`${acked} acknowledged before kill -9, ${ids.length} found after reopen`);
  assert.ok(ids.length >= acked, `${ids.length} stored, ${acked} acknowledged`);
  ids.forEach((id, n) => assert.equal(id, `kill-${String(n).padStart(9, "0")}`, "a gapless prefix: each commit all or nothing"));
  assert.equal(outbox.stats().depth, ids.length);
});
