/**
 * The executing end of a plan, on every node: answers plan.step.exec commands addressed to this
 * node (headers.target = its id, or `hub` on the hub). Before anything runs it verifies the
 * hub's exec_token for exactly this node, run, step and capability, and that the arguments are
 * the ones the hub signed (claims.slots.args_sha256); a missing, malformed, tampered, expired or
 * wrong-scope token is refused with E_UNAUTHORIZED and nothing runs. Then the capability's
 * handler runs (step-handler.ts); no handler is E_NOT_FOUND naming the ones this node has.
 *
 * A repeat of the same run/step/attempt (an at-least-once redelivery) gets the first answer
 * without running again, from a cache of the last ANSWER_CACHE_MAX answers.
 */
import type { Envelope } from "../../abi/envelope.js";
import { HEADER } from "../../abi/envelope.js";
import { HUB_ALIAS } from "../bridge/routes.js";
import type { Bus, Subscription } from "../bus/bus.js";
import type { Clock } from "../core/clock.js";
import type { Component } from "../core/component.js";
import { NotFoundError, UnauthorizedError, asAdaosError } from "../core/errors.js";
import type { Logger } from "../core/logger.js";
import type { Counter, MetricsRegistry } from "../core/metrics.js";
import { verifyExecToken } from "../resolver/exec-token.js";
import { capName } from "../resolver/plan.js";
import { argsDigest, type StepExecPayload, type StepResultPayload } from "./step-protocol.js";
import type { StepHandlers } from "./step-handler.js";

/** Redeliveries come within seconds; a few hundred answers cover every run in flight on a node. */
export const ANSWER_CACHE_MAX = 256;

export interface StepServerOptions {
  readonly bus: Bus;
  readonly nodeId: string;
  readonly isHub: boolean;
  /** execTokenKey(subnet token). */
  readonly key: Buffer;
  readonly handlers: StepHandlers;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly metrics: MetricsRegistry;
}

export class StepServer implements Component {
  readonly name = "plan.steps";
  #sub: Subscription | undefined;
  readonly #answers = new Map<string, Promise<StepResultPayload>>();
  readonly #abort = new AbortController();
  readonly #steps: Counter;

  constructor(private readonly opts: StepServerOptions) {
    this.#steps = opts.metrics.counter("adaos_plan_steps_served_total", "plan.step.exec commands this node answered, by outcome (ok, refused, failed).");
  }

  start(signal: AbortSignal): Promise<void> {
    signal.throwIfAborted();
    this.#sub = this.opts.bus.subscribe("plan.step.exec", (e) => this.#serve(e));
    return Promise.resolve();
  }

  stop(): Promise<void> {
    this.#sub?.unsubscribe();
    this.#sub = undefined;
    this.#abort.abort(new Error("the node is stopping"));
    return Promise.resolve();
  }

  async #serve(e: Envelope): Promise<void> {
    if (e.kind !== "command") return;
    const target = e.headers[HEADER.target];
    if (target !== this.opts.nodeId && !(this.opts.isHub && (target === HUB_ALIAS || target === undefined))) return;
    const p = e.payload as unknown as StepExecPayload;
    // The token first, always: a cached answer goes only to a request the hub signed for this step.
    const refused = this.#refusal(e, p);
    const key = `${p.run_id}/${p.step_id}/${p.attempt ?? 1}`;
    let answer = refused === undefined ? this.#answers.get(key) : Promise.resolve(refused);
    if (answer === undefined) {
      answer = this.#run(e, p);
      this.#answers.set(key, answer);
      if (this.#answers.size > ANSWER_CACHE_MAX) this.#answers.delete(this.#answers.keys().next().value as string);
    }
    const payload = await answer;
    try {
      this.opts.bus.reply(e, { event_name: "plan.step.exec.result", version: 1, payload: { ...payload } });
    } catch (err) {
      this.opts.logger.warn({ err, run_id: p.run_id, step: p.step_id }, "could not answer plan.step.exec");
    }
  }

  #refusal(e: Envelope, p: StepExecPayload): StepResultPayload | undefined {
    try {
      const claims = verifyExecToken(e.headers[HEADER.execToken], this.opts.key, { node: this.opts.nodeId, run: p.run_id, step: p.step_id, cap: capName(p.need) }, this.opts.clock.now());
      if (claims.slots?.args_sha256 !== argsDigest(p.args)) throw new UnauthorizedError("the step's arguments are not the ones the hub signed (exec_token slots.args_sha256)");
      return undefined;
    } catch (err) {
      this.#steps.inc({ outcome: "refused" });
      const { code, message } = asAdaosError(err);
      this.opts.logger.warn({ run_id: p.run_id, step: p.step_id, source: e.source, reason: message }, "plan step refused");
      return { run_id: p.run_id, step_id: p.step_id, node_id: this.opts.nodeId, ok: false, error: { code, message } };
    }
  }

  async #run(e: Envelope, p: StepExecPayload): Promise<StepResultPayload> {
    const base = { run_id: p.run_id, step_id: p.step_id, node_id: this.opts.nodeId };
    const cap = capName(p.need);
    const handler = this.opts.handlers.get(cap);
    try {
      if (handler === undefined) {
        const have = [...this.opts.handlers.keys()];
        throw new NotFoundError(`this node has no handler for capability://${cap}${have.length === 0 ? " (it runs no plan steps)" : `; it runs ${have.map((c) => `capability://${c}`).join(", ")}`}`);
      }
      const outputs = await handler.run({ run_id: p.run_id, step_id: p.step_id, need: p.need, args: p.args, attempt: p.attempt ?? 1, correlation_id: e.correlation_id }, this.#abort.signal);
      this.#steps.inc({ outcome: "ok" });
      return { ...base, ok: true, outputs: { ...outputs } };
    } catch (err) {
      this.#steps.inc({ outcome: "failed" });
      const { code, message } = asAdaosError(err);
      this.opts.logger.warn({ run_id: p.run_id, step: p.step_id, code, reason: message }, "plan step failed");
      return { ...base, ok: false, error: { code, message: message.slice(0, 2000) } };
    }
  }
}
