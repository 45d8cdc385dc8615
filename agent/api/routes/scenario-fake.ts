/**
 * A hand-written ScenarioApi for the route and CLI tests: records every call, answers with
 * canned values the test may change, and throws a given error from a method on demand. Run
 * states are scripted per run id: each status() call takes the next one and stays on the last.
 */
import { NotFoundError } from "../../core/errors.js";
import type { RunStarted, RunState, RunStatus, ScenarioApi, ScenarioSummary, ScheduleView, StepStatus } from "../../scenarios/scenario-port.js";
import type { ScheduleInput } from "../../scenarios/schedule.js";

export type Method = keyof ScenarioApi;

export interface Call {
  readonly method: Method;
  readonly args: readonly unknown[];
}

const T0 = "2025-01-01T08:00:00.000Z";

/** A RunStatus with plausible defaults (a finished three-step run unless overridden). */
export function runStatus(overrides: Partial<RunStatus> = {}): RunStatus {
  return {
    run_id: "run-1",
    scenario_id: "greet",
    state: "succeeded",
    step: "say",
    priority: "NORM",
    trigger: "api",
    correlation_id: "corr-1",
    dry_run: false,
    queued_at: T0,
    started_at: "2025-01-01T08:00:00.010Z",
    finished_at: "2025-01-01T08:00:01.260Z",
    duration_ms: 1250,
    steps_total: 2,
    steps_done: 2,
    replay_of: null,
    error: null,
    ctx: { who: "ann" },
    bag: {},
    ...overrides,
  };
}

export function stepStatus(overrides: Partial<StepStatus> = {}): StepStatus {
  return { step: "lookup", attempt: 1, state: "ok", started_at: T0, finished_at: "2025-01-01T08:00:00.012Z", latency_ms: 12, ...overrides };
}

export function scheduleView(overrides: Partial<ScheduleView> = {}): ScheduleView {
  return {
    id: "morning",
    scenario_id: "greet",
    type: "cron",
    schedule: "0 8 * * *",
    tz: "Europe/Berlin",
    catch_up: false,
    event: "timer.tick",
    ctx: {},
    created_at: T0,
    last_tick_at: null,
    next_at: "2025-01-02T07:00:00.000Z",
    seq: 0,
    from_trigger: false,
    ...overrides,
  };
}

export class FakeScenarioApi implements ScenarioApi {
  readonly calls: Call[] = [];
  /** A method listed here throws its error on every call until removed. */
  readonly fail: Partial<Record<Method, Error>> = {};
  started: RunStarted = { run_id: "run-1", status: "queued" };
  replayed: RunStarted = { run_id: "run-2", status: "queued" };
  cancelState: { state: RunState; cancelled: boolean } = { state: "cancelled", cancelled: true };
  runList: RunStatus[] = [runStatus()];
  scenarioList: ScenarioSummary[] = [
    { id: "greet", description: "Say hello", triggers: ["event system.boot.completed", "cron 0 8 * * * (Europe/Berlin)"], steps: ["lookup", "say"], file: "/data/scenarios/greet.yaml" },
  ];
  scheduleList: ScheduleView[] = [scheduleView()];
  readonly #script = new Map<string, RunStatus[]>();

  /** status(runId) answers these in turn, then the last one for good. */
  script(runId: string, ...statuses: RunStatus[]): void {
    this.#script.set(runId, statuses);
  }

  /** How many times a method was called. */
  count(method: Method): number {
    return this.calls.filter((c) => c.method === method).length;
  }

  run(...args: Parameters<ScenarioApi["run"]>): RunStarted {
    this.#enter("run", args);
    return this.started;
  }

  status(runId: string): RunStatus {
    this.#enter("status", [runId]);
    const queue = this.#script.get(runId);
    const next = queue?.[0];
    if (queue === undefined || next === undefined) throw new NotFoundError(`there is no run ${JSON.stringify(runId)}`);
    if (queue.length > 1) queue.shift();
    return next;
  }

  cancel(runId: string): { run_id: string; state: RunState; cancelled: boolean } {
    this.#enter("cancel", [runId]);
    return { run_id: runId, ...this.cancelState };
  }

  runs(...args: Parameters<ScenarioApi["runs"]>): RunStatus[] {
    this.#enter("runs", args);
    return this.runList;
  }

  replay(...args: Parameters<ScenarioApi["replay"]>): RunStarted & { replay_of: string } {
    this.#enter("replay", args);
    return { ...this.replayed, replay_of: args[0] };
  }

  scenarios(): ScenarioSummary[] {
    this.#enter("scenarios", []);
    return this.scenarioList;
  }

  createSchedule(input: ScheduleInput): ScheduleView {
    this.#enter("createSchedule", [input]);
    return scheduleView({ ...(input.id === undefined ? {} : { id: input.id }), scenario_id: input.scenario_id ?? null });
  }

  deleteSchedule(id: string): void {
    this.#enter("deleteSchedule", [id]);
    if (!this.scheduleList.some((s) => s.id === id)) throw new NotFoundError(`there is no schedule ${JSON.stringify(id)}`);
  }

  schedules(): ScheduleView[] {
    this.#enter("schedules", []);
    return this.scheduleList;
  }

  #enter(method: Method, args: readonly unknown[]): void {
    this.calls.push({ method, args });
    const err = this.fail[method];
    if (err !== undefined) throw err;
  }
}
