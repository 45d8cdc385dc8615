/**
 * What runs a plan step on the node it is bound to: one handler per capability the node declares
 * as runnable. A config capability with `tool: "<skill>:<tool>"` runs that skill tool with the
 * step's arguments (toolStep); drivers add their own handlers (display, tts, …).
 * A handler answers when the step has started (the ack the hub waits for within its SLA) with the
 * step's outputs, which the hub passes to the steps that depend on it.
 */
import type { LocalTools } from "../skills/skill-host.js";

export interface StepRequest {
  readonly run_id: string;
  readonly step_id: string;
  /** capability://… as the plan has it. */
  readonly need: string;
  readonly args: Readonly<Record<string, unknown>>;
  readonly attempt: number;
  readonly correlation_id: string;
}

export interface StepHandler {
  run(req: StepRequest, signal: AbortSignal): Promise<Readonly<Record<string, unknown>>>;
}

/** capability name (without capability://) → its handler. */
export type StepHandlers = ReadonlyMap<string, StepHandler>;

/** A skill tool as a step: arguments in, its JSON result out (an object as is, anything else as {result}). */
export function toolStep(tools: LocalTools, tool: string): StepHandler {
  return {
    async run(req) {
      const key = `${req.run_id}/${req.step_id}/${req.attempt}`;
      const answer = await tools.call({ tool, arguments: { ...req.args }, idempotency_key: key, request_id: key });
      const r = answer.result;
      return typeof r === "object" && r !== null && !Array.isArray(r) ? (r as Record<string, unknown>) : { result: r };
    },
  };
}
