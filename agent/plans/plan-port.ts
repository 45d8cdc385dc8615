/**
 * What the HTTP API and the CLI need of the hub's plan runtime (POST /resolve, POST /exec,
 * GET /exec/{run_id}), so the routes and the `resolve` command are tested against a fake.
 * Only a hub has one: the resolver reads the hub's directory.
 */
import type { Resolution } from "../resolver/resolve.js";

/** The body of POST /resolve and POST /exec. */
export interface PlanRequest {
  /** A plan as abi/plan.schema.json has it (or wrapped in `plan:` as the seed writes it). */
  readonly plan: unknown;
  readonly ctx?: {
    /** The node the input came from (`browser:current`, `member:self` hints). */
    readonly origin?: string;
    /** Let directives.addressed_skill pin its step (as the pin_to_addressed override does). */
    readonly allow_addressed?: boolean;
  };
  /** POST /exec: the session's correlation id (a new one when absent). */
  readonly correlation_id?: string;
}

/** POST /resolve: the bindings as the resolver chose them now, with the nodes it looked at. */
export interface ResolveAnswer extends Resolution {
  readonly hub_id: string;
  /** Nodes in the directory when it resolved (online or not). */
  readonly nodes: number;
}

export type PlanRunState = "running" | "completed" | "degraded" | "failed" | "cancelled";
export const FINAL_PLAN_STATES: ReadonlySet<PlanRunState> = new Set(["completed", "degraded", "failed", "cancelled"]);

export type PlanStepState = "pending" | "running" | "done" | "failed" | "skipped";

export interface PlanStepStatus {
  readonly id: string;
  readonly need: string;
  readonly state: PlanStepState;
  /** The node it runs on (or was last bound to); null before it is bound. */
  readonly node_id: string | null;
  readonly outputs?: Readonly<Record<string, unknown>>;
  /** Nodes tried so far. */
  readonly attempts: number;
  readonly error?: { readonly code: string; readonly message: string };
}

export interface RouteChange {
  readonly step_id: string;
  readonly from: string | null;
  readonly to: string | null;
  readonly reason: string;
  readonly at: string;
  /** From detecting the failure to binding the next node (or giving up). */
  readonly detected_to_bound_ms: number;
}

export interface PlanRunStatus {
  readonly run_id: string;
  readonly plan_id?: string;
  readonly correlation_id: string;
  readonly state: PlanRunState;
  readonly started_at: string;
  readonly finished_at?: string;
  readonly steps: readonly PlanStepStatus[];
  readonly route_changes: readonly RouteChange[];
  readonly error?: { readonly code: string; readonly message: string };
}

export interface PlanApi {
  /** Resolve without side effects; a bad plan throws BadRequestError with every problem. */
  resolve(req: PlanRequest): ResolveAnswer;
  /** Start a run; its status follows at status(run_id) and in plan.run.completed / route.changed. */
  exec(req: PlanRequest): { readonly run_id: string; readonly correlation_id: string; readonly state: PlanRunState };
  /** undefined when no such run is known (runs are kept in memory, the last MAX_RUNS). */
  status(runId: string): PlanRunStatus | undefined;
  /** Cooperative: the step in flight is let go, no further step starts. */
  cancel(runId: string): PlanRunStatus | undefined;
}
