/**
 * openStore() on real files: a healthy outbox.db, garbage, a real file with pages overwritten in
 * the middle (quarantined, rows salvaged), and failures that are not corruption (no quarantine).
 */
import { strict as assert } from "node:assert";
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { test, type TestContext } from "node:test";
import Database from "better-sqlite3";
import { ManualClock } from "../core/clock.js";
import { StorageError } from "../core/errors.js";
import { createRootLogger, silentLogger, type Logger } from "../core/logger.js";
import type { Db } from "../store/sqlite.js";
import { openStore, type OpenedStore } from "./open-store.js";
import { openOutboxDb, outboxDbPath } from "./outbox-db.js";

const OUTBOX_ROWS = 2000;
const DLQ_ROWS = 50;
const INBOX_ROWS = 300;
const DATA_BYTES = 200;
/** Pages overwritten with garbage, starting at the one holding this row. */
const DAMAGED_PAGES = 3;
const DAMAGED_ROW = 1000;

function tempDir(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), "adaos-open-store-"));
  t.after(() => {
    chmodSync(dir, 0o700);
    rmSync(dir, { recursive: true, force: true });
  });
  return dir;
}

/** Deterministic garbage (xorshift32), so a failure can be reproduced byte for byte. */
function garbage(length: number, seed: number): Buffer {
  const out = Buffer.alloc(length);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

/** The envelope bytes of outbox row n: a marker to find it in the file, padded to DATA_BYTES. */
function rowData(n: number): Buffer {
  const marker = `{"row":"row-${String(n).padStart(5, "0")}|","pad":"`;
  return Buffer.from(marker.padEnd(DATA_BYTES - 2, String.fromCharCode(97 + (n % 26))) + '"}');
}

function logCapture(): { logger: Logger; lines: () => Record<string, unknown>[] } {
  const chunks: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _enc, done) {
      chunks.push(chunk.toString());
      done();
    },
  });
  const logger = createRootLogger({ level: "info", nodeId: "test", destination });
  return { logger, lines: () => chunks.join("").split("\n").filter((l) => l !== "").map((l) => JSON.parse(l) as Record<string, unknown>) };
}

function opened(t: TestContext, store: OpenedStore): Db {
  t.after(() => store.db.close());
  return store.db;
}

function quickCheck(db: Db, pragma = "quick_check"): string {
  return (db.pragma(pragma) as Record<string, string>[]).map((r) => Object.values(r).join("")).join("; ");
}

test("a healthy outbox.db opens with no report and keeps its rows", (t) => {
  const dir = tempDir(t);
  const first = openStore(dir, silentLogger(), new ManualClock());
  assert.equal(first.quarantine, undefined);
  first.db.prepare("INSERT INTO inbox (key, at) VALUES ('k', 1)").run();
  first.db.close();

  const again = openStore(dir, silentLogger(), new ManualClock());
  const db = opened(t, again);
  assert.equal(again.quarantine, undefined);
  assert.equal(db.prepare("SELECT key FROM inbox").pluck().get(), "k");
  assert.deepEqual(readdirSync(dir).filter((f) => f.includes("corrupt")), []);
});

test("a file of garbage is moved aside byte for byte, with its -wal, and a fresh outbox.db works", (t) => {
  const dir = tempDir(t);
  const path = outboxDbPath(dir);
  const bytes = garbage(64 * 1024, 7);
  const walBytes = garbage(5000, 8);
  writeFileSync(path, bytes);
  writeFileSync(`${path}-wal`, walBytes);
  const log = logCapture();

  const store = openStore(dir, log.logger, new ManualClock(Date.UTC(2026, 2, 4, 5, 6, 7, 8)));
  const db = opened(t, store);
  const report = store.quarantine;
  assert.ok(report !== undefined);
  assert.equal(report.quarantinedAs, `${path}.corrupt-2026-03-04T05-06-07-008Z`);
  assert.match(report.reason, /SQLITE_NOTADB/);
  assert.deepEqual(report.salvaged, { outbox: 0, dlq: 0, inbox: 0 });
  assert.ok(readFileSync(report.quarantinedAs).equals(bytes), "the garbage is kept, unchanged");
  assert.ok(readFileSync(`${report.quarantinedAs}-wal`).equals(walBytes), "the -wal moved with it");

  db.prepare("INSERT INTO inbox (key, at) VALUES ('fresh', 1)").run();
  assert.equal(db.prepare("SELECT COUNT(*) FROM inbox").pluck().get(), 1);
  assert.equal(quickCheck(db), "ok");
  const [line] = log.lines();
  assert.equal(line?.level, 50, "logged at error level");
  assert.match(String(line?.msg), /^outbox\.db was corrupt \(SQLITE_NOTADB.*\); moved to .*corrupt-2026-03-04T05-06-07-008Z; salvaged 0 outbox entries, 0 dead letters, 0 inbox keys$/);
});

test("a second quarantine in the same millisecond does not overwrite the first", (t) => {
  const dir = tempDir(t);
  const path = outboxDbPath(dir);
  const clock = new ManualClock();
  const names: string[] = [];
  for (const seed of [1, 2]) {
    writeFileSync(path, garbage(8192, seed));
    const store = openStore(dir, silentLogger(), clock);
    store.db.close();
    assert.ok(store.quarantine !== undefined);
    names.push(store.quarantine.quarantinedAs);
    assert.ok(readFileSync(store.quarantine.quarantinedAs).equals(garbage(8192, seed)));
    rmSync(path);
  }
  assert.notEqual(names[0], names[1]);
  assert.equal(names[1], `${names[0]}-2`);
});

/** A real outbox.db with every table filled, checkpointed into the main file and closed. */
function writeRealStore(path: string): { pageSize: number } {
  const db = openOutboxDb(path);
  const outbox = db.prepare(
    "INSERT INTO outbox (id, subject, priority, source, enqueued_at, expires_at, bytes, data) VALUES (?, 'up.telemetry', ?, 'sensor', ?, ?, ?, ?)",
  );
  const dlq = db.prepare("INSERT INTO dlq (reason, origin, id, attempts, last_error, dead_at, data) VALUES ('poison', 'outbox', ?, 3, 'refused', ?, ?)");
  const inbox = db.prepare("INSERT INTO inbox (key, at) VALUES (?, ?)");
  db.transaction(() => {
    for (let n = 1; n <= OUTBOX_ROWS; n++) outbox.run(`id-${n}`, n % 6, 1000 + n, 9_000_000 + n, DATA_BYTES, rowData(n));
    for (let n = 1; n <= DLQ_ROWS; n++) dlq.run(`dead-${n}`, 2000 + n, Buffer.from(`dead letter ${n}`));
    for (let n = 1; n <= INBOX_ROWS; n++) inbox.run(`key-${n}`, 3000 + n);
  })();
  const pageSize = db.pragma("page_size", { simple: true }) as number;
  db.pragma("wal_checkpoint(TRUNCATE)");
  db.close();
  return { pageSize };
}

test("pages overwritten in the middle: quarantined, most rows salvaged exactly, the fresh file sound", (t) => {
  const dir = tempDir(t);
  const path = outboxDbPath(dir);
  const { pageSize } = writeRealStore(path);
  const file = readFileSync(path);
  const at = file.indexOf(`row-${String(DAMAGED_ROW).padStart(5, "0")}|`);
  const page = Math.floor(at / pageSize);
  assert.ok(at > 0 && page > 0, "the damage never touches page 1 (the header and schema)");
  // The rows whose bytes lie on the damaged pages, found by their markers: exactly these are lost.
  const damaged = new Set<number>();
  for (const m of file.toString("latin1").matchAll(/row-(\d{5})\|/g)) {
    const on = Math.floor((m.index ?? 0) / pageSize);
    if (on >= page && on < page + DAMAGED_PAGES) damaged.add(Number(m[1]));
  }
  garbage(DAMAGED_PAGES * pageSize, 42).copy(file, page * pageSize);
  writeFileSync(path, file);
  const log = logCapture();

  const store = openStore(dir, log.logger, new ManualClock());
  const db = opened(t, store);
  const report = store.quarantine;
  assert.ok(report !== undefined, "the damage was noticed");
  assert.match(report.reason, /quick_check|SQLITE_CORRUPT/);
  assert.ok(readFileSync(report.quarantinedAs).equals(file), "the damaged file is kept, unchanged");

  const rows = db.prepare("SELECT seq, id, priority, data FROM outbox ORDER BY seq").all() as { seq: number; id: string; priority: number; data: Buffer }[];
  assert.equal(rows.length, report.salvaged.outbox);
  assert.ok(rows.length > 0 && rows.length < OUTBOX_ROWS, `salvaged ${rows.length} of ${OUTBOX_ROWS}`);
  const expected = Array.from({ length: OUTBOX_ROWS }, (_, i) => i + 1).filter((n) => !damaged.has(n));
  assert.deepEqual(rows.map((r) => r.seq), expected, `only the ${damaged.size} rows on the damaged pages are lost`);
  for (const r of rows) {
    assert.ok(r.data.equals(rowData(r.seq)), `row ${r.seq} salvaged byte for byte`);
    assert.deepEqual([r.id, r.priority], [`id-${r.seq}`, r.seq % 6]);
  }
  assert.deepEqual([report.salvaged.dlq, report.salvaged.inbox], [DLQ_ROWS, INBOX_ROWS], "undamaged tables come over whole");
  assert.equal(quickCheck(db, "integrity_check"), "ok");

  const next = db.prepare("INSERT INTO outbox (id, subject, priority, source, enqueued_at, expires_at, bytes, data) VALUES ('new', 's', 0, 'x', 1, 2, 1, x'00')").run();
  assert.ok(Number(next.lastInsertRowid) > OUTBOX_ROWS, "new entries queue after the salvaged ones");
  const [line] = log.lines();
  assert.match(String(line?.msg), new RegExp(`salvaged ${rows.length} outbox entries, ${DLQ_ROWS} dead letters, ${INBOX_ROWS} inbox keys$`));
  t.diagnostic(`salvaged ${rows.length} of ${OUTBOX_ROWS} outbox rows after ${DAMAGED_PAGES} pages of ${pageSize} bytes were overwritten (${report.reason})`);
});

test("a page quick_check finds orphaned: moved aside all the same, and every row comes over", (t) => {
  const dir = tempDir(t);
  const path = outboxDbPath(dir);
  const { pageSize } = writeRealStore(path);
  const file = readFileSync(path);
  const pages = file.length / pageSize;
  // One more page than any tree uses, counted in the header (offset 28: the size in pages).
  const grown = Buffer.concat([file, Buffer.alloc(pageSize)]);
  grown.writeUInt32BE(pages + 1, 28);
  writeFileSync(path, grown);

  const store = openStore(dir, silentLogger(), new ManualClock());
  opened(t, store);
  assert.ok(store.quarantine !== undefined);
  assert.equal(store.quarantine.reason, `quick_check: Page ${pages + 1}: never used`);
  assert.deepEqual(store.quarantine.salvaged, { outbox: OUTBOX_ROWS, dlq: DLQ_ROWS, inbox: INBOX_ROWS });
});

test("a damaged root page costs that table (a known limit), and the other tables come over whole", (t) => {
  const dir = tempDir(t);
  const path = outboxDbPath(dir);
  const { pageSize } = writeRealStore(path);
  const probe = new Database(path, { readonly: true });
  const root = probe.prepare("SELECT rootpage FROM sqlite_master WHERE name = 'inbox'").pluck().get() as number;
  probe.close();
  const file = readFileSync(path);
  file.fill(0, (root - 1) * pageSize, root * pageSize); // zeroed blocks: what a dying SD card leaves
  writeFileSync(path, file);

  const store = openStore(dir, silentLogger(), new ManualClock());
  opened(t, store);
  assert.ok(store.quarantine !== undefined);
  assert.match(store.quarantine.reason, /^SQLITE_CORRUPT|^quick_check: /);
  assert.deepEqual(store.quarantine.salvaged, { outbox: OUTBOX_ROWS, dlq: DLQ_ROWS, inbox: 0 });
});

/** Nothing in `dir` was renamed: the same names as before, none of them a quarantine. */
function assertNothingMoved(dir: string, before: string[]): void {
  assert.deepEqual(readdirSync(dir).sort(), before.sort());
}

test("a data dir that is a regular file throws StorageError and moves nothing", (t) => {
  const dir = tempDir(t);
  const dataDir = join(dir, "var");
  writeFileSync(dataDir, "not a directory");
  assert.throws(() => openStore(dataDir, silentLogger(), new ManualClock()), StorageError);
  assertNothingMoved(dir, ["var"]);
  assert.equal(readFileSync(dataDir, "utf8"), "not a directory");
});

test("an outbox.db that cannot be opened (a directory) throws StorageError and moves nothing", (t) => {
  const dir = tempDir(t);
  mkdirSync(outboxDbPath(dir));
  assert.throws(() => openStore(dir, silentLogger(), new ManualClock()), StorageError);
  assertNothingMoved(dir, ["outbox.db"]);
});
