/**
 * The hub's plan runtime (PlanApi): POST /resolve answers resolvePlan() over the directory as it
 * is now, with no side effect; POST /exec starts a PlanRun (plan-run.ts) and answers its id at
 * once. Runs live in memory, the last MAX_RUNS kept for GET /exec/{run_id}; a run in flight when
 * the hub stops is cancelled. net.subnet.node.down is passed to the running runs, so a step in
 * flight on a node that vanished fails over without waiting for its SLA.
 */
import type { Envelope } from "../../abi/envelope.js";
import type { Bus, Subscription } from "../bus/bus.js";
import type { Clock } from "../core/clock.js";
import type { Component } from "../core/component.js";
import { uuidv7 } from "../core/ids.js";
import type { Logger } from "../core/logger.js";
import type { Counter, MetricsRegistry } from "../core/metrics.js";
import type { NodeFacts } from "../resolver/candidates.js";
import { parsePlan } from "../resolver/plan-load.js";
import type { RoutingRules } from "../resolver/plan.js";
import { resolvePlan, type ResolveContext } from "../resolver/resolve.js";
import type { Weights } from "../resolver/score.js";
import { Leases } from "./leases.js";
import type { PlanApi, PlanRequest, PlanRunStatus, ResolveAnswer } from "./plan-port.js";
import { PlanRun } from "./plan-run.js";

/** Finished runs kept for status queries; older ones are forgotten first. */
export const MAX_RUNS = 200;

export interface PlanRuntimeOptions {
  readonly bus: Bus;
  /** The directory now, as the resolver reads it (the hub's: nodeFacts() of each view). */
  readonly nodes: () => readonly NodeFacts[];
  readonly hubId: string;
  readonly key: Buffer;
  readonly weights: Weights;
  readonly rules: RoutingRules;
  readonly startupSlaMs: number;
  readonly tokenTtlMs: number;
  readonly source: string;
  readonly tenant: string;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly metrics: MetricsRegistry;
}

export class PlanRuntime implements PlanApi, Component {
  readonly name = "plans";
  readonly #runs = new Map<string, PlanRun>();
  readonly #leases: Leases;
  #sub: Subscription | undefined;
  readonly #ended: Counter;
  readonly #failovers: Counter;
  #lastFailoverMs = 0;

  constructor(private readonly opts: PlanRuntimeOptions) {
    this.#leases = new Leases(opts.clock, opts.metrics);
    this.#ended = opts.metrics.counter("adaos_plan_runs_total", "Plan runs (POST /exec) that ended, by state.");
    this.#failovers = opts.metrics.counter("adaos_plan_failovers_total", "Plan steps moved to the next node after their node failed.");
    opts.metrics.gauge("adaos_plan_last_failover_ms", "Milliseconds from detecting the latest step failure to binding the next node.", () => [[{}, this.#lastFailoverMs]]);
  }

  start(signal: AbortSignal): Promise<void> {
    signal.throwIfAborted();
    this.#sub = this.opts.bus.subscribe("net.subnet.node.down", (e: Envelope) => {
      const p = e.payload as { node_id?: unknown; reason?: unknown };
      if (typeof p.node_id !== "string") return;
      for (const run of this.#runs.values()) if (run.state === "running") run.nodeDown(p.node_id, typeof p.reason === "string" ? p.reason : "down");
    });
    return Promise.resolve();
  }

  stop(): Promise<void> {
    this.#sub?.unsubscribe();
    this.#sub = undefined;
    for (const run of this.#runs.values()) run.cancel();
    return Promise.resolve();
  }

  resolve(req: PlanRequest): ResolveAnswer {
    const plan = parsePlan(req.plan);
    const nodes = this.opts.nodes();
    const res = resolvePlan({ plan, nodes, hubId: this.opts.hubId, rules: this.opts.rules, weights: this.opts.weights, ctx: ctxOf(req) });
    return { ...res, hub_id: this.opts.hubId, nodes: nodes.length };
  }

  exec(req: PlanRequest): { run_id: string; correlation_id: string; state: "running" } {
    const plan = parsePlan(req.plan);
    const o = this.opts;
    const id = uuidv7(o.clock.now());
    const correlationId = req.correlation_id ?? id;
    const run = new PlanRun(id, correlationId, plan, ctxOf(req), {
      bus: o.bus, clock: o.clock, logger: o.logger, leases: this.#leases, key: o.key, hubId: o.hubId, source: o.source, tenant: o.tenant,
      weights: o.weights, rules: o.rules, startupSlaMs: o.startupSlaMs, tokenTtlMs: o.tokenTtlMs,
      nodes: o.nodes,
      onFailover: (ms) => {
        this.#failovers.inc();
        this.#lastFailoverMs = ms;
      },
    });
    this.#runs.set(id, run);
    this.#forgetOld();
    o.logger.info({ run_id: id, correlation_id: correlationId, plan_id: plan.id, steps: plan.steps.length }, "plan run started");
    run.drive().then(
      () => {
        this.#ended.inc({ state: run.state });
        o.logger.info({ run_id: id, state: run.state }, "plan run ended");
      },
      (err: unknown) => o.logger.error({ err, run_id: id }, "plan run crashed"),
    );
    return { run_id: id, correlation_id: correlationId, state: "running" };
  }

  status(runId: string): PlanRunStatus | undefined {
    return this.#runs.get(runId)?.status();
  }

  cancel(runId: string): PlanRunStatus | undefined {
    const run = this.#runs.get(runId);
    run?.cancel();
    return run?.status();
  }

  #forgetOld(): void {
    for (const [id, run] of this.#runs) {
      if (this.#runs.size <= MAX_RUNS) return;
      if (run.state !== "running") this.#runs.delete(id);
    }
  }
}

function ctxOf(req: PlanRequest): ResolveContext {
  return { ...(req.ctx?.origin === undefined ? {} : { origin: req.ctx.origin }), ...(req.ctx?.allow_addressed === undefined ? {} : { allow_addressed: req.ctx.allow_addressed }) };
}
