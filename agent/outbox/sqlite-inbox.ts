/**
 * The inbox (inbox.ts) kept in the `inbox` table of outbox.db. record() stages keys in memory and
 * commits everything staged in one transaction (one fsync for many, like outbox enqueues): on the
 * next tick, or `commitEveryMs` after the first key staged, so a steady trickle (a fleet's
 * heartbeats, one every few milliseconds) costs a commit per window rather than one per envelope;
 * has() sees a staged key at once. After each commit the oldest rows beyond the window
 * are deleted. It does not own the database: close() commits what is staged, the caller closes
 * the db.
 */
import type Database from "better-sqlite3";
import type { Clock } from "../core/clock.js";
import { StorageError } from "../core/errors.js";
import type { Db } from "../store/sqlite.js";
import type { Inbox } from "./inbox.js";

export interface SqliteInboxOptions {
  /** How many keys are remembered; beyond it the oldest recorded are forgotten first. */
  readonly window: number;
  /** Stamps the `at` column (when a key was recorded). */
  readonly clock: Clock;
  /** How long staged keys may wait for company before the commit; 0 (default): the next tick. */
  readonly commitEveryMs?: number;
}

interface Waiter {
  resolve(): void;
  reject(err: StorageError): void;
}

export class SqliteInbox implements Inbox {
  readonly #window: number;
  readonly #clock: Clock;
  readonly #find: Database.Statement<[string]>;
  readonly #insert: Database.Statement<[string, number]>;
  /**
   * Deletes the `n` oldest rows. Not `seq <= MAX(seq) - window`: an INSERT OR IGNORE that hits
   * an existing key still uses up a seq, so seq has gaps and that would keep fewer than `window`.
   */
  readonly #trimOldest: Database.Statement<[number]>;
  readonly #commit: (staged: ReadonlyMap<string, number>, rows: number) => number;
  /** Rows in the table: counted once, then kept up to date from our own writes (the table's only writer). */
  #rows: number;
  /** Keys waiting for the next commit, with when each was recorded. */
  #staged = new Map<string, number>();
  #waiters: Waiter[] = [];
  #scheduled = false;
  #closed = false;
  #commits = 0;
  readonly #commitEveryMs: number;

  constructor(db: Db, opts: SqliteInboxOptions) {
    this.#window = opts.window;
    this.#clock = opts.clock;
    this.#commitEveryMs = opts.commitEveryMs ?? 0;
    try {
      this.#find = db.prepare("SELECT 1 FROM inbox WHERE key = ?");
      this.#insert = db.prepare("INSERT OR IGNORE INTO inbox (key, at) VALUES (?, ?)");
      this.#trimOldest = db.prepare("DELETE FROM inbox WHERE seq IN (SELECT seq FROM inbox ORDER BY seq LIMIT ?)");
      this.#commit = db.transaction((staged: ReadonlyMap<string, number>, rows: number): number => {
        for (const [key, at] of staged) rows += this.#insert.run(key, at).changes;
        return this.#trim(rows);
      });
      const counted = (db.prepare("SELECT COUNT(*) AS n FROM inbox").get() as { n: number }).n;
      // A smaller window than last time applies from the start.
      this.#rows = db.transaction(() => this.#trim(counted))();
    } catch (err) {
      throw new StorageError(`cannot open the inbox in ${db.name}: ${(err as Error).message}`, { cause: err });
    }
  }

  has(key: string): boolean {
    this.#assertOpen();
    if (this.#staged.has(key)) return true;
    try {
      return this.#find.get(key) !== undefined;
    } catch (err) {
      throw new StorageError(`cannot read the inbox: ${(err as Error).message}`, { cause: err });
    }
  }

  record(key: string): Promise<void> {
    if (this.#closed) return Promise.reject(new StorageError("the inbox is closed"));
    return new Promise<void>((resolve, reject) => {
      if (!this.#staged.has(key)) this.#staged.set(key, this.#clock.now());
      this.#waiters.push({ resolve, reject });
      if (!this.#scheduled) {
        this.#scheduled = true;
        // A real timer, not the injected clock: this groups disk writes, it is not behaviour in time.
        if (this.#commitEveryMs > 0) setTimeout(() => this.#flush(), this.#commitEveryMs);
        else setImmediate(() => this.#flush());
      }
    });
  }

  size(): number {
    return this.#rows;
  }

  /** Transactions committed since open. */
  get commits(): number {
    return this.#commits;
  }

  close(): Promise<void> {
    if (!this.#closed) {
      this.#closed = true;
      this.#flush();
    }
    return Promise.resolve();
  }

  #flush(): void {
    this.#scheduled = false;
    if (this.#staged.size === 0) return;
    const staged = this.#staged;
    const waiters = this.#waiters;
    try {
      this.#rows = this.#commit(staged, this.#rows);
      this.#commits++;
    } catch (err) {
      const error = new StorageError(`cannot record ${staged.size} inbox keys: ${(err as Error).message}`, { cause: err });
      for (const w of waiters) w.reject(error);
      return;
    } finally {
      // Committed or failed, they are no longer staged (a failed key is not durable: has() says no).
      this.#staged = new Map();
      this.#waiters = [];
    }
    for (const w of waiters) w.resolve();
  }

  /** Delete the oldest rows beyond the window; returns the rows left. Runs inside a transaction. */
  #trim(rows: number): number {
    if (rows <= this.#window) return rows;
    return rows - this.#trimOldest.run(rows - this.#window).changes;
  }

  #assertOpen(): void {
    if (this.#closed) throw new StorageError("the inbox is closed");
  }
}
