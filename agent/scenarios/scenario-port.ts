/**
 * The scenario runtime as the API and the CLI see it: start, inspect, cancel and replay runs, list
 * scenarios, manage schedules. The runtime (runtime.ts) implements it; routes and tests depend
 * only on this file. Times on this boundary are ISO-8601 UTC strings; errors are AdaosErrors
 * (NotFoundError for an unknown scenario, run or schedule; ScenarioBusyError at the scenario's
 * max_concurrent; BadRequestError / ScheduleInvalidError for bad input).
 */
import type { ScheduleInput } from "./schedule.js";
import type { RunPriority } from "./scenario.js";

/** Where a run is. queued → running → one of the final states; `interrupted`: the agent stopped under it. */
export type RunState = "queued" | "running" | "succeeded" | "failed" | "cancelled" | "timed_out" | "interrupted";
export const FINAL_STATES: ReadonlySet<RunState> = new Set(["succeeded", "failed", "cancelled", "timed_out", "interrupted"]);

export interface RunRequest {
  /** Scenario id. */
  readonly id: string;
  readonly ctx?: Readonly<Record<string, unknown>>;
  /** Default: the scenario's own priority. */
  readonly priority?: RunPriority;
  /** Start even when the scenario already has max_concurrent runs active. */
  readonly force?: boolean;
  /** Simulate effectful steps (call, publish, say, notify) and waits instead of doing them. */
  readonly dry_run?: boolean;
  /** Chosen by the caller; generated (UUIDv7) when absent. */
  readonly run_id?: string;
  /** The run's correlation id (e.g. of the triggering envelope); generated when absent. */
  readonly correlation_id?: string;
}

export interface RunStarted {
  readonly run_id: string;
  readonly status: "queued" | "running";
  /** True when a run for the same trigger key already existed and this is it (no new run). */
  readonly duplicate?: boolean;
}

/** One line of the step journal. */
export interface StepStatus {
  readonly step: string;
  readonly attempt: number;
  readonly state: "started" | "ok" | "error" | "skipped" | "simulated" | "compensated" | "compensation_failed";
  readonly started_at: string;
  readonly finished_at: string | null;
  readonly latency_ms: number | null;
  readonly error?: { readonly code: string; readonly message: string };
}

export interface RunStatus {
  readonly run_id: string;
  readonly scenario_id: string;
  readonly state: RunState;
  /** The step running now, or the last one that ran. */
  readonly step: string | null;
  readonly priority: RunPriority;
  readonly trigger: string;
  readonly correlation_id: string;
  readonly dry_run: boolean;
  readonly queued_at: string;
  readonly started_at: string | null;
  readonly finished_at: string | null;
  readonly duration_ms: number | null;
  readonly steps_total: number;
  readonly steps_done: number;
  readonly replay_of: string | null;
  readonly error: { readonly code: string; readonly message: string } | null;
  readonly ctx: Readonly<Record<string, unknown>>;
  readonly bag: Readonly<Record<string, unknown>>;
  /** The step journal, oldest first (status only; lists leave it out). */
  readonly steps?: readonly StepStatus[];
}

export interface ScenarioSummary {
  readonly id: string;
  readonly description: string | null;
  /** One line per trigger, e.g. `event system.boot.completed`, `cron 0 8 * * * (Europe/Berlin)`. */
  readonly triggers: readonly string[];
  readonly steps: readonly string[];
  readonly file: string | null;
}

export interface ScheduleView {
  readonly id: string;
  readonly scenario_id: string | null;
  readonly type: "cron" | "interval" | "once";
  readonly schedule: string;
  readonly tz: string | null;
  readonly catch_up: boolean;
  readonly event: string;
  readonly ctx: Readonly<Record<string, unknown>>;
  readonly created_at: string;
  readonly last_tick_at: string | null;
  readonly next_at: string | null;
  readonly seq: number;
  /** True for the schedules a scenario's own triggers made (deleted with the scenario, not via the API). */
  readonly from_trigger: boolean;
}

export interface ScenarioApi {
  run(request: RunRequest): RunStarted;
  status(runId: string): RunStatus;
  /** Cancel a queued or running run; a finished run is returned unchanged with `cancelled: false`. */
  cancel(runId: string): { readonly run_id: string; readonly state: RunState; readonly cancelled: boolean };
  runs(query: { readonly scenario_id?: string; readonly limit?: number }): readonly RunStatus[];
  /** A new run of the same scenario with the same ctx (and dry_run unless overridden). */
  replay(runId: string, options?: { readonly dry_run?: boolean }): RunStarted & { readonly replay_of: string };
  scenarios(): readonly ScenarioSummary[];
  createSchedule(input: ScheduleInput): ScheduleView;
  deleteSchedule(id: string): void;
  schedules(): readonly ScheduleView[];
}
