/**
 * The shape check of a scenario file against abi/scenario.schema.json (ajv, compiled once at first
 * use), for the whole file or for one fragment's list of steps. The schema says "exactly one
 * action per step" and "one kind per trigger" with oneOf/if-then; ajv reports a miss of those as a
 * dozen errors, so they are dropped here and the loader says it once, in its own words
 * (load-steps.ts, load-triggers.ts). `if` errors ("must match then schema") add nothing and go too;
 * a key refused by propertyNames is reported at the key, not at the object holding it.
 */
import { Ajv2020, type ErrorObject, type ValidateFunction } from "ajv/dist/2020.js";
import schema from "../../abi/scenario.schema.json" with { type: "json" };
import { issuesFromAjv } from "../registry/issues.js";
import { isRecord, type Problems } from "./load-problems.js";

/** The keys of a step or compensation that are its action, in the order messages list them. */
export const ACTION_KEYS = ["call", "publish", "say", "notify", "wait", "set", "sleep"] as const;
export type ActionKey = (typeof ACTION_KEYS)[number];
export const TRIGGER_KINDS = ["event", "cron", "at", "interval"] as const;
export type TriggerKind = (typeof TRIGGER_KINDS)[number];

const ACTIONS: ReadonlySet<string> = new Set(ACTION_KEYS);

interface Validators {
  readonly scenario: ValidateFunction;
  readonly steps: ValidateFunction;
}

let compiled: Validators | undefined;

function validators(): Validators {
  if (compiled === undefined) {
    // Strict draft 2020-12, every error, nothing added to the data. Union types are how a value
    // takes a short and a long form ("say: text" or "say: {text, voice}"); strictRequired is off
    // because oneOf/if name keys that the enclosing schema's properties define.
    const ajv = new Ajv2020({ allErrors: true, strict: true, strictRequired: false, allowUnionTypes: true });
    ajv.addSchema(schema);
    const scenario = ajv.getSchema(schema.$id);
    const steps = ajv.getSchema(`${schema.$id}#/$defs/step_list`);
    if (scenario === undefined || steps === undefined) throw new Error("abi/scenario.schema.json has no step_list definition");
    compiled = { scenario, steps };
  }
  return compiled;
}

/** The trigger kinds present in a trigger object. */
export function triggerKinds(t: Record<string, unknown>): TriggerKind[] {
  return TRIGGER_KINDS.filter((k) => Object.hasOwn(t, k));
}

/** Instance paths of triggers that do not have exactly one kind: the loader reports those itself. */
function ambiguousTriggers(value: unknown): Set<string> {
  const out = new Set<string>();
  const triggers = isRecord(value) ? value.triggers : undefined;
  if (!Array.isArray(triggers)) return out;
  triggers.forEach((t, i) => {
    if (isRecord(t) && triggerKinds(t).length !== 1) out.add(`/triggers/${i}`);
  });
  return out;
}

function redundant(e: ErrorObject, ambiguous: ReadonlySet<string>): boolean {
  if (e.keyword === "if" || e.keyword === "oneOf") return true;
  if (e.keyword === "required" && typeof e.params.missingProperty === "string" && ACTIONS.has(e.params.missingProperty)) return true;
  return ambiguous.has(e.instancePath);
}

/** A bad key (propertyNames): reported at the key itself, saying it is the key that is wrong. */
function atKey(e: ErrorObject): ErrorObject {
  const name = (e as ErrorObject & { propertyName?: unknown }).propertyName;
  if (typeof name !== "string") return e;
  const token = name.replace(/~/g, "~0").replace(/\//g, "~1");
  return { ...e, instancePath: `${e.instancePath}/${token}`, message: `key ${JSON.stringify(name)} ${e.message ?? "is not valid"}` };
}

/** Check a whole scenario file (`what` "scenario") or one fragment's steps; issues go to `problems` under `base`. */
export function checkShape(value: unknown, what: "scenario" | "steps", base: string, problems: Problems): void {
  const validate = validators()[what];
  if (validate(value)) return;
  const ambiguous = what === "scenario" ? ambiguousTriggers(value) : new Set<string>();
  const errors = (validate.errors ?? []).filter((e) => e.keyword !== "propertyNames" && !redundant(e, ambiguous)).map(atKey);
  problems.schema(issuesFromAjv(errors, base));
}
