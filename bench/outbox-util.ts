/**
 * Helpers of the outbox benchmark: the telemetry envelope, the raw better-sqlite3 baseline, a
 * scratch directory on the real disk, cleanups that also run on Ctrl-C, and timing.
 */
import Database from "better-sqlite3";
import { mkdirSync, mkdtempSync, rmSync, statfsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Envelope } from "../abi/envelope.js";
import { uplinkSubject } from "../abi/subjects.js";
import { createEnvelope } from "../agent/core/envelope.js";
import { OUTBOX_MIGRATIONS } from "../agent/outbox/outbox-db.js";

/** Where a hub's relay publishes a telemetry reading (the uplink stream's subjects). */
export const SUBJECT = uplinkSubject("hub-1", "telemetry.reading");

/** A realistic telemetry.reading envelope (~370 bytes of JSON, like abi/…/examples/basic.json). */
export function reading(seq: number): Envelope {
  return createEnvelope({
    event_name: "telemetry.reading",
    version: 1,
    source: "agent://hub/hub-1",
    payload: { name: "room.temperature", value: 18 + (seq % 80) / 10, unit: "Cel", labels: { room: "kitchen" }, seq },
  });
}

export function readings(n: number): Envelope[] {
  return Array.from({ length: n }, (_, i) => reading(i));
}

/** Cleanups run in reverse order, once: at the end, on an error, and on SIGINT/SIGTERM. */
export class Cleanups {
  #fns: (() => void | Promise<void>)[] = [];
  #running: Promise<void> | undefined;
  #interrupted = false;

  after(fn: () => void | Promise<void>): void {
    this.#fns.push(fn);
  }

  /** A signal started the cleanup: what fails after it (closed connections) is its echo, not news. */
  get interrupted(): boolean {
    return this.#interrupted;
  }

  /** Every caller waits for the one cleanup, so an error path cannot exit while it is half done. */
  run(): Promise<void> {
    this.#running ??= this.#runAll();
    return this.#running;
  }

  async #runAll(): Promise<void> {
    for (const fn of this.#fns.reverse()) {
      try {
        await fn();
      } catch (err) {
        console.error("cleanup failed:", err);
      }
    }
    this.#fns = [];
  }

  /** Ctrl-C must not leave a nats-server or the scratch directory behind. */
  onSignals(): void {
    for (const sig of ["SIGINT", "SIGTERM"] as const) {
      process.once(sig, () => {
        this.#interrupted = true;
        console.error(`\n${sig}: stopping nats-server and removing the scratch directory`);
        void this.run().finally(() => process.exit(130));
      });
    }
  }
}

/** statfs(2) f_type of tmpfs: on a RAM disk fsync is free and the figures mean nothing. */
const TMPFS_MAGIC = 0x01021994;

/** A fresh directory under os.tmpdir() for the databases and the JetStream store, removed at the end. */
export class Scratch {
  readonly dir: string;
  #files = 0;

  constructor(cleanups: Cleanups, name = "outbox") {
    this.dir = mkdtempSync(join(tmpdir(), `adaos-bench-${name}-`));
    cleanups.after(() => rmSync(this.dir, { recursive: true, force: true }));
  }

  /** A new database path for each run: every run starts from an empty file. */
  dbFile(name: string): string {
    return join(this.dir, `${name}-${this.#files++}.db`);
  }

  subdir(name: string): string {
    const dir = join(this.dir, name);
    mkdirSync(dir);
    return dir;
  }

  get onTmpfs(): boolean {
    return statfsSync(this.dir).type === TMPFS_MAGIC;
  }
}

/** One outbox row as SQLite takes it: the values SqliteOutbox derives from an envelope. */
export type RawRow = [id: string, subject: string, priority: number, source: string, enqueuedAt: number, expiresAt: number, bytes: number, data: Buffer];

/** Rows of the same JSON bytes SqliteOutbox would store, built before the clock starts. */
export function rawRows(envelopes: readonly Envelope[], subject: string, now: number, ttlMs: number): RawRow[] {
  return envelopes.map((e) => {
    const data = Buffer.from(JSON.stringify(e));
    return [e.id, subject, e.priority, e.source, now, now + ttlMs, data.length, data];
  });
}

/**
 * The raw limit of a durable enqueue: better-sqlite3 with the same pragmas (WAL,
 * synchronous=FULL) and the same `outbox` table (the outbox migration: same columns, same unique
 * and secondary indexes), nothing else.
 */
export class RawOutboxTable {
  readonly #db: Database.Database;
  readonly #insert: Database.Statement<RawRow>;
  readonly #count: Database.Statement<[], { n: number }>;
  readonly #tx: (rows: readonly RawRow[]) => void;

  constructor(path: string) {
    this.#db = new Database(path);
    this.#db.pragma("journal_mode = WAL");
    this.#db.pragma("synchronous = FULL");
    const migrate = OUTBOX_MIGRATIONS[0];
    if (migrate === undefined) throw new Error("the outbox has no schema migration");
    migrate(this.#db);
    this.#insert = this.#db.prepare<RawRow>(
      "INSERT INTO outbox (id, subject, priority, source, enqueued_at, expires_at, bytes, data) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
    );
    this.#count = this.#db.prepare<[], { n: number }>("SELECT COUNT(*) AS n FROM outbox");
    this.#tx = this.#db.transaction((rows: readonly RawRow[]) => {
      for (const row of rows) this.#insert.run(...row);
    });
  }

  /** Transactions of `size` rows each (one commit, one WAL fsync per transaction). */
  insertInTransactions(rows: readonly RawRow[], size: number): void {
    for (let i = 0; i < rows.length; i += size) this.#tx(rows.slice(i, i + size));
  }

  /** Each row its own autocommit transaction. */
  insertEach(rows: readonly RawRow[]): void {
    for (const row of rows) this.#insert.run(...row);
  }

  count(): number {
    return this.#count.get()?.n ?? 0;
  }

  close(): void {
    this.#db.close();
  }
}

/** Seconds `fn` takes. */
export async function seconds(fn: () => Promise<void> | void): Promise<number> {
  const t0 = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - t0) / 1e9;
}

/** `n` items over the median of the runs' durations. */
export function medianRate(n: number, durations: readonly number[]): number {
  const sorted = [...durations].sort((a, b) => a - b);
  return n / (sorted[Math.floor(sorted.length / 2)] ?? NaN);
}

/** Polling period of a wait: short against runs of a second or more, cheap for the loop it watches. */
const POLL_MS = 1;
/** A wait whose value has not moved for this long has stalled (a lost ack would otherwise hang the bench). */
const STALL_MS = 10_000;

/** Resolve when `value()` reaches 0; throw with `why()` when it stops moving for STALL_MS. */
export async function untilZero(value: () => number, why: () => string): Promise<void> {
  let last = value();
  let movedAt = Date.now();
  while (last !== 0) {
    await new Promise((r) => setTimeout(r, POLL_MS));
    const now = value();
    if (now !== last) {
      last = now;
      movedAt = Date.now();
    } else if (Date.now() - movedAt > STALL_MS) {
      throw new Error(`stalled at ${now} for ${STALL_MS} ms: ${why()}`);
    }
  }
}
