/**
 * The scenario runtime as one component and the ScenarioApi behind /api/scenario…: the scenario
 * library, <data_dir>/scenarios.db (run store and schedules in one file), the runner, the
 * triggers and the scheduler. start() loads the scenario files (a bad file is logged with every
 * problem and skipped; the others run), opens the database, then starts the runner (which applies
 * the restart policy), the triggers (which reconcile the trigger schedules) and last the
 * scheduler, so no tick fires before a run can start. stop() goes in reverse and closes the file.
 *
 * Schedules made through the API may start a scenario (scenario_id) or only emit their event;
 * the ones a scenario's triggers own (`trigger.…`) change with the scenario file, never here.
 */
import type { Bus } from "../bus/bus.js";
import type { Clock } from "../core/clock.js";
import type { Component } from "../core/component.js";
import { BadRequestError, ConflictError, InternalError, NotFoundError } from "../core/errors.js";
import type { Logger } from "../core/logger.js";
import type { MetricsRegistry } from "../core/metrics.js";
import type { EventCatalog } from "../registry/catalog.js";
import type { Db } from "../store/sqlite.js";
import { ScenarioLibrary } from "./library.js";
import { RunStore } from "./run-store.js";
import { ScenarioRunner } from "./runner.js";
import type { Scenario } from "./scenario.js";
import { openScenarioDb } from "./scenario-db.js";
import { FINAL_STATES, type RunRequest, type RunStarted, type RunStatus, type ScenarioApi, type ScenarioSummary, type ScheduleView } from "./scenario-port.js";
import type { ScheduleInput } from "./schedule.js";
import { ScheduleStore } from "./schedule-store.js";
import { Scheduler } from "./scheduler.js";
import { TRIGGER_SCHEDULE_PREFIX, Triggers } from "./triggers.js";
import { runView, scenarioSummary, scheduleView } from "./views.js";

export interface RuntimeOptions {
  readonly dataDir: string;
  /** Directories of scenario files. */
  readonly dirs: readonly string[];
  /** Scenarios built in code, besides the files (tests, built-ins). */
  readonly scenarios?: readonly Scenario[];
  readonly maxConcurrentPerNode: number;
  readonly runsKept: number;
  readonly bus: Bus;
  readonly catalog: EventCatalog;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly metrics?: MetricsRegistry;
  readonly source: string;
  readonly tenant: string;
}

interface Parts {
  readonly db: Db;
  readonly library: ScenarioLibrary;
  readonly runs: RunStore;
  readonly scheduler: Scheduler;
  readonly runner: ScenarioRunner;
  readonly triggers: Triggers;
}

const MAX_LIST = 500;

export class ScenarioRuntime implements Component, ScenarioApi {
  readonly name = "scenarios";
  #parts: Parts | undefined;

  constructor(private readonly o: RuntimeOptions) {}

  async start(signal: AbortSignal): Promise<void> {
    const library = this.#loadLibrary();
    const db = openScenarioDb(this.o.dataDir);
    try {
      const runs = new RunStore(db);
      const common = { bus: this.o.bus, clock: this.o.clock, source: this.o.source };
      const runner = new ScenarioRunner({
        ...common,
        scenario: (id) => library.get(id),
        store: runs,
        logger: this.o.logger.child({ part: "runner" }),
        ...(this.o.metrics === undefined ? {} : { metrics: this.o.metrics }),
        tenant: this.o.tenant,
        maxConcurrentPerNode: this.o.maxConcurrentPerNode,
        runsKept: this.o.runsKept,
      });
      // The scheduler calls the triggers, which create schedules in the scheduler: tie the knot here.
      const late: { triggers?: Triggers } = {};
      const scheduler = new Scheduler({ ...common, store: new ScheduleStore(db), logger: this.o.logger.child({ part: "scheduler" }), onTick: (tick) => late.triggers?.onTick(tick) });
      const triggers = new Triggers({ scenarios: () => library.list(), bus: this.o.bus, scheduler, submit: (req) => runner.submit(req), logger: this.o.logger.child({ part: "triggers" }) });
      late.triggers = triggers;
      this.#parts = { db, library, runs, scheduler, runner, triggers };
      await runner.start(signal);
      await triggers.start(signal);
      await scheduler.start(signal);
      this.o.logger.info({ scenarios: library.list().length, schedules: scheduler.list().length, dirs: this.o.dirs }, "scenario runtime started");
    } catch (err) {
      await this.stop();
      if (db.open) db.close();
      throw err;
    }
  }

  async stop(): Promise<void> {
    const p = this.#parts;
    if (p === undefined) return;
    this.#parts = undefined;
    await p.scheduler.stop();
    await p.triggers.stop();
    await p.runner.stop();
    p.runs.close();
    if (p.db.open) p.db.close();
  }

  /** The runner, for tests and the benchmark (settled(), locks). */
  get runner(): ScenarioRunner {
    return this.#ready().runner;
  }

  run(request: RunRequest): RunStarted {
    return this.#ready().runner.submit({ ...request, trigger: "api" });
  }

  status(runId: string): RunStatus {
    const { runs } = this.#ready();
    const run = runs.get(runId);
    if (run === undefined) throw new NotFoundError(`there is no run ${JSON.stringify(runId)}`);
    return runView(run, runs.steps(runId));
  }

  cancel(runId: string): { run_id: string; state: RunStatus["state"]; cancelled: boolean } {
    const { runs, runner } = this.#ready();
    const run = runs.get(runId);
    if (run === undefined) throw new NotFoundError(`there is no run ${JSON.stringify(runId)}`);
    if (FINAL_STATES.has(run.state)) return { run_id: runId, state: run.state, cancelled: false };
    const cancelled = runner.cancel(runId);
    return { run_id: runId, state: runs.get(runId)?.state ?? run.state, cancelled };
  }

  runs(query: { scenario_id?: string; limit?: number }): RunStatus[] {
    const limit = Math.min(MAX_LIST, query.limit ?? 20);
    return this.#ready().runs.list({ ...(query.scenario_id === undefined ? {} : { scenario_id: query.scenario_id }), limit }).map((r) => runView(r));
  }

  replay(runId: string, options: { dry_run?: boolean } = {}): RunStarted & { replay_of: string } {
    const { runs, runner } = this.#ready();
    const run = runs.get(runId);
    if (run === undefined) throw new NotFoundError(`there is no run ${JSON.stringify(runId)}`);
    const started = runner.submit({
      id: run.scenario_id,
      ctx: run.ctx,
      priority: run.priority,
      dry_run: options.dry_run ?? run.dry_run,
      trigger: `replay:${runId}`,
      replayOf: runId,
    });
    return { ...started, replay_of: runId };
  }

  scenarios(): ScenarioSummary[] {
    return this.#ready().library.list().map(scenarioSummary);
  }

  createSchedule(input: ScheduleInput): ScheduleView {
    const { scheduler, library } = this.#ready();
    if (typeof input.id === "string" && input.id.startsWith(TRIGGER_SCHEDULE_PREFIX)) {
      throw new BadRequestError(`schedule ids starting with "${TRIGGER_SCHEDULE_PREFIX}" belong to scenario triggers; choose another id`);
    }
    const sid: unknown = (input as { scenario_id?: unknown }).scenario_id;
    if (typeof sid === "string" && library.get(sid) === undefined) throw new NotFoundError(`there is no scenario ${JSON.stringify(sid)} to schedule`);
    const created = scheduler.create(input);
    const record = scheduler.get(created.id);
    if (record === undefined) throw new InternalError(`schedule ${created.id} vanished after it was created`);
    return scheduleView(record, this.o.clock.now());
  }

  deleteSchedule(id: string): void {
    const { scheduler } = this.#ready();
    const s = scheduler.get(id);
    if (s === undefined) throw new NotFoundError(`there is no schedule ${JSON.stringify(id)}`);
    if (id.startsWith(TRIGGER_SCHEDULE_PREFIX)) {
      throw new ConflictError(`schedule ${id} comes from a trigger of scenario ${s.scenario_id ?? "?"}; change the scenario file instead`);
    }
    scheduler.delete(id);
  }

  schedules(): ScheduleView[] {
    const now = this.o.clock.now();
    return this.#ready().scheduler.list().map((s) => scheduleView(s, now));
  }

  #ready(): Parts {
    if (this.#parts === undefined) throw new NotFoundError("the scenario runtime is not running");
    return this.#parts;
  }

  #loadLibrary(): ScenarioLibrary {
    const { library, errors } = ScenarioLibrary.load(this.o.dirs, { catalog: this.o.catalog, logger: this.o.logger });
    for (const { file, error } of errors) this.o.logger.error({ file, code: error.code, issues: error.issues }, `scenario file skipped: ${error.message}`);
    const extra = this.o.scenarios ?? [];
    return extra.length === 0 ? library : ScenarioLibrary.of([...library.list(), ...extra]);
  }
}
