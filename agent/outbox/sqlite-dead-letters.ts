/**
 * The dead-letter queue (dead-letters.ts) in the `dlq` table of outbox.db. Bounded: after each add
 * the oldest entries beyond maxRows are deleted in the same transaction, logged and counted
 * (`trimmed`). moveFromOutbox() is the one place outbox rows move here (overflow, expiry, poison),
 * so that move is one piece of SQL and runs inside the outbox's own transaction.
 */
import type Database from "better-sqlite3";
import type { Clock } from "../core/clock.js";
import { StorageError } from "../core/errors.js";
import { silentLogger, type Logger } from "../core/logger.js";
import type { Db } from "../store/sqlite.js";
import { DEAD_REASONS, deadLetterFields, type DeadLetter, type DeadLetterFilter, type DeadLetterInput, type DeadLetters, type DeadReason } from "./dead-letters.js";
import { LAST_ERROR_JOIN } from "./outbox-rules.js";

export interface SqliteDeadLettersOptions {
  /** Most entries kept; the oldest beyond it are deleted. */
  readonly maxRows: number;
  /** Stamps dead_at. */
  readonly clock: Clock;
  readonly logger?: Logger;
}

/** How outbox rows die (moveFromOutbox). */
export interface OutboxDeath {
  readonly reason: DeadReason;
  readonly error: string;
  /** Append the row's previous send error after `error` (overflow, expiry); poison replaces it. */
  readonly keepLastError: boolean;
  /** The move is itself a failed send attempt (poison): attempts + 1. */
  readonly failedAttempt: boolean;
}

interface Row {
  dlq_id: number;
  reason: DeadReason;
  origin: "outbox" | "inbound";
  id: string | null;
  event_name: string | null;
  subject: string | null;
  source: string | null;
  attempts: number;
  last_error: string | null;
  dead_at: number;
  data: Buffer;
}

interface MoveParams {
  seqs: string;
  reason: DeadReason;
  failed: number;
  error: string;
  join: string | null;
  now: number;
}

type Params = Record<string, unknown>;

export class SqliteDeadLetters implements DeadLetters {
  readonly #maxRows: number;
  readonly #clock: Clock;
  readonly #logger: Logger;
  readonly #insert: Database.Statement<[Params]>;
  readonly #moveIn: Database.Statement<[MoveParams]>;
  readonly #moveOut: Database.Statement<[string]>;
  readonly #listAll: Database.Statement<[number, number], Row>;
  readonly #listByReason: Database.Statement<[DeadReason, number, number], Row>;
  readonly #get: Database.Statement<[number], Row>;
  readonly #remove: Database.Statement<[string]>;
  readonly #purgeAll: Database.Statement<[]>;
  readonly #purgeReason: Database.Statement<[DeadReason]>;
  readonly #countAll: Database.Statement<[], { n: number }>;
  readonly #countByReason: Database.Statement<[], { reason: DeadReason; n: number }>;
  readonly #trimOldest: Database.Statement<[number]>;
  readonly #addTx: (entries: readonly DeadLetterInput[]) => void;
  readonly #moveTx: (seqs: readonly number[], death: OutboxDeath) => number;
  /**
   * Rows in the table as this instance counts them. Recounted before anything is deleted, so a
   * write it did not see (another process, a rolled-back transaction) can delay a trim, never
   * make one delete too much.
   */
  #rows: number;
  #trimmed = 0;

  constructor(db: Db, opts: SqliteDeadLettersOptions) {
    this.#maxRows = opts.maxRows;
    this.#clock = opts.clock;
    this.#logger = opts.logger ?? silentLogger();
    try {
      this.#insert = db.prepare(
        "INSERT INTO dlq (reason, origin, id, event_name, subject, source, attempts, last_error, dead_at, data) " +
          "VALUES (@reason, @origin, @id, @eventName, @subject, @source, @attempts, @lastError, @deadAt, @data)",
      );
      // The event name is read from the stored envelope: the outbox table does not keep it apart.
      this.#moveIn = db.prepare(
        "INSERT INTO dlq (reason, origin, id, event_name, subject, source, attempts, last_error, dead_at, data) " +
          "SELECT @reason, 'outbox', id, json_extract(CAST(data AS TEXT), '$.event_name'), subject, source, " +
          "attempts + @failed, @error || COALESCE(@join || last_error, ''), @now, data " +
          "FROM outbox WHERE seq IN (SELECT value FROM json_each(@seqs)) ORDER BY seq",
      );
      this.#moveOut = db.prepare("DELETE FROM outbox WHERE seq IN (SELECT value FROM json_each(?))");
      this.#listAll = db.prepare("SELECT * FROM dlq WHERE dlq_id > ? ORDER BY dlq_id LIMIT ?");
      this.#listByReason = db.prepare("SELECT * FROM dlq WHERE reason = ? AND dlq_id > ? ORDER BY dlq_id LIMIT ?");
      this.#get = db.prepare("SELECT * FROM dlq WHERE dlq_id = ?");
      this.#remove = db.prepare("DELETE FROM dlq WHERE dlq_id IN (SELECT value FROM json_each(?))");
      this.#purgeAll = db.prepare("DELETE FROM dlq");
      this.#purgeReason = db.prepare("DELETE FROM dlq WHERE reason = ?");
      this.#countAll = db.prepare("SELECT COUNT(*) AS n FROM dlq");
      this.#countByReason = db.prepare("SELECT reason, COUNT(*) AS n FROM dlq GROUP BY reason");
      this.#trimOldest = db.prepare("DELETE FROM dlq WHERE dlq_id IN (SELECT dlq_id FROM dlq ORDER BY dlq_id LIMIT ?)");
      this.#addTx = db.transaction((entries: readonly DeadLetterInput[]) => {
        const now = this.#clock.now();
        for (const e of entries) this.#insert.run(insertParams(e, now));
        this.#trim(entries.length);
      });
      this.#moveTx = db.transaction((seqs: readonly number[], death: OutboxDeath): number => {
        const moved = this.#moveIn.run({
          seqs: JSON.stringify(seqs),
          reason: death.reason,
          failed: death.failedAttempt ? 1 : 0,
          error: death.error,
          join: death.keepLastError ? LAST_ERROR_JOIN : null,
          now: this.#clock.now(),
        }).changes;
        this.#moveOut.run(JSON.stringify(seqs));
        this.#trim(moved);
        return moved;
      });
      this.#rows = this.#countAll.get()?.n ?? 0;
    } catch (err) {
      throw storageError(`cannot open the dead-letter queue in ${db.name}`, err);
    }
  }

  /** Entries deleted because the queue was full, since this instance was created. */
  get trimmed(): number {
    return this.#trimmed;
  }

  add(entries: readonly DeadLetterInput[]): void {
    if (entries.length === 0) return;
    guard("add to the dead-letter queue", () => this.#addTx(entries));
  }

  /**
   * Move these outbox rows (by seq) here as `death` says, in one transaction (a savepoint inside
   * the caller's). Returns how many moved. Throws StorageError.
   */
  moveFromOutbox(seqs: readonly number[], death: OutboxDeath): number {
    if (seqs.length === 0) return 0;
    return guard("move outbox entries to the dead-letter queue", () => this.#moveTx(seqs, death));
  }

  list(filter: DeadLetterFilter = {}): DeadLetter[] {
    const after = filter.after ?? 0;
    const limit = filter.limit ?? -1; // SQLite: a negative LIMIT is no limit
    const rows = guard("list the dead-letter queue", () =>
      filter.reason === undefined ? this.#listAll.all(after, limit) : this.#listByReason.all(filter.reason, after, limit),
    );
    return rows.map(toDeadLetter);
  }

  get(dlqId: number): DeadLetter | undefined {
    const row = guard("read the dead-letter queue", () => this.#get.get(dlqId));
    return row === undefined ? undefined : toDeadLetter(row);
  }

  remove(dlqIds: readonly number[]): number {
    if (dlqIds.length === 0) return 0;
    return this.#deleted(guard("remove dead letters", () => this.#remove.run(JSON.stringify(dlqIds)).changes));
  }

  purge(filter: { readonly reason?: DeadReason } = {}): number {
    const { reason } = filter;
    return this.#deleted(guard("purge dead letters", () => (reason === undefined ? this.#purgeAll.run() : this.#purgeReason.run(reason)).changes));
  }

  count(): { readonly total: number; readonly byReason: Readonly<Record<DeadReason, number>> } {
    const byReason = Object.fromEntries(DEAD_REASONS.map((r) => [r, 0])) as Record<DeadReason, number>;
    let total = 0;
    for (const { reason, n } of guard("count dead letters", () => this.#countByReason.all())) {
      byReason[reason] = n;
      total += n;
    }
    return { total, byReason };
  }

  #deleted(n: number): number {
    this.#rows = Math.max(0, this.#rows - n);
    return n;
  }

  /** After `added` rows went in: delete the oldest beyond maxRows. Runs inside the adding transaction. */
  #trim(added: number): void {
    this.#rows += added;
    if (this.#rows <= this.#maxRows) return;
    this.#rows = this.#countAll.get()?.n ?? 0;
    const excess = this.#rows - this.#maxRows;
    if (excess <= 0) return;
    this.#trimOldest.run(excess);
    this.#rows -= excess;
    this.#trimmed += excess;
    this.#logger.warn({ deleted: excess, maxRows: this.#maxRows }, "dead-letter queue full: deleted the oldest entries");
  }
}

function insertParams(e: DeadLetterInput, now: number): Params {
  return {
    ...deadLetterFields(e, now),
    // better-sqlite3 binds Buffers, not plain Uint8Arrays: wrap without copying.
    data: Buffer.isBuffer(e.data) ? e.data : Buffer.from(e.data.buffer, e.data.byteOffset, e.data.byteLength),
  };
}

function toDeadLetter(row: Row): DeadLetter {
  return {
    dlqId: row.dlq_id,
    reason: row.reason,
    origin: row.origin,
    id: row.id,
    eventName: row.event_name,
    subject: row.subject,
    source: row.source,
    attempts: row.attempts,
    lastError: row.last_error,
    deadAt: row.dead_at,
    data: row.data,
  };
}

/** Run `fn`; any error becomes a StorageError saying what could not be done. */
export function guard<T>(action: string, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    throw storageError(`cannot ${action}`, err);
  }
}

/** A StorageError saying what could not be done and why (an inner StorageError is kept as is). */
export function storageError(what: string, err: unknown): StorageError {
  if (err instanceof StorageError) return err;
  return new StorageError(`${what}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
}
