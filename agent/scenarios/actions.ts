/**
 * Doing one step action of a run: call (a bus request to a command; the reply's payload is the
 * result), publish, say (ui.say@1), notify (ui.notify@1), wait (the first matching envelope in the
 * run's mailbox), set (bag values) and sleep. Templates are evaluated here, against the run's
 * scope, at the moment the action runs.
 *
 * Every envelope a run sends carries the run's correlation_id, the trigger's id as causation_id
 * when there is one, and `idempotency_key: <scenario_id>/<run_id>/<step>` so a receiver can drop
 * the repeat of a resumed or retried step. A reply is a failure when it has an `error_code`
 * header or `ok: false` (the registry's result convention): StepFailedError carrying its code.
 * Every action honours the attempt's AbortSignal (cancel, step timeout, run timeout); its
 * `reason` is what the action rejects with. In dry_run, effectful actions and waits/sleeps are
 * simulated: nothing is sent and the result says what would have been.
 */
import type { Envelope, Priority } from "../../abi/envelope.js";
import { HEADER } from "../../abi/envelope.js";
import type { Bus } from "../bus/bus.js";
import type { Clock } from "../core/clock.js";
import { createEnvelope } from "../core/envelope.js";
import { StepFailedError } from "../core/errors.js";
import { clockSleep } from "../link/timing.js";
import { evaluateExpr, interpolate, interpolateDeep, type Scope } from "./expr.js";
import type { Mailbox } from "./mailbox.js";
import type { Action } from "./scenario.js";

export interface ActionDeps {
  readonly bus: Bus;
  readonly clock: Clock;
  /** The envelope source, e.g. `agent://hub/hub-1`. */
  readonly source: string;
  readonly tenant: string;
}

export interface ActionContext {
  /** `{ctx, bag, run}` of the run. */
  readonly scope: Scope;
  /** Aborted on cancel or timeout; the reason is the error to fail with. */
  readonly signal: AbortSignal;
  /** Epoch ms this attempt must end by (bounds bus requests and waits). */
  readonly deadline: number;
  readonly correlationId: string;
  readonly causationId?: string;
  readonly idempotencyKey: string;
  readonly priority: Priority;
  readonly mailbox: Mailbox;
  readonly dryRun: boolean;
  /** Bag values to set (the set action's output). */
  readonly setBag: (key: string, value: unknown) => void;
}

/** Events said and notified go out as these (abi/events/ui). */
const SAY = { event: "ui.say", version: 1 } as const;
const NOTIFY = { event: "ui.notify", version: 1 } as const;

export async function perform(action: Action, ax: ActionContext, deps: ActionDeps): Promise<unknown> {
  ax.signal.throwIfAborted();
  switch (action.kind) {
    case "set":
      for (const [key, value] of Object.entries(action.values)) ax.setBag(key, interpolateDeep(value, ax.scope));
      return null;
    case "sleep":
      if (ax.dryRun) return { simulated: "sleep", ms: action.ms };
      await clockSleep(deps.clock, action.ms, ax.signal);
      return null;
    case "say": {
      const payload = compact({ text: text(action.text, ax.scope), voice: action.voice, lang: action.lang });
      return send(SAY.event, SAY.version, payload, ax, deps);
    }
    case "notify": {
      const payload = compact({ text: text(action.text, ax.scope), level: action.level, title: action.title === undefined ? undefined : text(action.title, ax.scope) });
      return send(NOTIFY.event, NOTIFY.version, payload, ax, deps);
    }
    case "publish":
      return send(action.event, action.version, asObject(interpolateDeep(action.payload, ax.scope), action.event), ax, deps);
    case "call":
      return call(action.command, action.version, asObject(interpolateDeep(action.payload, ax.scope), action.command), action.target === undefined ? undefined : text(action.target, ax.scope), ax, deps);
    case "wait": {
      if (ax.dryRun) return { simulated: "wait", event: action.event };
      const filter = action.filter;
      const match = filter === undefined ? undefined : (env: Envelope): boolean => evaluateExpr(filter, { ...ax.scope, $: env }) === true;
      const env = await ax.mailbox.take({ event: action.event, ...(action.version === undefined ? {} : { version: action.version }) }, match, Math.min(action.timeout_ms, ax.deadline - deps.clock.now()), ax.signal);
      return env.payload;
    }
  }
}

function envelope(name: string, version: number, payload: object, ax: ActionContext, deps: ActionDeps, extra: Record<string, string> = {}, kind: "event" | "command" = "event"): Envelope<object> {
  return createEnvelope(
    {
      event_name: name,
      version,
      kind,
      payload,
      source: deps.source,
      tenant: deps.tenant,
      priority: ax.priority,
      correlation_id: ax.correlationId,
      ...(ax.causationId === undefined ? {} : { causation_id: ax.causationId }),
      headers: { [HEADER.idempotencyKey]: ax.idempotencyKey, ...extra },
    },
    deps.clock,
  );
}

function send(name: string, version: number, payload: object, ax: ActionContext, deps: ActionDeps): unknown {
  if (ax.dryRun) return { simulated: "publish", event: `${name}@${version}`, payload };
  const result = deps.bus.publish(envelope(name, version, payload, ax, deps));
  return { id: result.id, matched: result.matched };
}

async function call(command: string, version: number, payload: object, target: string | undefined, ax: ActionContext, deps: ActionDeps): Promise<unknown> {
  if (ax.dryRun) return { simulated: "call", command: `${command}@${version}`, payload, ...(target === undefined ? {} : { target }) };
  const request = envelope(command, version, payload, ax, deps, target === undefined ? {} : { [HEADER.target]: target }, "command");
  const timeoutMs = Math.max(1, ax.deadline - deps.clock.now());
  const reply = await abortable(deps.bus.request(request, { timeoutMs }), ax.signal);
  const failed = replyFailure(reply);
  if (failed !== undefined) throw new StepFailedError(`${command} answered with ${failed.code}: ${failed.message}`, { cause: failed });
  return reply.payload;
}

/** The error a reply reports, if it reports one. */
function replyFailure(reply: Envelope): { code: string; message: string } | undefined {
  const p = reply.payload as { ok?: unknown; error?: { code?: unknown; message?: unknown } };
  const header = reply.headers[HEADER.errorCode];
  if (p.ok !== false && header === undefined) return undefined;
  const code = typeof p.error?.code === "string" ? p.error.code : (header ?? "E_STEP_FAILED");
  const message = typeof p.error?.message === "string" ? p.error.message : "the reply says it failed";
  return { code, message };
}

function text(template: string, scope: Scope): string {
  const v = interpolate(template, scope);
  return typeof v === "string" ? v : JSON.stringify(v) ?? "";
}

function asObject(value: unknown, what: string): object {
  if (typeof value === "object" && value !== null && !Array.isArray(value)) return value;
  throw new StepFailedError(`the payload for ${what} is not an object after its templates were filled in`);
}

function compact(o: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));
}

/** Resolve with the promise, or reject with the signal's reason as soon as it aborts. */
export function abortable<T>(p: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason as Error);
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason as Error);
    signal.addEventListener("abort", onAbort, { once: true });
    p.then(
      (v) => { signal.removeEventListener("abort", onAbort); resolve(v); },
      (e: unknown) => { signal.removeEventListener("abort", onAbort); reject(e instanceof Error ? e : new Error(String(e))); },
    );
  });
}
