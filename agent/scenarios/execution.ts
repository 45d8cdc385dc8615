/**
 * An execution unit: one run of one scenario, with its own context (ctx, bag), its own mailbox and
 * its own cancel token (an AbortController the runner aborts with CancelledError on cancel or with
 * TimeoutError at the run's deadline). The unit walks the steps in order and journals every
 * attempt. Per step:
 *   - already finished in the journal (a resumed run): skipped, nothing repeated; its bag is the
 *     run's stored bag. This is the idempotency of step keys `<scenario_id>/<run_id>/<step>`; the
 *     same key goes out as the idempotency_key header, for receivers that dedup.
 *   - `when` false → journalled `skipped`.
 *   - its locks are taken (waiting in line, cancellable), then up to 1 + retries.max attempts,
 *     each bounded by the step's timeout and the run's deadline; between attempts
 *     backoff_ms · 2^(n−1), capped at MAX_BACKOFF_MS, on the clock. A cancel or run timeout stops
 *     the step at once and is never retried.
 *   - the locks are released whatever happened.
 * When a step finally fails, or the run is cancelled or times out, the finished effectful steps
 * that declare `compensate` are compensated, last first, each with its own bound
 * (COMPENSATION_TIMEOUT_MS) and never cancelled by the run's token: a compensation is the cleanup
 * a cancel asks for. A compensation that fails is journalled and the others still run.
 */
import type { Priority } from "../../abi/envelope.js";
import { TimeoutError, asAdaosError, type AdaosError } from "../core/errors.js";
import type { Logger } from "../core/logger.js";
import { evaluateExpr } from "./expr.js";
import { clockSleep } from "../link/timing.js";
import { perform, type ActionDeps } from "./actions.js";
import type { ResourceLocks } from "./locks.js";
import { Mailbox, type EventSelector } from "./mailbox.js";
import { EFFECTFUL, type Scenario, type Step } from "./scenario.js";
import type { RunState, StepStatus } from "./scenario-port.js";

/** Retries never wait longer than this between attempts. */
export const MAX_BACKOFF_MS = 60_000;
/** A compensation gets its own bound: the run's deadline may have passed already. */
export const COMPENSATION_TIMEOUT_MS = 30_000;

export interface RunError {
  readonly code: string;
  readonly message: string;
}

/** What the unit writes as it goes (RunStore implements it). */
export interface RunJournal {
  stepStarted(runId: string, step: string, attempt: number, at: number): void;
  stepFinished(runId: string, step: string, attempt: number, outcome: { state: Exclude<StepStatus["state"], "started">; at: number; result?: unknown; error?: RunError }): void;
  update(runId: string, patch: { step?: string | null; steps_done?: number; bag?: Record<string, unknown> }): void;
  /** Several writes in one commit (an SD card wears by the write; a Pi fsyncs slowly). */
  batch<T>(fn: () => T): T;
}

/** Told after every attempt, for metrics and the step-failure events. */
export interface StepObserver {
  (e: { readonly step: string; readonly attempt: number; readonly outcome: "ok" | "error" | "skipped" | "simulated"; readonly latencyMs: number; readonly error?: RunError; readonly willRetry: boolean }): void;
}

export interface UnitDeps extends ActionDeps {
  readonly journal: RunJournal;
  readonly locks: ResourceLocks;
  readonly logger: Logger;
  readonly observe?: StepObserver;
}

export interface UnitInput {
  readonly runId: string;
  readonly scenario: Scenario;
  readonly ctx: Readonly<Record<string, unknown>>;
  /** The bag a resumed run had; {} for a new one. */
  readonly bag: Record<string, unknown>;
  /** Steps already finished (resume): not run again. */
  readonly finished: ReadonlySet<string>;
  readonly dryRun: boolean;
  readonly correlationId: string;
  readonly causationId?: string;
  readonly priority: Priority;
  /** Epoch ms the whole run must end by. */
  readonly deadline: number;
}

export interface UnitOutcome {
  readonly state: Extract<RunState, "succeeded" | "failed" | "cancelled" | "timed_out">;
  readonly stepsDone: number;
  readonly error?: RunError;
}

export class ExecutionUnit {
  readonly mailbox: Mailbox;
  readonly #cancel = new AbortController();
  readonly #bag: Record<string, unknown>;
  #stepsDone = 0;
  /** Finished effectful steps with a compensation, in the order they finished. */
  readonly #toCompensate: Step[] = [];

  constructor(private readonly input: UnitInput, private readonly deps: UnitDeps) {
    this.#bag = { ...input.bag };
    this.mailbox = new Mailbox(deps.bus, deps.clock);
  }

  /** True once halt() was called: the run stops without compensating, to be resumed or marked interrupted. */
  #halted = false;

  /** The cancel token: abort with CancelledError (cancel) or TimeoutError (the run's deadline). */
  abort(reason: AdaosError): void {
    if (!this.#cancel.signal.aborted) this.#cancel.abort(reason);
  }

  /** Stop where it is without compensation (the agent is stopping; the run is resumed or marked interrupted). */
  halt(reason: AdaosError): void {
    this.#halted = true;
    this.abort(reason);
  }

  get aborted(): boolean {
    return this.#cancel.signal.aborted;
  }

  async run(): Promise<UnitOutcome> {
    const { scenario } = this.input;
    this.mailbox.open(waitSelectors(scenario));
    try {
      for (const step of scenario.steps) {
        if (this.input.finished.has(step.name)) {
          this.#stepsDone++;
          if (step.compensate !== undefined && EFFECTFUL.has(step.action.kind)) this.#toCompensate.push(step);
          continue;
        }
        this.#cancel.signal.throwIfAborted();
        await this.#step(step);
      }
      return { state: "succeeded", stepsDone: this.#stepsDone };
    } catch (err) {
      const e = asAdaosError(this.#cancel.signal.aborted ? this.#cancel.signal.reason : err);
      if (!this.#halted) await this.#compensate();
      const state = !this.#cancel.signal.aborted ? "failed" : e instanceof TimeoutError ? "timed_out" : "cancelled";
      return { state, stepsDone: this.#stepsDone, error: { code: e.code, message: e.message } };
    } finally {
      this.mailbox.close();
    }
  }

  #scope(attempt?: number): Record<string, unknown> {
    const run = { id: this.input.runId, scenario_id: this.input.scenario.id, ...(attempt === undefined ? {} : { attempt }) };
    return { ctx: this.input.ctx, bag: this.#bag, run };
  }

  async #step(step: Step): Promise<void> {
    const { journal, clock } = this.deps;
    const runId = this.input.runId;
    if (step.when !== undefined && evaluateExpr(step.when, this.#scope()) !== true) {
      journal.batch(() => {
        journal.update(runId, { step: step.name });
        journal.stepFinished(runId, step.name, 1, { state: "skipped", at: clock.now() });
        this.#finished();
      });
      this.deps.observe?.({ step: step.name, attempt: 1, outcome: "skipped", latencyMs: 0, willRetry: false });
      return;
    }
    const hold = await this.deps.locks.acquire(step.locks, this.#cancel.signal);
    try {
      await this.#attempts(step);
    } finally {
      hold.release();
    }
  }

  async #attempts(step: Step): Promise<void> {
    const { journal, clock } = this.deps;
    const runId = this.input.runId;
    const attempts = 1 + step.retries.max;
    for (let attempt = 1; ; attempt++) {
      const started = clock.now();
      journal.batch(() => {
        if (attempt === 1) journal.update(runId, { step: step.name });
        journal.stepStarted(runId, step.name, attempt, started);
      });
      try {
        const result = await this.#attempt(step, attempt);
        const state = this.input.dryRun && (EFFECTFUL.has(step.action.kind) || step.action.kind === "wait" || step.action.kind === "sleep") ? "simulated" : "ok";
        if (step.save_as !== undefined) this.#bag[step.save_as] = result;
        const at = clock.now();
        journal.batch(() => {
          journal.stepFinished(runId, step.name, attempt, { state, at, result: result ?? null });
          this.#finished();
        });
        this.deps.observe?.({ step: step.name, attempt, outcome: state, latencyMs: at - started, willRetry: false });
        if (step.compensate !== undefined && EFFECTFUL.has(step.action.kind)) this.#toCompensate.push(step);
        return;
      } catch (err) {
        const e = asAdaosError(err);
        const at = clock.now();
        const willRetry = attempt < attempts && !this.#cancel.signal.aborted;
        journal.stepFinished(runId, step.name, attempt, { state: "error", at, error: { code: e.code, message: e.message } });
        this.deps.observe?.({ step: step.name, attempt, outcome: "error", latencyMs: at - started, error: { code: e.code, message: e.message }, willRetry });
        if (!willRetry) throw e;
        this.deps.logger.info({ run_id: runId, step: step.name, attempt, code: e.code, err: e.message }, "step failed; retrying");
        await clockSleep(clock, Math.min(MAX_BACKOFF_MS, step.retries.backoff_ms * 2 ** (attempt - 1)), this.#cancel.signal);
      }
    }
  }

  /** One attempt, bounded by the step's timeout and the run's deadline, cancelled with the run. */
  async #attempt(step: Step, attempt: number): Promise<unknown> {
    const { clock } = this.deps;
    const bound = step.timeout_ms === undefined ? this.input.deadline : Math.min(this.input.deadline, clock.now() + step.timeout_ms);
    const ac = new AbortController();
    const onRun = (): void => ac.abort(this.#cancel.signal.reason);
    this.#cancel.signal.addEventListener("abort", onRun, { once: true });
    const timer = step.timeout_ms === undefined
      ? undefined
      : clock.setTimer(() => ac.abort(new TimeoutError(`step ${step.name} timed out after ${step.timeout_ms} ms`)), step.timeout_ms);
    try {
      return await perform(step.action, this.#actionContext(step, ac.signal, bound, attempt), this.deps);
    } finally {
      timer?.cancel();
      this.#cancel.signal.removeEventListener("abort", onRun);
    }
  }

  #actionContext(step: Step, signal: AbortSignal, deadline: number, attempt?: number): Parameters<typeof perform>[1] {
    const i = this.input;
    return {
      scope: this.#scope(attempt),
      signal,
      deadline,
      correlationId: i.correlationId,
      ...(i.causationId === undefined ? {} : { causationId: i.causationId }),
      idempotencyKey: `${i.scenario.id}/${i.runId}/${step.name}`,
      priority: i.priority,
      mailbox: this.mailbox,
      dryRun: i.dryRun,
      setBag: (key, value) => { this.#bag[key] = value; },
    };
  }

  #finished(): void {
    this.#stepsDone++;
    this.deps.journal.update(this.input.runId, { steps_done: this.#stepsDone, bag: this.#bag });
  }

  async #compensate(): Promise<void> {
    const { journal, clock, logger } = this.deps;
    for (const step of this.#toCompensate.splice(0).reverse()) {
      const compensate = step.compensate;
      if (compensate === undefined) continue;
      const ac = new AbortController();
      const timer = clock.setTimer(() => ac.abort(new TimeoutError(`compensation of ${step.name} timed out after ${COMPENSATION_TIMEOUT_MS} ms`)), COMPENSATION_TIMEOUT_MS);
      const started = clock.now();
      journal.stepStarted(this.input.runId, step.name, 0, started);
      let hold: { release(): void } | undefined;
      try {
        // The step's own locks, and tts for a spoken compensation: it must not talk over another run either.
        hold = await this.deps.locks.acquire(compensate.kind === "say" ? [...step.locks, "tts"] : step.locks, ac.signal);
        await perform(compensate, { ...this.#actionContext(step, ac.signal, started + COMPENSATION_TIMEOUT_MS), idempotencyKey: `${this.input.scenario.id}/${this.input.runId}/${step.name}/compensate` }, this.deps);
        journal.stepFinished(this.input.runId, step.name, 0, { state: "compensated", at: clock.now() });
      } catch (err) {
        const e = asAdaosError(err);
        logger.warn({ run_id: this.input.runId, step: step.name, code: e.code, err: e.message }, "compensation failed");
        journal.stepFinished(this.input.runId, step.name, 0, { state: "compensation_failed", at: clock.now(), error: { code: e.code, message: e.message } });
      } finally {
        hold?.release();
        timer.cancel();
      }
    }
  }
}

/** Every event a wait step (or a wait compensation) of the scenario may take: the mailbox subscribes to them for the run. */
function waitSelectors(scenario: Scenario): EventSelector[] {
  const out: EventSelector[] = [];
  for (const s of scenario.steps) {
    for (const a of [s.action, s.compensate]) {
      if (a?.kind === "wait") out.push({ event: a.event, ...(a.version === undefined ? {} : { version: a.version }) });
    }
  }
  return out;
}
