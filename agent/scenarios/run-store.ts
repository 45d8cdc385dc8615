/**
 * Scenario runs on disk: the `runs` and `run_steps` tables of <data_dir>/scenarios.db (opened with
 * openScenarioDb, which applies RUN_MIGRATIONS after the schedule store's). The Db is the caller's:
 * close() only drops this store's prepared statements.
 *
 * A run row keeps what was asked (scenario, priority, ctx, trigger, flags) and where it got to
 * (state, step, steps_done, times, error, bag). `trigger_key` is unique when not null, so a tick or
 * an event delivered twice makes one run: insert() then returns the run that exists instead of
 * failing. `run_steps` is the step journal in insertion order (`seq`); one (run, step, attempt)
 * may have several rows — the attempt, then its compensation. finishedSteps() reads a step's
 * latest row so a resumed run skips what already succeeded.
 *
 * Rules: each write is one statement and one commit (stepFinished's fallback insert shares its
 * commit), unless grouped with batch(). Times are epoch ms. ctx, bag and errors are stored as JSON
 * and must serialise; a step result that cannot be serialised (BigInt, a cycle, a function) or is
 * larger than MAX_RESULT_BYTES is stored as {"truncated": true, "bytes": N} (N null when it cannot
 * be serialised, with a `reason`) rather than failing the step. SQLite failures surface as
 * StorageError naming the operation; a duplicate run_id is ConflictError; an unknown run on
 * update or in the journal is NotFoundError.
 */
import type Database from "better-sqlite3";
import { ConflictError, NotFoundError, StorageError } from "../core/errors.js";
import type { Db, Migration } from "../store/sqlite.js";
import type { RunState, StepStatus } from "./scenario-port.js";
import type { RunPriority } from "./scenario.js";

type Statement = Database.Statement<unknown[]>;

/** A larger step result is replaced by a marker: the journal is for status pages, not a blob store. */
export const MAX_RESULT_BYTES = 64 * 1024;
const LIST_DEFAULT = 20;
const LIST_MAX = 500;

/** Idempotent (IF NOT EXISTS) like SCHEDULE_MIGRATIONS; append new ones, never edit or reorder. */
export const RUN_MIGRATIONS: readonly Migration[] = [
  (db) => {
    db.exec(`
      CREATE TABLE IF NOT EXISTS runs (
        run_id TEXT PRIMARY KEY,
        scenario_id TEXT NOT NULL,
        state TEXT NOT NULL,
        priority TEXT NOT NULL,
        ctx TEXT NOT NULL,
        dry_run INTEGER NOT NULL,
        force INTEGER NOT NULL,
        "trigger" TEXT NOT NULL,
        trigger_key TEXT,
        correlation_id TEXT NOT NULL,
        replay_of TEXT,
        step TEXT,
        steps_total INTEGER NOT NULL,
        steps_done INTEGER NOT NULL DEFAULT 0,
        queued_at INTEGER NOT NULL,
        started_at INTEGER,
        finished_at INTEGER,
        error TEXT,
        bag TEXT NOT NULL DEFAULT '{}'
      );
      CREATE UNIQUE INDEX IF NOT EXISTS runs_trigger_key ON runs (trigger_key) WHERE trigger_key IS NOT NULL;
      CREATE INDEX IF NOT EXISTS runs_scenario ON runs (scenario_id, queued_at, run_id);
      CREATE INDEX IF NOT EXISTS runs_queued ON runs (queued_at, run_id);
      CREATE INDEX IF NOT EXISTS runs_in_flight ON runs (queued_at, run_id) WHERE state IN ('queued', 'running');
      CREATE TABLE IF NOT EXISTS run_steps (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        run_id TEXT NOT NULL REFERENCES runs (run_id) ON DELETE CASCADE,
        step TEXT NOT NULL,
        attempt INTEGER NOT NULL,
        state TEXT NOT NULL,
        started_at INTEGER NOT NULL,
        finished_at INTEGER,
        latency_ms INTEGER,
        result TEXT,
        error TEXT
      );
      CREATE INDEX IF NOT EXISTS run_steps_key ON run_steps (run_id, step, attempt);
    `);
  },
];

export interface RunError { readonly code: string; readonly message: string }

export interface NewRun {
  run_id: string; scenario_id: string; priority: RunPriority; ctx: Record<string, unknown>;
  dry_run: boolean; force: boolean;
  /** "api", "event:<name>", "schedule:<id>", "replay:<run_id>", "bus". */
  trigger: string;
  /** Unique when not null (a scheduler tick key "<schedule>@<ISO>", an event id). */
  trigger_key: string | null;
  correlation_id: string; replay_of: string | null; steps_total: number; queued_at: number;
}

export interface RunRecord extends NewRun {
  state: RunState; step: string | null; steps_done: number;
  started_at: number | null; finished_at: number | null; error: RunError | null; bag: Record<string, unknown>;
}

export type InsertResult = { readonly inserted: true; readonly run: RunRecord } | { readonly inserted: false; readonly existing: RunRecord };

export interface StepRecord {
  run_id: string; step: string; attempt: number; state: StepStatus["state"];
  started_at: number; finished_at: number | null; latency_ms: number | null;
  /** JSON; null when none. */
  result: unknown; error: RunError | null;
}

export type RunPatch = Partial<Pick<RunRecord, "state" | "step" | "steps_done" | "started_at" | "finished_at" | "error" | "bag">>;

export interface StepOutcome {
  state: Exclude<StepStatus["state"], "started">; at: number; result?: unknown; error?: RunError;
}

/** Columns update() may set, in a fixed order (the statement cache is keyed by the set used). */
const PATCH_COLUMNS = ["state", "step", "steps_done", "started_at", "finished_at", "error", "bag"] as const;
const IN_FLIGHT = "state IN ('queued', 'running')";
const STATES = "(@states IS NULL OR state IN (SELECT value FROM json_each(@states)))";
const ORDER_NEWEST = "ORDER BY queued_at DESC, run_id DESC LIMIT @limit";
/** The open (not finished) row of one attempt. */
const OPEN_ROW = "SELECT max(seq) FROM run_steps WHERE run_id = @run_id AND step = @step AND attempt = @attempt AND state = 'started'";

const SQL = {
  insert: `INSERT INTO runs (run_id, scenario_id, state, priority, ctx, dry_run, force, "trigger", trigger_key, correlation_id,
             replay_of, step, steps_total, steps_done, queued_at, bag)
           VALUES (@run_id, @scenario_id, 'queued', @priority, @ctx, @dry_run, @force, @trigger, @trigger_key, @correlation_id,
             @replay_of, NULL, @steps_total, 0, @queued_at, '{}')
           ON CONFLICT (trigger_key) WHERE trigger_key IS NOT NULL DO NOTHING`,
  get: "SELECT * FROM runs WHERE run_id = ?",
  byTriggerKey: "SELECT * FROM runs WHERE trigger_key = ?",
  listAll: `SELECT * FROM runs WHERE ${STATES} ${ORDER_NEWEST}`,
  listScenario: `SELECT * FROM runs WHERE scenario_id = @scenario_id AND ${STATES} ${ORDER_NEWEST}`,
  inFlight: `SELECT * FROM runs WHERE ${IN_FLIGHT} ORDER BY queued_at, run_id`,
  stepStarted: `INSERT INTO run_steps (run_id, step, attempt, state, started_at) VALUES (@run_id, @step, @attempt, 'started', @at)`,
  // Latency is clamped at 0: a Pi without an RTC can step its wall clock back when NTP syncs.
  stepClose: `UPDATE run_steps SET state = @state, finished_at = @at, latency_ms = max(0, @at - started_at), result = @result, error = @error
              WHERE seq = (${OPEN_ROW})`,
  stepOnly: `INSERT INTO run_steps (run_id, step, attempt, state, started_at, finished_at, latency_ms, result, error)
             VALUES (@run_id, @step, @attempt, @state, @at, @at, 0, @result, @error)`,
  steps: "SELECT * FROM run_steps WHERE run_id = ? ORDER BY seq",
  finished: `SELECT step, state, result FROM run_steps s WHERE run_id = @run_id AND state IN ('ok', 'simulated', 'skipped')
             AND seq = (SELECT max(seq) FROM run_steps WHERE run_id = s.run_id AND step = s.step) ORDER BY seq`,
  prune: `DELETE FROM runs WHERE run_id IN (
            SELECT run_id FROM (
              SELECT run_id, row_number() OVER (PARTITION BY scenario_id ORDER BY queued_at DESC, run_id DESC) AS n
              FROM runs WHERE NOT ${IN_FLIGHT}
            ) WHERE n > @keep)`,
} as const;

interface RunRow {
  run_id: string; scenario_id: string; state: string; priority: string; ctx: string; dry_run: number; force: number;
  trigger: string; trigger_key: string | null; correlation_id: string; replay_of: string | null; step: string | null;
  steps_total: number; steps_done: number; queued_at: number; started_at: number | null; finished_at: number | null;
  error: string | null; bag: string;
}

interface StepRow {
  run_id: string; step: string; attempt: number; state: string; started_at: number; finished_at: number | null;
  latency_ms: number | null; result: string | null; error: string | null;
}

export class RunStore {
  readonly #statements = new Map<string, Statement>();

  /** `db` must have had RUN_MIGRATIONS applied (openScenarioDb) and foreign keys on (openDatabase). */
  constructor(private readonly db: Db) {}

  /** A new run, state "queued". A taken trigger_key returns the run holding it; a taken run_id throws ConflictError. */
  insert(run: NewRun): InsertResult {
    return this.#do(`insert run ${run.run_id}`, () => {
      const params = {
        ...run, ctx: json(run.ctx, "ctx"), dry_run: run.dry_run ? 1 : 0, force: run.force ? 1 : 0,
      };
      try {
        if (this.#sql(SQL.insert).run(params).changes === 1) return { inserted: true, run: this.#get(run.run_id) };
      } catch (err) {
        if ((err as { code?: unknown }).code === "SQLITE_CONSTRAINT_PRIMARYKEY") {
          throw new ConflictError(`run ${run.run_id} exists`, { cause: err });
        }
        throw err;
      }
      const existing = this.#sql(SQL.byTriggerKey).get(run.trigger_key) as RunRow | undefined;
      if (existing === undefined) throw new StorageError(`run for trigger key ${run.trigger_key} vanished`);
      return { inserted: false, existing: runRecord(existing) };
    });
  }

  /** Set the given fields (keys left out stay as they are). NotFoundError for an unknown run. */
  update(runId: string, patch: RunPatch): void {
    this.#do(`update run ${runId}`, () => {
      const columns = PATCH_COLUMNS.filter((c) => patch[c] !== undefined);
      if (columns.length === 0) {
        this.#get(runId);
        return;
      }
      const params: Record<string, unknown> = { run_id: runId };
      for (const c of columns) params[c] = c === "bag" ? json(patch.bag, "bag") : c === "error" ? runError(patch.error) : patch[c];
      const sql = `UPDATE runs SET ${columns.map((c) => `${c} = @${c}`).join(", ")} WHERE run_id = @run_id`;
      if (this.#sql(sql).run(params).changes === 0) throw new NotFoundError(`run ${runId} not found`);
    });
  }

  get(runId: string): RunRecord | undefined {
    return this.#do(`read run ${runId}`, () => {
      const row = this.#sql(SQL.get).get(runId) as RunRow | undefined;
      return row === undefined ? undefined : runRecord(row);
    });
  }

  /** The run holding `triggerKey`, if any (a caller may check before admitting, insert() dedups regardless). */
  byTriggerKey(triggerKey: string): RunRecord | undefined {
    return this.#do(`read run for trigger key ${triggerKey}`, () => {
      const row = this.#sql(SQL.byTriggerKey).get(triggerKey) as RunRow | undefined;
      return row === undefined ? undefined : runRecord(row);
    });
  }

  /** Newest first (queued_at, then run_id, descending); `limit` defaults to 20 and is capped at 500. */
  list(query: { scenario_id?: string; limit?: number; states?: readonly RunState[] }): RunRecord[] {
    if (query.states?.length === 0) return [];
    const limit = query.limit === undefined || !Number.isFinite(query.limit) ? LIST_DEFAULT : Math.min(LIST_MAX, Math.max(1, Math.floor(query.limit)));
    const params = { limit, states: query.states === undefined ? null : JSON.stringify(query.states) };
    return this.#do("list runs", () => {
      const rows = query.scenario_id === undefined
        ? this.#sql(SQL.listAll).all(params)
        : this.#sql(SQL.listScenario).all({ ...params, scenario_id: query.scenario_id });
      return (rows as RunRow[]).map(runRecord);
    });
  }

  /** Queued and running runs, oldest first: what a restarted agent must interrupt or resume. */
  inFlight(): RunRecord[] {
    return this.#do("list runs in flight", () => (this.#sql(SQL.inFlight).all() as RunRow[]).map(runRecord));
  }

  stepStarted(runId: string, step: string, attempt: number, at: number): void {
    this.#do(`journal step ${step} of run ${runId}`, () => {
      this.#journal(runId, () => this.#sql(SQL.stepStarted).run({ run_id: runId, step, attempt, at }));
    });
  }

  /**
   * Close the attempt's open row (latency = at - its started_at). Without one (a "skipped" step, a
   * compensation) a row is added with started_at = at and latency 0, in the same commit.
   */
  stepFinished(runId: string, step: string, attempt: number, outcome: StepOutcome): void {
    this.#do(`journal step ${step} of run ${runId}`, () => {
      const params = {
        run_id: runId, step, attempt, state: outcome.state, at: outcome.at,
        result: stepResult(outcome.result), error: runError(outcome.error ?? null),
      };
      this.db.transaction(() => {
        if (this.#sql(SQL.stepClose).run(params).changes === 0) this.#journal(runId, () => this.#sql(SQL.stepOnly).run(params));
      })();
    });
  }

  /** The journal in insertion order. */
  steps(runId: string): StepRecord[] {
    return this.#do(`read steps of run ${runId}`, () => (this.#sql(SQL.steps).all(runId) as StepRow[]).map(stepRecord));
  }

  /** Steps whose latest journal entry is "ok", "simulated" or "skipped", with their stored result: a resumed run skips these. */
  finishedSteps(runId: string): Map<string, { state: StepStatus["state"]; result: unknown }> {
    return this.#do(`read steps of run ${runId}`, () => {
      const rows = this.#sql(SQL.finished).all({ run_id: runId }) as { step: string; state: string; result: string | null }[];
      return new Map(rows.map((r) => [r.step, { state: r.state as StepStatus["state"], result: parse(r.result) }]));
    });
  }

  /** Keep each scenario's newest `keepPerScenario` finished runs, and every queued or running one; delete the rest with their journal. */
  prune(keepPerScenario: number): number {
    if (!Number.isInteger(keepPerScenario) || keepPerScenario < 0) throw new RangeError(`prune: keep must be an integer >= 0, got ${keepPerScenario}`);
    return this.#do("prune runs", () => this.#sql(SQL.prune).run({ keep: keepPerScenario }).changes);
  }

  /** Run `fn` (synchronous) in one transaction, one commit: every write in it lands, or none. */
  batch<T>(fn: () => T): T {
    let fromFn = false;
    try {
      return this.db.transaction(() => {
        try {
          return fn();
        } catch (err) {
          fromFn = true;
          throw err;
        }
      })();
    } catch (err) {
      // What fn threw is the caller's and passes unchanged; begin or commit failing is ours.
      throw fromFn ? err : this.#failed("commit batch", err);
    }
  }

  /** Drops the prepared statements; the Db stays open (it is the caller's). */
  close(): void {
    this.#statements.clear();
  }

  #get(runId: string): RunRecord {
    const row = this.#sql(SQL.get).get(runId) as RunRow | undefined;
    if (row === undefined) throw new NotFoundError(`run ${runId} not found`);
    return runRecord(row);
  }

  /** A journal write for a run that does not exist fails its foreign key: NotFoundError. */
  #journal(runId: string, write: () => unknown): void {
    try {
      write();
    } catch (err) {
      if ((err as { code?: unknown }).code === "SQLITE_CONSTRAINT_FOREIGNKEY") throw new NotFoundError(`run ${runId} not found`, { cause: err });
      throw err;
    }
  }

  /** Our own errors pass; anything else (SQLite, corrupt JSON) becomes StorageError naming `what`. */
  #do<T>(what: string, fn: () => T): T {
    try {
      return fn();
    } catch (err) {
      if (err instanceof ConflictError || err instanceof NotFoundError || err instanceof StorageError) throw err;
      throw this.#failed(what, err);
    }
  }

  /** Each statement is prepared once, on first use (the tables exist by then). */
  #sql(sql: string): Statement {
    let s = this.#statements.get(sql);
    if (s === undefined) {
      s = this.db.prepare(sql);
      this.#statements.set(sql, s);
    }
    return s;
  }

  #failed(what: string, err: unknown): StorageError {
    return new StorageError(`cannot ${what} (${this.db.name}): ${(err as Error).message}`, { cause: err });
  }
}

/** ctx and bag must serialise: they are the run's input and state, and a truncated one would be wrong. */
function json(value: unknown, field: string): string {
  const text = JSON.stringify(value) as string | undefined;
  if (text === undefined) throw new TypeError(`${field} is not JSON`);
  return text;
}

/** Only code and message are kept (an AdaosError passed as is would otherwise lose its message). */
function runError(error: RunError | null | undefined): string | null {
  return error === null || error === undefined ? null : JSON.stringify({ code: error.code, message: error.message });
}

/** A step result as stored: null for none, the truncation marker when it cannot or should not be kept. */
function stepResult(value: unknown): string | null {
  if (value === undefined) return null;
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch (err) {
    return JSON.stringify({ truncated: true, bytes: null, reason: (err as Error).message });
  }
  if (text === undefined) return JSON.stringify({ truncated: true, bytes: null, reason: `a ${typeof value} is not JSON` });
  const bytes = Buffer.byteLength(text);
  return bytes > MAX_RESULT_BYTES ? JSON.stringify({ truncated: true, bytes }) : text;
}

function parse(text: string | null): unknown {
  return text === null ? null : JSON.parse(text);
}

function runRecord(row: RunRow): RunRecord {
  return {
    run_id: row.run_id, scenario_id: row.scenario_id, state: row.state as RunState, priority: row.priority as RunPriority,
    ctx: JSON.parse(row.ctx) as Record<string, unknown>, dry_run: row.dry_run === 1, force: row.force === 1,
    trigger: row.trigger, trigger_key: row.trigger_key, correlation_id: row.correlation_id, replay_of: row.replay_of,
    steps_total: row.steps_total, queued_at: row.queued_at, step: row.step, steps_done: row.steps_done,
    started_at: row.started_at, finished_at: row.finished_at, error: parse(row.error) as RunError | null,
    bag: JSON.parse(row.bag) as Record<string, unknown>,
  };
}

function stepRecord(row: StepRow): StepRecord {
  return {
    run_id: row.run_id, step: row.step, attempt: row.attempt, state: row.state as StepStatus["state"],
    started_at: row.started_at, finished_at: row.finished_at, latency_ms: row.latency_ms,
    result: parse(row.result), error: parse(row.error) as RunError | null,
  };
}
