/**
 * Schedules on disk: the `schedules` table of <data_dir>/scenarios.db. The file is shared with
 * other parts of the scenario runtime, which add their own tables; this store only touches
 * `schedules`, and its migrations (SCHEDULE_MIGRATIONS) create it idempotently so they can be
 * combined with another component's list on the same file.
 *
 * Per schedule the row keeps what it is (spec and ctx as JSON, event, catch_up, created_at) and how
 * far it got: `last_tick_at` (the scheduled time, epoch ms, of the last tick fired; null before the
 * first) and `seq` (ticks fired so far). markFired() never moves a schedule backwards, so a late
 * write from an older run cannot undo a newer one. Each write is one statement, one commit.
 * SQLite failures surface as StorageError; a duplicate id as ScheduleInvalidError.
 */
import { join } from "node:path";
import type Database from "better-sqlite3";
import { ScheduleInvalidError, StorageError } from "../core/errors.js";
import { openDatabase, type Db, type Migration } from "../store/sqlite.js";
import type { Schedule, ScheduleSpec } from "./schedule.js";

type Statement = Database.Statement<unknown[]>;

export const SCENARIOS_DB_FILE = "scenarios.db";

export const SCHEDULE_MIGRATIONS: readonly Migration[] = [
  (db) => {
    db.exec(`
      CREATE TABLE IF NOT EXISTS schedules (
        id TEXT PRIMARY KEY,
        scenario_id TEXT,
        spec TEXT NOT NULL,
        ctx TEXT NOT NULL DEFAULT '{}',
        event TEXT NOT NULL,
        catch_up INTEGER NOT NULL DEFAULT 0,
        created_at INTEGER NOT NULL,
        last_tick_at INTEGER,
        seq INTEGER NOT NULL DEFAULT 0
      );
    `);
  },
];

/** A stored schedule with its progress. */
export interface ScheduleRecord extends Schedule {
  /** Scheduled time (epoch ms) of the last tick fired; null before the first. */
  last_tick_at: number | null;
  /** Ticks fired so far. */
  seq: number;
}

interface Row {
  id: string; scenario_id: string | null; spec: string; ctx: string; event: string;
  catch_up: number; created_at: number; last_tick_at: number | null; seq: number;
}

const SQL = {
  insert: `INSERT INTO schedules (id, scenario_id, spec, ctx, event, catch_up, created_at, last_tick_at, seq)
           VALUES (@id, @scenario_id, @spec, @ctx, @event, @catch_up, @created_at, NULL, 0)`,
  delete: "DELETE FROM schedules WHERE id = ?",
  get: "SELECT * FROM schedules WHERE id = ?",
  list: "SELECT * FROM schedules ORDER BY created_at, id",
  fired: "UPDATE schedules SET last_tick_at = @at, seq = @seq WHERE id = @id AND (last_tick_at IS NULL OR last_tick_at < @at)",
} as const;

export class ScheduleStore {
  readonly #statements = new Map<keyof typeof SQL, Statement>();
  /** True when open() opened the database, so close() is this store's to do. */
  #owned = false;

  /** `db` must have had SCHEDULE_MIGRATIONS applied; the caller owns it (close() leaves it open). */
  constructor(private readonly db: Db) {}

  /** Open (creating) <dataDir>/scenarios.db with SCHEDULE_MIGRATIONS; close() closes it. */
  static open(dataDir: string): ScheduleStore {
    const store = new ScheduleStore(openDatabase(join(dataDir, SCENARIOS_DB_FILE), SCHEDULE_MIGRATIONS));
    store.#owned = true;
    return store;
  }

  /** Store a new schedule (progress: never fired). Throws ScheduleInvalidError when the id is taken. */
  create(schedule: Schedule): void {
    try {
      this.#sql("insert").run({
        id: schedule.id, scenario_id: schedule.scenario_id, spec: JSON.stringify(schedule.spec), ctx: JSON.stringify(schedule.ctx),
        event: schedule.event, catch_up: schedule.catch_up ? 1 : 0, created_at: schedule.created_at,
      });
    } catch (err) {
      if ((err as { code?: unknown }).code === "SQLITE_CONSTRAINT_PRIMARYKEY") {
        throw new ScheduleInvalidError(`schedule ${schedule.id} exists`, { cause: err });
      }
      throw this.#failed("write", err);
    }
  }

  /** False when there was no such schedule. */
  delete(id: string): boolean {
    try {
      return this.#sql("delete").run(id).changes > 0;
    } catch (err) {
      throw this.#failed("write", err);
    }
  }

  get(id: string): ScheduleRecord | undefined {
    try {
      const row = this.#sql("get").get(id) as Row | undefined;
      return row === undefined ? undefined : record(row);
    } catch (err) {
      throw this.#failed("read", err);
    }
  }

  /** Every schedule, oldest first. */
  list(): ScheduleRecord[] {
    try {
      return (this.#sql("list").all() as Row[]).map(record);
    } catch (err) {
      throw this.#failed("read", err);
    }
  }

  /**
   * Record that the tick scheduled at `scheduledAtMs` fired as number `seq`. False when the
   * schedule is gone or already recorded at that time or later.
   */
  markFired(id: string, scheduledAtMs: number, seq: number): boolean {
    try {
      return this.#sql("fired").run({ id, at: scheduledAtMs, seq }).changes > 0;
    } catch (err) {
      throw this.#failed("write", err);
    }
  }

  /** Closes the database when open() opened it; a Db handed to the constructor stays the caller's. */
  close(): void {
    this.#statements.clear();
    if (this.#owned) this.db.close();
  }

  /** Each statement is prepared once, on first use (the table exists by then). */
  #sql(name: keyof typeof SQL): Statement {
    let s = this.#statements.get(name);
    if (s === undefined) {
      s = this.db.prepare(SQL[name]);
      this.#statements.set(name, s);
    }
    return s;
  }

  #failed(what: "read" | "write", err: unknown): StorageError {
    return new StorageError(`cannot ${what} schedules (${this.db.name}): ${(err as Error).message}`, { cause: err });
  }
}

function record(row: Row): ScheduleRecord {
  return {
    id: row.id,
    scenario_id: row.scenario_id,
    spec: JSON.parse(row.spec) as ScheduleSpec,
    ctx: JSON.parse(row.ctx) as Record<string, unknown>,
    event: row.event,
    catch_up: row.catch_up === 1,
    created_at: row.created_at,
    last_tick_at: row.last_tick_at,
    seq: row.seq,
  };
}
