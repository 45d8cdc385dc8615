/**
 * A hand-written PlanApi for the route and CLI tests: records every call, answers resolve() with
 * a ResolveAnswer the test may change (the real resolver's answer for the seed's film plan by
 * default), throws a given error from a method on demand, and keeps exec'd runs in a map that
 * status() and cancel() read.
 */
import { filmNodes, input } from "../../resolver/fixture.js";
import { resolvePlan } from "../../resolver/resolve.js";
import type { PlanApi, PlanRequest, PlanRunState, PlanRunStatus, ResolveAnswer } from "../../plans/plan-port.js";

export type PlanMethod = keyof PlanApi;

export interface PlanCall {
  readonly method: PlanMethod;
  readonly args: readonly unknown[];
}

const T0 = "2025-01-01T08:00:00.000Z";

/** What the hub answers for FILM_PLAN over filmNodes(): find and stream on plex1, display on browser-abc. */
export function filmAnswer(overrides: Partial<ResolveAnswer> = {}): ResolveAnswer {
  return { ...resolvePlan(input()), hub_id: "hub-1", nodes: filmNodes().length, ...overrides };
}

/** A PlanRunStatus with plausible defaults (a running one-step run unless overridden). */
export function planRunStatus(overrides: Partial<PlanRunStatus> = {}): PlanRunStatus {
  return {
    run_id: "plan-1",
    correlation_id: "corr-1",
    state: "running",
    started_at: T0,
    steps: [{ id: "find", need: "capability://media.search", state: "running", node_id: "plex1", attempts: 1 }],
    route_changes: [],
    ...overrides,
  };
}

export class FakePlanApi implements PlanApi {
  readonly calls: PlanCall[] = [];
  /** A method listed here throws its error on every call until removed. */
  readonly fail: Partial<Record<PlanMethod, Error>> = {};
  answer: ResolveAnswer = filmAnswer();
  /** Runs by id: exec() adds one, status() reads it, cancel() marks it cancelled. */
  readonly runs = new Map<string, PlanRunStatus>();
  #next = 0;

  /** The requests resolve() and exec() got, in order. */
  get requests(): PlanRequest[] {
    return this.calls.filter((c) => c.method === "resolve" || c.method === "exec").map((c) => c.args[0] as PlanRequest);
  }

  count(method: PlanMethod): number {
    return this.calls.filter((c) => c.method === method).length;
  }

  resolve(req: PlanRequest): ResolveAnswer {
    this.#enter("resolve", [req]);
    return this.answer;
  }

  exec(req: PlanRequest): { run_id: string; correlation_id: string; state: PlanRunState } {
    this.#enter("exec", [req]);
    const run = planRunStatus({ run_id: `plan-${++this.#next}`, correlation_id: req.correlation_id ?? `corr-${this.#next}` });
    this.runs.set(run.run_id, run);
    return { run_id: run.run_id, correlation_id: run.correlation_id, state: run.state };
  }

  status(runId: string): PlanRunStatus | undefined {
    this.#enter("status", [runId]);
    return this.runs.get(runId);
  }

  cancel(runId: string): PlanRunStatus | undefined {
    this.#enter("cancel", [runId]);
    const run = this.runs.get(runId);
    if (run === undefined) return undefined;
    const cancelled = { ...run, state: "cancelled" as const, finished_at: "2025-01-01T08:00:01.000Z" };
    this.runs.set(runId, cancelled);
    return cancelled;
  }

  #enter(method: PlanMethod, args: readonly unknown[]): void {
    this.calls.push({ method, args });
    const err = this.fail[method];
    if (err !== undefined) throw err;
  }
}
