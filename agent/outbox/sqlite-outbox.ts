/**
 * The durable outbox (outbox.ts) in the `outbox` table of outbox.db. enqueue() stages entries in
 * memory and commits everything staged in one transaction on the next turn of the event loop, or
 * at once when GROUP_MAX are staged (group-commit.ts): one fsync for many, which is what makes
 * synchronous=FULL affordable. Overflow to the dead-letter queue happens in that same
 * transaction. Row and byte totals are counted once at construction and then kept in memory, so
 * the limits cost nothing per enqueue. In-flight state is memory only (a restart hands everything
 * out again); the queries that must skip it get its seqs as one JSON array, at most a few batches.
 *
 * It does not own the database: close() commits what is staged; the caller closes the db after.
 * changed() also resolves on close, so a relay waiting on it is not left hanging.
 */
import type Database from "better-sqlite3";
import type { Envelope } from "../../abi/envelope.js";
import type { Clock } from "../core/clock.js";
import { StorageError } from "../core/errors.js";
import { silentLogger, type Logger } from "../core/logger.js";
import type { Db } from "../store/sqlite.js";
import type { Outbox, OutboxEntry, OutboxLimits, OutboxStats } from "./outbox.js";
import { newEntryFields, EXPIRED_ERROR, MOVE_CHUNK, overflowError, zeroCounters, type OutboxCounters } from "./outbox-rules.js";
import { GroupCommit } from "./group-commit.js";
import { guard, SqliteDeadLetters, storageError } from "./sqlite-dead-letters.js";

/** Most enqueues committed in one transaction: bounds the time one commit holds the event loop. */
export const GROUP_MAX = 1000;

export interface SqliteOutboxOptions {
  readonly limits: OutboxLimits;
  /** Most dead letters kept (the dlq's bound). */
  readonly dlqMaxRows: number;
  readonly clock: Clock;
  readonly logger?: Logger;
}

interface NewRow {
  readonly id: string;
  readonly subject: string;
  readonly priority: number;
  readonly source: string;
  readonly enqueuedAt: number;
  readonly expiresAt: number;
  readonly bytes: number;
  readonly data: Buffer;
}

interface EntryRow {
  seq: number;
  id: string;
  subject: string;
  priority: number;
  source: string;
  enqueued_at: number;
  expires_at: number;
  attempts: number;
  data: Buffer;
}

/** A row chosen to leave the outbox, with what it weighs. */
interface Leaving {
  seq: number;
  bytes: number;
}

export class SqliteOutbox implements Outbox {
  readonly dlq: SqliteDeadLetters;
  readonly #limits: OutboxLimits;
  readonly #clock: Clock;
  readonly #logger: Logger;
  readonly #insert: Database.Statement<[NewRow]>;
  readonly #next: Database.Statement<[number, string, number], EntryRow>;
  readonly #lowerPriority: Database.Statement<[number], { p: number | null }>;
  readonly #oldestAt: Database.Statement<[number, string, number], Leaving>;
  readonly #expired: Database.Statement<[number, string, number], Leaving>;
  readonly #byIds: Database.Statement<[string], Leaving>;
  readonly #delete: Database.Statement<[string], { bytes: number }>;
  readonly #retry: Database.Statement<[string, string]>;
  readonly #first: Database.Statement<[], { enqueued_at: number }>;
  readonly #group: GroupCommit<NewRow, { readonly duplicate: boolean }>;
  readonly #commitTx: (rows: readonly NewRow[]) => boolean[];
  readonly #sweepTx: (now: number, inFlight: string) => number;
  readonly #poisonTx: (ids: string, error: string) => void;
  #rows: number;
  #bytes: number;
  #counters: OutboxCounters = zeroCounters();
  /** In flight: id → seq. */
  readonly #inFlight = new Map<string, number>();
  #closed = false;
  #wakeups: (() => void)[] = [];
  /** Overflow is logged when it starts, then only counted until a commit needs none. */
  #overflowing = false;

  constructor(db: Db, opts: SqliteOutboxOptions) {
    this.#limits = opts.limits;
    this.#clock = opts.clock;
    this.#logger = opts.logger ?? silentLogger();
    this.dlq = new SqliteDeadLetters(db, { maxRows: opts.dlqMaxRows, clock: opts.clock, logger: this.#logger });
    const columns = "seq, id, subject, priority, source, enqueued_at, expires_at, attempts, data";
    try {
      this.#insert = db.prepare(
        "INSERT INTO outbox (id, subject, priority, source, enqueued_at, expires_at, bytes, data) " +
          "VALUES (@id, @subject, @priority, @source, @enqueuedAt, @expiresAt, @bytes, @data) ON CONFLICT(id) DO NOTHING",
      );
      // `+expires_at`: never drive the drain by the expiry index, which would sort the whole table.
      this.#next = db.prepare(
        `SELECT ${columns} FROM outbox WHERE +expires_at > ? AND seq NOT IN (SELECT value FROM json_each(?)) ORDER BY priority, seq LIMIT ?`,
      );
      this.#lowerPriority = db.prepare("SELECT MAX(priority) AS p FROM outbox WHERE priority < ?");
      this.#oldestAt = db.prepare(
        "SELECT seq, bytes FROM outbox WHERE priority = ? AND seq NOT IN (SELECT value FROM json_each(?)) ORDER BY seq LIMIT ?",
      );
      this.#expired = db.prepare(
        "SELECT seq, bytes FROM outbox WHERE expires_at <= ? AND seq NOT IN (SELECT value FROM json_each(?)) ORDER BY expires_at, seq LIMIT ?",
      );
      this.#byIds = db.prepare("SELECT seq, bytes FROM outbox WHERE id IN (SELECT value FROM json_each(?)) ORDER BY seq");
      this.#delete = db.prepare("DELETE FROM outbox WHERE id IN (SELECT value FROM json_each(?)) RETURNING bytes");
      this.#retry = db.prepare("UPDATE outbox SET attempts = attempts + 1, last_error = ? WHERE id IN (SELECT value FROM json_each(?))");
      // The first enqueued is the oldest unless the wall clock stepped back; MIN(enqueued_at) would scan the table.
      this.#first = db.prepare("SELECT enqueued_at FROM outbox ORDER BY seq LIMIT 1");
      this.#commitTx = db.transaction((rows: readonly NewRow[]) => this.#commit(rows));
      this.#sweepTx = db.transaction((now: number, inFlight: string) => this.#sweepChunk(now, inFlight));
      this.#poisonTx = db.transaction((ids: string, error: string) => this.#poison(ids, error));
      const totals = db.prepare("SELECT COUNT(*) AS n, TOTAL(bytes) AS bytes FROM outbox").get() as { n: number; bytes: number };
      this.#rows = totals.n;
      this.#bytes = totals.bytes;
    } catch (err) {
      throw storageError(`cannot open the outbox in ${db.name}`, err);
    }
    this.#group = new GroupCommit((rows) => this.#flush(rows), GROUP_MAX);
  }

  enqueue(subject: string, envelope: Envelope): Promise<{ readonly duplicate: boolean }> {
    if (this.#closed) return Promise.reject(new StorageError(`the outbox is closed: envelope ${envelope.id} was not stored`));
    let row: NewRow;
    try {
      row = this.#newRow(subject, envelope);
    } catch (err) {
      return Promise.reject(storageError(`cannot store envelope ${envelope.id}`, err));
    }
    return this.#group.add(row);
  }

  next(max: number): OutboxEntry[] {
    if (this.#closed || max <= 0) return [];
    const rows = guard("read the outbox", () => this.#next.all(this.#clock.now(), this.#inFlightJson(), max));
    return rows.map((row) => {
      this.#inFlight.set(row.id, row.seq);
      return toEntry(row);
    });
  }

  sent(ids: readonly string[]): void {
    if (ids.length === 0) return;
    try {
      this.#write("delete sent outbox entries", () => {
        const gone = this.#delete.all(JSON.stringify(ids));
        this.#rows -= gone.length;
        for (const { bytes } of gone) this.#bytes -= bytes;
        this.#counters.sent += gone.length;
      });
    } finally {
      this.#release(ids);
    }
  }

  retry(ids: readonly string[], error: string): void {
    if (ids.length === 0) return;
    try {
      this.#write("record failed sends", () => {
        this.#counters.retried += this.#retry.run(error, JSON.stringify(ids)).changes;
      });
    } finally {
      this.#release(ids);
    }
  }

  poison(ids: readonly string[], error: string): void {
    if (ids.length === 0) return;
    try {
      this.#write("move refused outbox entries to the dead-letter queue", () => this.#poisonTx(JSON.stringify(ids), error));
    } finally {
      this.#release(ids);
    }
  }

  sweep(): number {
    const now = this.#clock.now();
    const inFlight = this.#inFlightJson();
    let total = 0;
    // One transaction per chunk: a long outage can leave many expired, and one huge transaction
    // would hold the event loop and grow the WAL without a checkpoint.
    for (;;) {
      const moved = this.#write("move expired outbox entries to the dead-letter queue", () => this.#sweepTx(now, inFlight));
      total += moved;
      if (moved < MOVE_CHUNK) return total;
    }
  }

  stats(): OutboxStats {
    const first = guard("read the outbox", () => this.#first.get());
    return {
      depth: this.#rows,
      bytes: this.#bytes,
      inFlight: this.#inFlight.size,
      oldestAgeMs: first === undefined ? 0 : Math.max(0, this.#clock.now() - first.enqueued_at),
      ...this.#counters,
    };
  }

  changed(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    return new Promise((resolve) => this.#wakeups.push(resolve));
  }

  close(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    this.#closed = true;
    this.#group.flush();
    this.#wake();
    return Promise.resolve();
  }

  #newRow(subject: string, envelope: Envelope): NewRow {
    const data = Buffer.from(JSON.stringify(envelope));
    const now = this.#clock.now();
    return {
      ...newEntryFields(subject, envelope, now, this.#limits.ttlMs),
      bytes: data.length,
      data,
    };
  }

  /** One group of enqueues: one transaction; throws StorageError with everything put back. */
  #flush(rows: readonly NewRow[]): { readonly duplicate: boolean }[] {
    const overflowedBefore = this.#counters.overflowed;
    const stored = this.#write(`write ${rows.length} outbox entries`, () => this.#commitTx(rows));
    this.#noteOverflow(this.#counters.overflowed - overflowedBefore);
    const added = stored.filter(Boolean).length;
    this.#counters.added += added;
    if (added > 0) this.#wake();
    return stored.map((inserted) => ({ duplicate: !inserted }));
  }

  /** Inside the commit transaction: insert the batch (a waiting id is not stored twice), then make room. */
  #commit(rows: readonly NewRow[]): boolean[] {
    const stored = rows.map((row) => {
      const inserted = this.#insert.run(row).changes === 1;
      if (inserted) {
        this.#rows++;
        this.#bytes += row.bytes;
      }
      return inserted;
    });
    this.#overflow();
    return stored;
  }

  /** While over a limit: the lowest priority's oldest entries not in flight go to the DLQ. */
  #overflow(): void {
    const over = (): boolean => this.#rows > this.#limits.maxRows || this.#bytes > this.#limits.maxBytes;
    if (!over()) return;
    const inFlight = this.#inFlightJson();
    const death = { reason: "overflow", error: overflowError(this.#limits), keepLastError: true, failedAttempt: false } as const;
    for (let p = this.#below(Number.MAX_SAFE_INTEGER); p !== undefined && over(); p = this.#below(p)) {
      while (over()) {
        const leaving: number[] = [];
        for (const row of this.#oldestAt.all(p, inFlight, MOVE_CHUNK)) {
          if (!over()) break;
          leaving.push(row.seq);
          this.#rows--;
          this.#bytes -= row.bytes;
        }
        if (leaving.length === 0) break;
        this.#counters.overflowed += this.dlq.moveFromOutbox(leaving, death);
      }
    }
  }

  /** The next priority level below (a larger number than) `p` with entries, if any. */
  #below(p: number): number | undefined {
    return this.#lowerPriority.get(p)?.p ?? undefined;
  }

  #sweepChunk(now: number, inFlight: string): number {
    const leaving = this.#expired.all(now, inFlight, MOVE_CHUNK);
    this.#leave(leaving);
    this.dlq.moveFromOutbox(leaving.map((r) => r.seq), { reason: "expired", error: EXPIRED_ERROR, keepLastError: true, failedAttempt: false });
    this.#counters.expired += leaving.length;
    return leaving.length;
  }

  #poison(ids: string, error: string): void {
    const leaving = this.#byIds.all(ids);
    this.#leave(leaving);
    this.dlq.moveFromOutbox(leaving.map((r) => r.seq), { reason: "poison", error, keepLastError: false, failedAttempt: true });
    this.#counters.poisoned += leaving.length;
  }

  #leave(rows: readonly Leaving[]): void {
    this.#rows -= rows.length;
    for (const { bytes } of rows) this.#bytes -= bytes;
  }

  #noteOverflow(moved: number): void {
    if (moved > 0 && !this.#overflowing) {
      const { maxRows, maxBytes } = this.#limits;
      this.#logger.warn(
        { moved, maxRows, maxBytes },
        "outbox full: moving the lowest-priority, oldest entries to the dead-letter queue (counted in stats().overflowed from now on)",
      );
    }
    this.#overflowing = moved > 0;
  }

  /**
   * Run a write; if it fails, the totals and counters it changed are put back (the transaction
   * rolled back) and the error becomes a StorageError.
   */
  #write<T>(action: string, fn: () => T): T {
    const saved = { rows: this.#rows, bytes: this.#bytes, counters: { ...this.#counters } };
    try {
      return fn();
    } catch (err) {
      this.#rows = saved.rows;
      this.#bytes = saved.bytes;
      this.#counters = saved.counters;
      throw storageError(`cannot ${action}`, err);
    }
  }

  #inFlightJson(): string {
    return JSON.stringify([...this.#inFlight.values()]);
  }

  #release(ids: readonly string[]): void {
    for (const id of ids) this.#inFlight.delete(id);
  }

  #wake(): void {
    const wakeups = this.#wakeups;
    this.#wakeups = [];
    for (const wake of wakeups) wake();
  }
}

function toEntry(row: EntryRow): OutboxEntry {
  return {
    seq: row.seq,
    id: row.id,
    subject: row.subject,
    priority: row.priority,
    source: row.source,
    enqueuedAt: row.enqueued_at,
    expiresAt: row.expires_at,
    attempts: row.attempts,
    data: row.data,
  };
}
