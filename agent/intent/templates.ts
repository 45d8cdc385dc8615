/**
 * Plan templates of the intent rules: `planFor(intent, slots)` builds the plan (abi/plan.schema.json)
 * an intent stands for, with every `${slots.<name>}` in its step args replaced by the slot's value
 * and every other `${…}` (`${steps.find.item_id}`) left for the plan runtime.
 *
 * Rules:
 * - Only the exact form `${slots.<name>}` is a slot reference; `$${` is a literal `${` (as in
 *   agent/scenarios/expr.ts), so a value that contains `${` is written back as `$${` and stays text.
 * - A string that is just `${slots.x}` becomes the value; inside longer text the value is joined in.
 * - The plan gets `id` (the template's, else its name) and `intent: {name, slots, confidence?}`;
 *   the loader (rules-load.ts) has already checked the template with parsePlan.
 * - An intent without a plan gives undefined; an unknown intent or a slot the plan needs but
 *   was not given is a BadRequestError.
 */
import { BadRequestError } from "../core/errors.js";
import type { IntentRules } from "./rules-load.js";

/** `${slots.<name>}` not preceded by `$` (which would make it the literal text). */
const SLOT_REF = /(?<!\$)\$\{slots\.([a-z][a-z0-9_]{0,63})\}/g;
/** A `${…}` part that still mentions slots once the exact references are gone. */
const OTHER_SLOT_USE = /(?<!\$)\$\{[^}]*\bslots\b/;

export type Slots = Readonly<Record<string, string>>;

/** A plan as abi/plan.schema.json has it, ready for POST /resolve or /exec. */
export interface PlanDocument {
  readonly id: string;
  readonly steps: readonly unknown[];
  readonly intent: { readonly name: string; readonly slots: Slots; readonly confidence?: number };
  readonly [field: string]: unknown;
}

export interface PlanTemplates {
  planFor(intent: string, slots: Slots, confidence?: number): PlanDocument | undefined;
}

/** The slot names a string refers to, in order (repeats kept). */
export function slotRefs(s: string): string[] {
  return [...s.matchAll(SLOT_REF)].map((m) => m[1] ?? "");
}

/** True when the string uses slots in some other form than `${slots.<name>}` (an expression). */
export function hasOtherSlotUse(s: string): boolean {
  return OTHER_SLOT_USE.test(s.replace(SLOT_REF, ""));
}

/** Every string inside `value` with its slot references replaced by `valueOf(name)`. */
export function fillSlots(value: unknown, valueOf: (name: string) => string): unknown {
  if (typeof value === "string") return value.replace(SLOT_REF, (_m, name: string) => valueOf(name).replaceAll("${", () => "$${"));
  if (Array.isArray(value)) return value.map((x) => fillSlots(x, valueOf));
  if (typeof value === "object" && value !== null) return Object.fromEntries(Object.entries(value).map(([k, x]) => [k, fillSlots(x, valueOf)]));
  return value;
}

export function planTemplates(rules: IntentRules): PlanTemplates {
  return {
    planFor(intent, slots, confidence) {
      const rule = rules.intents.get(intent);
      if (rule === undefined) throw new BadRequestError(`no intent ${intent} in the intent rules (known: ${[...rules.intents.keys()].join(", ")})`);
      if (rule.plan === undefined) return undefined;
      const template = rules.plans.get(rule.plan);
      if (template === undefined) throw new BadRequestError(`intent ${intent} names plan ${rule.plan}, which the rules do not have`);
      const filled = fillSlots(template, (name) => {
        const v = slots[name];
        if (v === undefined) throw new BadRequestError(`plan ${rule.plan} needs slot ${name}, which was not given (given: ${Object.keys(slots).join(", ") || "none"})`);
        return v;
      }) as Record<string, unknown>;
      return {
        ...filled,
        id: typeof filled.id === "string" ? filled.id : rule.plan,
        steps: filled.steps as unknown[],
        intent: { name: intent, slots: { ...slots }, ...(confidence === undefined ? {} : { confidence }) },
      };
    },
  };
}
