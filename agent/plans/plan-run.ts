/**
 * One run of a plan on the hub (POST /exec), seed 000 "отказоустойчивость и перезапланирование".
 *
 * The plan is resolved, then its steps are sent in dependency order, one at a time, each as a
 * plan.step.exec command to its node with a lease and an exec_token; the node's reply is the ack
 * and carries the step's outputs, which fill the `${steps.<id>.<field>}` templates of the steps
 * after it. A step fails over when, before it is sent, its node is offline or the capability's
 * probe is down, or when the node answers an error, does not answer within startup_sla_ms, or goes
 * offline (net.subnet.node.down) while the step is in flight. Then: the lease is released, the
 * node is excluded for that step, the rest of the plan is resolved again (steps already done stay
 * where they ran), and route.changed goes out with the run's correlation_id. When no node is left
 * for a step, that step fails, the steps depending on it are skipped, the others still run, and
 * the run ends `degraded` with a ui.notify saying what is missing and what was kept (the seed's
 * graceful degrade: keep `find`). A step whose arguments cannot be filled in fails without
 * failover (no other node would do better).
 */
import { publishOrLog } from "../bus/publish-or-log.js";
import { createEnvelope } from "../core/envelope.js";
import type { Envelope } from "../../abi/envelope.js";
import { HEADER } from "../../abi/envelope.js";
import type { Bus } from "../bus/bus.js";
import type { Clock } from "../core/clock.js";
import { asAdaosError, TimeoutError } from "../core/errors.js";
import type { Logger } from "../core/logger.js";
import { interpolateDeep } from "../scenarios/expr.js";
import { abortable } from "../scenarios/actions.js";
import type { NodeFacts } from "../resolver/candidates.js";
import { signExecToken } from "../resolver/exec-token.js";
import { capName, type Plan, type PlanStep, type RoutingRules } from "../resolver/plan.js";
import { resolvePlan, topoOrder, type Binding, type ResolveContext } from "../resolver/resolve.js";
import type { Weights } from "../resolver/score.js";
import type { Leases } from "./leases.js";
import type { PlanRunState, PlanRunStatus, PlanStepState, RouteChange } from "./plan-port.js";
import { argsDigest, type StepResultPayload } from "./step-protocol.js";

export interface PlanRunDeps {
  readonly bus: Bus;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly leases: Leases;
  readonly key: Buffer;
  readonly hubId: string;
  readonly source: string;
  readonly tenant: string;
  readonly weights: Weights;
  readonly rules: RoutingRules;
  readonly startupSlaMs: number;
  readonly tokenTtlMs: number;
  /** The directory now, as the resolver reads it. */
  readonly nodes: () => readonly NodeFacts[];
  readonly onFailover?: (detectedToBoundMs: number) => void;
}

interface StepRecord {
  readonly id: string;
  readonly need: string;
  state: PlanStepState;
  node_id: string | null;
  outputs?: Record<string, unknown>;
  attempts: number;
  error?: { code: string; message: string };
}

type Outcome =
  | { readonly ok: true; readonly outputs: Record<string, unknown> }
  | { readonly ok: false; readonly code: string; readonly reason: string; readonly detectedAt: number; readonly failover: boolean };

const E_NO_NODE = "E_STEP_FAILED";

export class PlanRun {
  #state: PlanRunState = "running";
  readonly #steps = new Map<string, StepRecord>();
  readonly #bindings = new Map<string, Binding>();
  readonly #exclude = new Map<string, Set<string>>();
  readonly #changes: RouteChange[] = [];
  readonly #cancel = new AbortController();
  #inflight: { readonly node: string; readonly abort: AbortController } | undefined;
  readonly #startedAt: number;
  #finishedAt: number | undefined;
  #error: { code: string; message: string } | undefined;

  constructor(
    readonly id: string,
    readonly correlationId: string,
    private readonly plan: Plan,
    private readonly ctx: ResolveContext,
    private readonly deps: PlanRunDeps,
  ) {
    this.#startedAt = deps.clock.now();
    for (const s of plan.steps) this.#steps.set(s.id, { id: s.id, need: s.need, state: "pending", node_id: null, attempts: 0 });
  }

  get state(): PlanRunState {
    return this.#state;
  }

  status(): PlanRunStatus {
    const iso = (ms: number): string => new Date(ms).toISOString();
    return {
      run_id: this.id,
      ...(this.plan.id === undefined ? {} : { plan_id: this.plan.id }),
      correlation_id: this.correlationId,
      state: this.#state,
      started_at: iso(this.#startedAt),
      ...(this.#finishedAt === undefined ? {} : { finished_at: iso(this.#finishedAt) }),
      steps: [...this.#steps.values()].map((s) => ({ ...s, ...(s.outputs === undefined ? {} : { outputs: { ...s.outputs } }) })),
      route_changes: [...this.#changes],
      ...(this.#error === undefined ? {} : { error: this.#error }),
    };
  }

  cancel(): void {
    if (this.#state !== "running") return;
    this.#cancel.abort(new Error("the run was cancelled"));
    this.#inflight?.abort.abort(new Error("the run was cancelled"));
  }

  /** The directory says a node went offline: a step in flight there fails over at once. */
  nodeDown(nodeId: string, reason: string): void {
    if (this.#inflight?.node === nodeId) this.#inflight.abort.abort(new Error(`node ${nodeId} went offline (${reason})`));
  }

  /** Runs the plan to its end; never rejects (an unexpected error fails the run with E_INTERNAL). */
  async drive(): Promise<void> {
    try {
      await this.#run();
    } catch (err) {
      const e = asAdaosError(err);
      this.deps.logger.error({ err, run_id: this.id }, "plan run failed unexpectedly");
      for (const rec of this.#steps.values()) if (rec.state === "pending" || rec.state === "running") Object.assign(rec, { state: "failed", error: { code: e.code, message: e.message } });
    }
    this.#finish();
  }

  async #run(): Promise<void> {
    const order = topoOrder(this.plan.steps);
    this.#rebind(undefined);
    for (const step of order) {
      const rec = this.#steps.get(step.id) as StepRecord;
      while (rec.state === "pending" && !this.#cancel.signal.aborted) {
        const binding = this.#bindings.get(step.id);
        if (binding === undefined) break;
        const outcome = await this.#dispatch(step, binding, rec);
        if (outcome.ok) {
          rec.state = "done";
          rec.outputs = outcome.outputs;
          delete rec.error;
          break;
        }
        rec.error = { code: outcome.code, message: outcome.reason };
        this.deps.leases.release(this.id, step.id);
        if (this.#cancel.signal.aborted) {
          rec.state = "pending";
          break;
        }
        if (!outcome.failover) {
          rec.state = "failed";
          this.#skipDependents(step.id);
          break;
        }
        rec.state = "pending";
        const ex = this.#exclude.get(step.id) ?? new Set<string>();
        ex.add(binding.node_id);
        this.#exclude.set(step.id, ex);
        this.#rebind({ step: step.id, from: binding.node_id, reason: outcome.reason, detectedAt: outcome.detectedAt });
      }
    }
  }

  /** Resolve the steps not done yet (done ones stay on their nodes); a step no node can take fails, its dependents are skipped. */
  #rebind(failure: { step: string; from: string; reason: string; detectedAt: number } | undefined): void {
    for (;;) {
      const live = this.plan.steps.filter((s) => ["pending", "running", "done"].includes((this.#steps.get(s.id) as StepRecord).state));
      if (!live.some((s) => this.#steps.get(s.id)?.state !== "done")) return;
      const { nodes, exclude, fixed } = this.#resolverView(live);
      const res = resolvePlan({ plan: { ...this.plan, steps: live }, nodes, hubId: this.deps.hubId, rules: this.deps.rules, weights: this.deps.weights, ctx: this.ctx, exclude, fixed });
      if (res.ok) {
        for (const b of res.bindings) {
          if (this.#steps.get(b.step)?.state === "done") continue;
          const before = this.#bindings.get(b.step);
          this.#bindings.set(b.step, b);
          if (failure !== undefined && (b.step === failure.step || (before !== undefined && before.node_id !== b.node_id))) {
            this.#routeChanged(b.step, b.step === failure.step ? failure.from : (before?.node_id ?? null), b.node_id, b.step === failure.step ? failure.reason : `re-planned after ${failure.step} left ${failure.from}`, failure.detectedAt, b.score.total);
          }
        }
        return;
      }
      const u = res.unresolved[0];
      const stuck = u === undefined || u.step === "*" ? live.filter((s) => this.#steps.get(s.id)?.state !== "done") : live.filter((s) => s.id === u.step);
      for (const s of stuck) {
        const rec = this.#steps.get(s.id) as StepRecord;
        if (rec.state === "done") continue;
        rec.state = "failed";
        rec.error = { code: E_NO_NODE, message: `no node left for ${s.need}: ${u?.reason ?? "unresolvable"}` };
        this.#bindings.delete(s.id);
        if (failure !== undefined && s.id === failure.step) this.#routeChanged(s.id, failure.from, null, `${failure.reason}; no candidate left`, failure.detectedAt);
        this.#skipDependents(s.id);
      }
    }
  }

  /** Nodes as the resolver should see them: a done step's node keeps its step even if it went away since. */
  #resolverView(live: readonly PlanStep[]): { nodes: NodeFacts[]; exclude: Map<string, Set<string>>; fixed: Map<string, string> } {
    const fixed = new Map<string, string>();
    const doneCaps = new Map<string, Set<string>>();
    for (const s of live) {
      const rec = this.#steps.get(s.id) as StepRecord;
      if (rec.state !== "done" || rec.node_id === null) continue;
      fixed.set(s.id, rec.node_id);
      doneCaps.set(rec.node_id, (doneCaps.get(rec.node_id) ?? new Set()).add(capName(s.need)));
    }
    const gone = new Set<string>();
    const nodes = this.deps.nodes().map((n) => {
      const caps = doneCaps.get(n.node_id);
      if (caps === undefined || n.online) return n;
      gone.add(n.node_id);
      return { ...n, online: true, capabilities: n.capabilities.map((c) => (caps.has(capName(c.id)) ? { ...c, status: "up" as const } : c)) };
    });
    const exclude = new Map<string, Set<string>>();
    for (const s of live) exclude.set(s.id, new Set([...(this.#exclude.get(s.id) ?? []), ...(fixed.has(s.id) ? [] : gone)]));
    return { nodes, exclude, fixed };
  }

  #skipDependents(failed: string): void {
    for (const s of this.plan.steps) {
      const rec = this.#steps.get(s.id) as StepRecord;
      if (rec.state !== "pending" || !s.depends_on.includes(failed)) continue;
      rec.state = "skipped";
      rec.error = { code: E_NO_NODE, message: `skipped: ${failed} did not run` };
      this.#bindings.delete(s.id);
      this.#skipDependents(s.id);
    }
  }

  async #dispatch(step: PlanStep, binding: Binding, rec: StepRecord): Promise<Outcome> {
    const { clock, bus } = this.deps;
    const node = binding.node_id;
    rec.attempts += 1;
    rec.node_id = node;
    rec.state = "running";
    const fail = (code: string, reason: string, failover = true): Outcome => ({ ok: false, code, reason, detectedAt: clock.now(), failover });
    const facts = this.deps.nodes().find((n) => n.node_id === node);
    if (facts?.online !== true) return fail("E_NODE_UNAVAILABLE", `node ${node} is offline`);
    const cap = facts.capabilities.find((c) => capName(c.id) === capName(step.need));
    if (cap?.status !== "up") return fail("E_NODE_UNAVAILABLE", `probe: ${step.need} is ${cap?.status ?? "gone"} on ${node}`);
    let args: Record<string, unknown>;
    try {
      const outputs = Object.fromEntries([...this.#steps.values()].map((s) => [s.id, s.outputs ?? {}]));
      args = interpolateDeep(step.args, { steps: outputs }) as Record<string, unknown>;
    } catch (err) {
      const e = asAdaosError(err);
      return fail(e.code, `the step's arguments: ${e.message}`, false);
    }
    const now = clock.now();
    this.deps.leases.grant(this.id, step.id, node, this.deps.tokenTtlMs);
    const token = signExecToken({ run: this.id, step: step.id, node, cap: capName(step.need), slots: { args_sha256: argsDigest(args) }, iat: now, exp: now + this.deps.tokenTtlMs }, this.deps.key);
    const abort = new AbortController();
    this.#inflight = { node, abort };
    const request = createEnvelope({
      event_name: "plan.step.exec", version: 1, kind: "command", source: this.deps.source, tenant: this.deps.tenant, priority: 2,
      correlation_id: this.correlationId,
      headers: { [HEADER.target]: node, [HEADER.execToken]: token, [HEADER.idempotencyKey]: `${this.id}/${step.id}/${rec.attempts}` },
      payload: { run_id: this.id, step_id: step.id, need: step.need, args, attempt: rec.attempts },
    }, clock);
    let reply: Envelope;
    try {
      reply = await abortable(bus.request(request, { timeoutMs: this.deps.startupSlaMs }), abort.signal);
    } catch (err) {
      if (abort.signal.aborted) return fail("E_NODE_UNAVAILABLE", (abort.signal.reason as Error).message);
      if (err instanceof TimeoutError) return fail("E_TIMEOUT", `no ack from ${node} within startup_sla_ms (${this.deps.startupSlaMs} ms)`);
      const e = asAdaosError(err);
      return fail(e.code, `sending the step to ${node}: ${e.message}`);
    } finally {
      this.#inflight = undefined;
    }
    const p = reply.payload as unknown as StepResultPayload;
    if (p.ok && p.outputs !== undefined) return { ok: true, outputs: { ...p.outputs } };
    if (p.ok) return { ok: true, outputs: {} };
    return fail(p.error?.code ?? "E_STEP_FAILED", `${node} answered ${p.error?.code ?? "an error"}: ${p.error?.message ?? "no message"}`);
  }

  #routeChanged(step: string, from: string | null, to: string | null, reason: string, detectedAt: number, score?: number): void {
    const ms = Math.max(0, Math.round(this.deps.clock.now() - detectedAt));
    this.#changes.push({ step_id: step, from, to, reason, at: new Date(this.deps.clock.now()).toISOString(), detected_to_bound_ms: ms });
    if (to !== null) this.deps.onFailover?.(ms);
    this.deps.logger.warn({ run_id: this.id, step, from, to, reason, detected_to_bound_ms: ms }, to === null ? "plan step has no node left" : "plan step moved to the next node");
    const need = this.#steps.get(step)?.need ?? "";
    this.#publish("route.changed", { run_id: this.id, step_id: step, need, from, to, reason: reason.slice(0, 2000), ...(score === undefined ? {} : { score }), detected_to_bound_ms: ms });
  }

  #finish(): void {
    const steps = [...this.#steps.values()];
    const done = steps.filter((s) => s.state === "done");
    this.#state = this.#cancel.signal.aborted ? "cancelled" : done.length === steps.length ? "completed" : done.length > 0 ? "degraded" : "failed";
    this.#finishedAt = this.deps.clock.now();
    this.deps.leases.releaseRun(this.id);
    const missing = steps.filter((s) => s.state === "failed");
    if (missing.length > 0 && this.#state !== "cancelled") {
      const first = missing[0] as StepRecord;
      this.#error = first.error ?? { code: E_NO_NODE, message: `${first.id} failed` };
      const kept = done.map((s) => s.id);
      const text = `${missing.map((s) => `${s.id} (${s.need.replace("capability://", "")})`).join(", ")} could not run: ${first.error?.message ?? "no node left"}${kept.length > 0 ? `. Kept: ${kept.join(", ")}` : ""}`;
      this.#publish("ui.notify", { text: text.slice(0, 2000), level: "warning", title: `Plan ${this.plan.id ?? this.id} ${this.#state}`, origin: "resolver" });
    }
    const iso = (ms: number): string => new Date(ms).toISOString();
    this.#publish("plan.run.completed", {
      run_id: this.id, ...(this.plan.id === undefined ? {} : { plan_id: this.plan.id.slice(0, 128) }), state: this.#state,
      started_at: iso(this.#startedAt), finished_at: iso(this.#finishedAt), duration_ms: Math.max(0, Math.round(this.#finishedAt - this.#startedAt)),
      steps: steps.map((s) => ({ id: s.id, need: s.need, state: s.state, node_id: s.node_id, attempts: s.attempts, ...(s.outputs === undefined ? {} : { outputs: s.outputs }) })),
      failovers: this.#changes.filter((c) => c.to !== null).length,
      ...(this.#error === undefined ? {} : { error: { code: this.#error.code, message: this.#error.message.slice(0, 2000) } }),
    });
  }

  #publish(event_name: string, payload: Record<string, unknown>): void {
    publishOrLog(this.deps.bus, { event_name, version: 1, source: this.deps.source, tenant: this.deps.tenant, priority: 2, correlation_id: this.correlationId, payload }, this.deps.clock, this.deps.logger, { run_id: this.id });
  }
}
