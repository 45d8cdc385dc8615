/**
 * The steps of a scenario (includes already expanded) as the model's Steps: exactly one action
 * each, names unique, retries always present (a number N means {max: N, backoff: 1s}), locks
 * always a sorted list without repeats (a say step always holds "tts"), durations in ms, `when`
 * compiled. A compensation is one action in the same forms, and only effectful steps (call,
 * publish, say, notify) have one: the runner compensates nothing else.
 */
import { EFFECTFUL, type Action, type Retries, type Step } from "./scenario.js";
import { buildAction, type ActionSite } from "./load-actions.js";
import { isRecord, pointer, type Problems } from "./load-problems.js";
import type { Located } from "./load-include.js";
import { ACTION_KEYS, type ActionKey } from "./load-schema.js";
import { checkExpression, durationAt } from "./load-values.js";

export const DEFAULT_RETRIES: Retries = { max: 0, backoff_ms: 1_000 };
/** A say step holds this lock, so two runs never talk over each other. */
export const TTS_LOCK = "tts";

const ACTION_LIST = ACTION_KEYS.join(", ");
const EFFECTFUL_LIST = [...EFFECTFUL].join(", ");

export interface BuiltSteps {
  readonly steps: Step[];
  /** Every action and compensation, for the catalog and effects checks. */
  readonly sites: ActionSite[];
}

export function buildSteps(located: readonly Located[], problems: Problems): BuiltSteps {
  const steps: Step[] = [];
  const sites: ActionSite[] = [];
  const names = new Map<string, string>();
  for (const { value, at } of located) {
    if (!isRecord(value)) continue;
    if (typeof value.name === "string") {
      const first = names.get(value.name);
      if (first === undefined) names.set(value.name, at);
      else problems.add(pointer(at, "name"), `duplicate step name "${value.name}" (first at ${first})`);
    }
    const step = buildStep(value, at, problems, sites);
    if (step !== undefined) steps.push(step);
  }
  return { steps, sites };
}

/** The one action key of a step or compensation, or undefined with an issue. */
function actionKey(raw: Record<string, unknown>, at: string, what: string, problems: Problems): ActionKey | undefined {
  const keys = ACTION_KEYS.filter((k) => Object.hasOwn(raw, k));
  if (keys.length === 1) return keys[0];
  problems.add(at, keys.length === 0
    ? `${what} has no action: give one of ${ACTION_LIST}`
    : `${what} has ${keys.length} actions (${keys.join(", ")}); it must have exactly one`);
  return undefined;
}

function located(key: ActionKey, raw: unknown, at: string, problems: Problems, sites: ActionSite[]): Action | undefined {
  const action = buildAction(key, raw, at, problems);
  if (action !== undefined) sites.push({ action, at, short: typeof raw === "string" });
  return action;
}

function buildStep(raw: Record<string, unknown>, at: string, problems: Problems, sites: ActionSite[]): Step | undefined {
  const key = actionKey(raw, at, "a step", problems);
  const action = key === undefined ? undefined : located(key, raw[key], pointer(at, key), problems, sites);
  const timeout = raw.timeout === undefined ? undefined : durationAt(raw.timeout, pointer(at, "timeout"), "timeout", problems, { positive: true });
  const retries = buildRetries(raw.retries, pointer(at, "retries"), problems);
  const compensate = buildCompensation(raw.compensate, pointer(at, "compensate"), key, problems, sites);
  checkExpression(raw.when, pointer(at, "when"), problems);
  const locks = new Set(Array.isArray(raw.locks) ? raw.locks.filter((l) => typeof l === "string") : []);
  if (action?.kind === "say") locks.add(TTS_LOCK);
  const { name, save_as, when } = raw;
  if (typeof name !== "string" || action === undefined || retries === undefined) return undefined;
  return {
    name,
    action,
    ...(timeout === undefined ? {} : { timeout_ms: timeout }),
    retries,
    ...(compensate === undefined ? {} : { compensate }),
    locks: [...locks].sort(),
    ...(typeof save_as === "string" ? { save_as } : {}),
    ...(typeof when === "string" ? { when } : {}),
  };
}

function buildRetries(raw: unknown, at: string, problems: Problems): Retries | undefined {
  if (raw === undefined) return DEFAULT_RETRIES;
  if (typeof raw === "number") return Number.isInteger(raw) ? { max: raw, backoff_ms: DEFAULT_RETRIES.backoff_ms } : undefined;
  if (!isRecord(raw)) return undefined;
  const max = raw.max ?? DEFAULT_RETRIES.max;
  const backoff = raw.backoff === undefined ? DEFAULT_RETRIES.backoff_ms : durationAt(raw.backoff, pointer(at, "backoff"), "backoff", problems);
  return typeof max === "number" && backoff !== undefined ? { max, backoff_ms: backoff } : undefined;
}

function buildCompensation(raw: unknown, at: string, of: ActionKey | undefined, problems: Problems, sites: ActionSite[]): Action | undefined {
  if (!isRecord(raw)) return undefined;
  if (of !== undefined && !EFFECTFUL.has(of)) {
    problems.add(at, `only effectful steps (${EFFECTFUL_LIST}) are compensated; a ${of} step never would be`);
  }
  const key = actionKey(raw, at, "compensate", problems);
  return key === undefined ? undefined : located(key, raw[key], pointer(at, key), problems, sites);
}
