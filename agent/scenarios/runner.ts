/**
 * The scenario runner: admits runs, queues them by priority for the node's run slots, runs each
 * as an ExecutionUnit, records everything in the run store and reports the end as
 * scenario.completed@1, each failed step attempt as scenario.step.failed@1 (both with the run's
 * correlation_id, caused by the trigger's envelope when there is one) and in metrics.
 *
 * Admission (start()): the scenario must exist (NotFoundError); a run with a trigger key that
 * the store already has is that run (`duplicate: true`, nothing new: a scheduler tick or an event
 * delivered twice starts one run); a scenario with max_concurrent runs queued or running refuses
 * another with ScenarioBusyError unless `force`. Admitted runs wait in the RunQueue for one of
 * max_concurrent_per_node slots, HIGH before NORM before LOW.
 *
 * Restart policy (start of the component), the documented choice:
 *   - a run still `queued` never did anything: it is queued again;
 *   - a run that was `running` is resumed when its scenario says `on_restart: resume` — the steps
 *     the journal has as finished are not run again, the step that was in flight runs again
 *     (at-least-once; its idempotency_key is the same) — and otherwise marked `interrupted`
 *     with the step it was in. Interrupted runs are not compensated (nothing is known about the
 *     step in flight) and publish no scenario.completed (its statuses do not include it);
 *     `replay` starts them afresh.
 * stop() halts running units the same way (no compensation), so a restart applies the policy.
 */
import type { Envelope, Priority } from "../../abi/envelope.js";
import type { Bus, Subscription } from "../bus/bus.js";
import type { Clock, TimerHandle } from "../core/clock.js";
import type { Component } from "../core/component.js";
import { createEnvelope, deriveEnvelope } from "../core/envelope.js";
import { CancelledError, NotFoundError, ScenarioBusyError, TimeoutError, asAdaosError } from "../core/errors.js";
import { uuidv7 } from "../core/ids.js";
import type { Logger } from "../core/logger.js";
import type { Counter, MetricsRegistry } from "../core/metrics.js";
import { ExecutionUnit, type RunError, type StepObserver } from "./execution.js";
import { ResourceLocks } from "./locks.js";
import { RunQueue } from "./run-queue.js";
import type { RunRecord, RunStore } from "./run-store.js";
import type { RunPriority, Scenario } from "./scenario.js";
import type { RunRequest, RunStarted } from "./scenario-port.js";

/** Runs at once on one node unless configured: a Pi has two to four cores and one speaker. */
export const DEFAULT_MAX_CONCURRENT_PER_NODE = 4;
/** Finished runs kept per scenario (the journal of older ones is pruned at start and hourly). */
export const DEFAULT_RUNS_KEPT = 200;
const PRUNE_EVERY_MS = 3_600_000;
/** How long stop() waits for halted units to unwind. */
const STOP_GRACE_MS = 5000;

/** Envelope priority (0 highest) of what a run publishes, by run priority. */
export const ENVELOPE_PRIORITY: Readonly<Record<RunPriority, Priority>> = { HIGH: 1, NORM: 3, LOW: 4 };

/** scenario.run's 0..5 priority as a run priority. */
export function runPriorityOf(p: number): RunPriority {
  return p <= 1 ? "HIGH" : p <= 3 ? "NORM" : "LOW";
}

export interface StartRequest extends RunRequest {
  /** What started it: "api", "bus", "event:<name>", "schedule:<id>", "replay:<run_id>". */
  readonly trigger: string;
  /** Dedup key: the same key never starts a second run. */
  readonly triggerKey?: string;
  /** The envelope that caused the run (its id becomes the causation_id of what the run sends). */
  readonly cause?: Envelope;
  readonly replayOf?: string;
}

export interface RunnerOptions {
  readonly scenario: (id: string) => Scenario | undefined;
  readonly store: RunStore;
  readonly bus: Bus;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly metrics?: MetricsRegistry;
  readonly source: string;
  readonly tenant: string;
  readonly maxConcurrentPerNode?: number;
  readonly runsKept?: number;
}

interface Pending {
  readonly runId: string;
  readonly priority: RunPriority;
  readonly scenario: Scenario;
  readonly cause: Envelope | undefined;
  readonly correlationId: string;
  /** Resumed runs: steps not to run again. */
  readonly finished: ReadonlySet<string>;
}

export class ScenarioRunner implements Component {
  readonly name = "scenario-runner";
  readonly locks = new ResourceLocks();
  readonly #queue: RunQueue<Pending>;
  readonly #units = new Map<string, { unit: ExecutionUnit; done: Promise<void> }>();
  /** Runs admitted and not finished, per scenario (queued + running). */
  readonly #active = new Map<string, Set<string>>();
  /** Admitted runs still waiting for a slot (for cancel). */
  readonly #queuedRuns = new Map<string, Pending>();
  #subscription: Subscription | undefined;
  #pruneTimer: TimerHandle | undefined;
  #stopping = false;
  readonly #runs: Counter | undefined;
  readonly #steps: Counter | undefined;
  readonly #stepSeconds: Counter | undefined;
  readonly #refused: Counter | undefined;

  constructor(private readonly o: RunnerOptions) {
    this.#queue = new RunQueue<Pending>(o.maxConcurrentPerNode ?? DEFAULT_MAX_CONCURRENT_PER_NODE, (p) => this.#launch(p));
    const m = o.metrics;
    this.#runs = m?.counter("adaos_scenario_runs_total", "Scenario runs that ended, by scenario and status (succeeded, failed, cancelled, timed_out, interrupted).");
    this.#steps = m?.counter("adaos_scenario_steps_total", "Step attempts, by scenario, step and outcome (ok, error, skipped, simulated).");
    this.#stepSeconds = m?.counter("adaos_scenario_step_seconds_total", "Time spent in step attempts, by scenario and step; divide by adaos_scenario_steps_total for the mean.");
    this.#refused = m?.counter("adaos_scenario_runs_refused_total", "Run requests not started, by scenario and reason (busy: at max_concurrent; duplicate: the trigger key already had a run).");
    m?.gauge("adaos_scenario_runs", "Runs admitted and not finished, by state.", () => [[{ state: "queued" }, this.#queue.waiting], [{ state: "running" }, this.#queue.running]]);
  }

  async start(signal: AbortSignal): Promise<void> {
    signal.throwIfAborted();
    this.#stopping = false;
    this.#recover();
    this.#prune();
    this.#pruneTimer = this.#armPrune();
    this.#subscription = this.o.bus.subscribe("scenario.run", (env) => this.#onCommand(env));
    await Promise.resolve();
  }

  async stop(): Promise<void> {
    this.#stopping = true;
    this.#subscription?.unsubscribe();
    this.#pruneTimer?.cancel();
    for (const { unit } of this.#units.values()) unit.halt(new CancelledError("the agent is stopping"));
    const all = Promise.all([...this.#units.values()].map((u) => u.done));
    let timer: TimerHandle | undefined;
    await Promise.race([all, new Promise<void>((resolve) => { timer = this.o.clock.setTimer(resolve, STOP_GRACE_MS); })]);
    timer?.cancel();
  }

  /** Admit a run (see the header); throws NotFoundError or ScenarioBusyError. */
  submit(req: StartRequest): RunStarted {
    if (this.#stopping) throw new CancelledError("the agent is stopping; no new runs");
    const scenario = this.o.scenario(req.id);
    if (scenario === undefined) throw new NotFoundError(`there is no scenario ${JSON.stringify(req.id)}`);
    if (req.triggerKey !== undefined) {
      const dup = this.o.store.byTriggerKey(req.triggerKey);
      if (dup !== undefined) return this.#duplicate(dup);
    }
    const active = this.#active.get(scenario.id)?.size ?? 0;
    if (req.force !== true && active >= scenario.max_concurrent) {
      this.#refused?.inc({ scenario: scenario.id, reason: "busy" });
      throw new ScenarioBusyError(`scenario ${scenario.id} already has ${active} run(s) active (max_concurrent ${scenario.max_concurrent}); use force to start another`);
    }
    const runId = req.run_id ?? uuidv7(this.o.clock.now());
    const priority = req.priority ?? scenario.priority;
    const correlationId = req.correlation_id ?? req.cause?.correlation_id ?? runId;
    const result = this.o.store.insert({
      run_id: runId,
      scenario_id: scenario.id,
      priority,
      ctx: { ...scenario.ctx, ...req.ctx },
      dry_run: req.dry_run === true,
      force: req.force === true,
      trigger: req.trigger,
      trigger_key: req.triggerKey ?? null,
      correlation_id: correlationId,
      replay_of: req.replayOf ?? null,
      steps_total: scenario.steps.length,
      queued_at: this.o.clock.now(),
    });
    if (!result.inserted) return this.#duplicate(result.existing);
    return this.#admit({ runId, priority, scenario, cause: req.cause, correlationId, finished: new Set() });
  }

  /** Cancel a queued or running run; false when it is not active here. */
  cancel(runId: string): boolean {
    const queued = this.#queuedRuns.get(runId);
    if (queued !== undefined && this.#queue.remove(runId)) {
      this.#finish(queued, { state: "cancelled", stepsDone: 0, error: { code: "E_CANCELLED", message: "cancelled before it started" } }, null);
      return true;
    }
    const u = this.#units.get(runId);
    if (u === undefined) return false;
    u.unit.abort(new CancelledError(`run ${runId} was cancelled`));
    return true;
  }

  /** Resolves when the run is no longer active (tests and the CLI's --wait use the store instead). */
  async settled(runId: string): Promise<void> {
    await this.#units.get(runId)?.done;
  }

  get activeRuns(): number {
    return this.#queue.running + this.#queue.waiting;
  }

  #duplicate(run: RunRecord): RunStarted {
    this.#refused?.inc({ scenario: run.scenario_id, reason: "duplicate" });
    return { run_id: run.run_id, status: run.state === "queued" ? "queued" : "running", duplicate: true };
  }

  #admit(p: Pending): RunStarted {
    const set = this.#active.get(p.scenario.id) ?? new Set<string>();
    set.add(p.runId);
    this.#active.set(p.scenario.id, set);
    this.#queuedRuns.set(p.runId, p);
    const started = this.#queue.push(p);
    return { run_id: p.runId, status: started ? "running" : "queued" };
  }

  #launch(p: Pending): void {
    this.#queuedRuns.delete(p.runId);
    const run = this.o.store.get(p.runId);
    if (run === undefined) {
      this.#queue.done();
      return;
    }
    const now = this.o.clock.now();
    const startedAt = run.started_at ?? now;
    this.o.store.update(p.runId, { state: "running", started_at: startedAt });
    const unit = new ExecutionUnit(
      {
        runId: p.runId,
        scenario: p.scenario,
        ctx: run.ctx,
        bag: run.bag,
        finished: p.finished,
        dryRun: run.dry_run,
        correlationId: run.correlation_id,
        ...(p.cause === undefined ? {} : { causationId: p.cause.id }),
        priority: ENVELOPE_PRIORITY[p.priority],
        deadline: now + p.scenario.timeout_ms,
      },
      {
        bus: this.o.bus,
        clock: this.o.clock,
        source: this.o.source,
        tenant: this.o.tenant,
        journal: this.o.store,
        locks: this.locks,
        logger: this.o.logger,
        observe: this.#observer(p),
      },
    );
    const deadline = this.o.clock.setTimer(
      () => unit.abort(new TimeoutError(`run ${p.runId} of ${p.scenario.id} timed out after ${p.scenario.timeout_ms} ms`)),
      p.scenario.timeout_ms,
    );
    const done = unit.run().then(
      (outcome) => {
        deadline.cancel();
        this.#finish(p, outcome, startedAt);
      },
      (err: unknown) => {
        deadline.cancel();
        const e = asAdaosError(err);
        this.o.logger.error({ err, run_id: p.runId }, "scenario run crashed");
        this.#finish(p, { state: "failed", stepsDone: 0, error: { code: e.code, message: e.message } }, startedAt);
      },
    );
    this.#units.set(p.runId, { unit, done });
  }

  #finish(p: Pending, outcome: { state: "succeeded" | "failed" | "cancelled" | "timed_out"; stepsDone: number; error?: RunError }, startedAt: number | null): void {
    const wasRunning = this.#units.delete(p.runId) || startedAt !== null;
    this.#active.get(p.scenario.id)?.delete(p.runId);
    this.#queuedRuns.delete(p.runId);
    const now = this.o.clock.now();
    try {
      if (this.#stopping && wasRunning && outcome.state === "cancelled") {
        // Halted by stop(): resumable runs stay "running" for the next start; the others are interrupted.
        if (p.scenario.on_restart !== "resume") {
          this.o.store.update(p.runId, { state: "interrupted", finished_at: now, error: { code: "E_CANCELLED", message: "the agent stopped during the run" } });
          this.#runs?.inc({ scenario: p.scenario.id, status: "interrupted" });
        }
        return;
      }
      this.o.store.update(p.runId, { state: outcome.state, finished_at: now, error: outcome.error ?? null, steps_done: outcome.stepsDone });
      this.#runs?.inc({ scenario: p.scenario.id, status: outcome.state });
      this.#completed(p, outcome, startedAt ?? now, now);
    } catch (err) {
      this.o.logger.error({ err, run_id: p.runId }, "recording the end of a run failed");
    } finally {
      if (wasRunning) this.#queue.done();
    }
  }

  #completed(p: Pending, outcome: { state: "succeeded" | "failed" | "cancelled" | "timed_out"; stepsDone: number; error?: RunError }, startedAt: number, finishedAt: number): void {
    const payload = {
      run_id: p.runId,
      scenario_id: p.scenario.id,
      status: outcome.state,
      started_at: new Date(startedAt).toISOString(),
      finished_at: new Date(finishedAt).toISOString(),
      duration_ms: Math.max(0, Math.round(finishedAt - startedAt)),
      steps_total: p.scenario.steps.length,
      steps_done: outcome.stepsDone,
      ...(outcome.error === undefined ? {} : { error: { code: outcome.error.code, message: outcome.error.message.slice(0, 2000) || outcome.error.code } }),
    };
    const init = { event_name: "scenario.completed", version: 1, source: this.o.source, tenant: this.o.tenant, priority: ENVELOPE_PRIORITY[p.priority], payload };
    const env = p.cause === undefined
      ? createEnvelope({ ...init, correlation_id: p.correlationId }, this.o.clock)
      : deriveEnvelope(p.cause, init, this.o.clock);
    this.o.bus.publish(env);
  }

  /** Metrics for every attempt; scenario.step.failed@1 for each failed one. */
  #observer(p: Pending): StepObserver {
    const scenarioId = p.scenario.id;
    return (e) => {
      this.#steps?.inc({ scenario: scenarioId, step: e.step, outcome: e.outcome });
      this.#stepSeconds?.inc({ scenario: scenarioId, step: e.step }, e.latencyMs / 1000);
      if (e.outcome !== "error" || e.error === undefined) return;
      const payload = {
        run_id: p.runId, scenario_id: scenarioId, step: e.step, attempt: e.attempt, will_retry: e.willRetry,
        latency_ms: Math.max(0, Math.round(e.latencyMs)), error: { code: e.error.code, message: e.error.message.slice(0, 2000) || e.error.code },
      };
      const init = { event_name: "scenario.step.failed", version: 1, source: this.o.source, tenant: this.o.tenant, priority: ENVELOPE_PRIORITY[p.priority], payload };
      try {
        this.o.bus.publish(p.cause === undefined ? createEnvelope({ ...init, correlation_id: p.correlationId }, this.o.clock) : deriveEnvelope(p.cause, init, this.o.clock));
      } catch (err) {
        this.o.logger.warn({ err, run_id: p.runId }, "publishing scenario.step.failed failed");
      }
    };
  }

  /** The restart policy of the header. */
  #recover(): void {
    for (const run of this.o.store.inFlight()) {
      const scenario = this.o.scenario(run.scenario_id);
      const now = this.o.clock.now();
      if (scenario === undefined) {
        this.o.store.update(run.run_id, { state: "interrupted", finished_at: now, error: { code: "E_NOT_FOUND", message: `scenario ${run.scenario_id} is no longer installed` } });
        continue;
      }
      if (run.state === "running" && scenario.on_restart !== "resume") {
        this.o.store.update(run.run_id, { state: "interrupted", finished_at: now, error: { code: "E_CANCELLED", message: `the agent stopped during step ${run.step ?? "?"}` } });
        this.#runs?.inc({ scenario: scenario.id, status: "interrupted" });
        this.o.logger.warn({ run_id: run.run_id, scenario: scenario.id, step: run.step }, "run interrupted by a restart");
        continue;
      }
      const finished = new Set(this.o.store.finishedSteps(run.run_id).keys());
      this.o.logger.info({ run_id: run.run_id, scenario: scenario.id, state: run.state, skipping: finished.size }, run.state === "running" ? "resuming run after a restart" : "re-queueing run after a restart");
      this.#admit({ runId: run.run_id, priority: run.priority, scenario, cause: undefined, correlationId: run.correlation_id, finished });
    }
  }

  #prune(): void {
    try {
      const n = this.o.store.prune(this.o.runsKept ?? DEFAULT_RUNS_KEPT);
      if (n > 0) this.o.logger.info({ runs: n }, "pruned old scenario runs");
    } catch (err) {
      this.o.logger.warn({ err }, "pruning old scenario runs failed");
    }
  }

  #armPrune(): TimerHandle {
    return this.o.clock.setTimer(() => {
      this.#prune();
      if (!this.#stopping) this.#pruneTimer = this.#armPrune();
    }, PRUNE_EVERY_MS);
  }

  /** scenario.run over the bus (other nodes, the root): reply scenario.run.result. */
  #onCommand(env: Envelope): void {
    const p = env.payload as { id: string; run_id?: string; ctx?: Record<string, unknown>; priority?: number; force?: boolean };
    let payload: Record<string, unknown>;
    try {
      const r = this.submit({
        id: p.id,
        trigger: "bus",
        cause: env,
        ...(p.run_id === undefined ? {} : { run_id: p.run_id }),
        ...(p.ctx === undefined ? {} : { ctx: p.ctx }),
        ...(p.priority === undefined ? {} : { priority: runPriorityOf(p.priority) }),
        ...(p.force === undefined ? {} : { force: p.force }),
        ...(env.headers.idempotency_key === undefined ? {} : { triggerKey: `bus:${env.headers.idempotency_key}` }),
      });
      payload = { ok: true, scenario_id: p.id, run_id: r.run_id, status: r.status };
    } catch (err) {
      const e = asAdaosError(err);
      payload = { ok: false, scenario_id: p.id, error: { code: e.code, message: e.message.slice(0, 2000) || e.code } };
    }
    if (env.headers.reply_to === undefined) return;
    try {
      this.o.bus.reply(env, { event_name: "scenario.run.result", version: 1, payload });
    } catch (err) {
      this.o.logger.warn({ err }, "replying to scenario.run failed");
    }
  }
}
