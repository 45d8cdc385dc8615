/**
 * Plans and routing rules from untrusted input: a JSON body (POST /resolve, /exec) or a YAML file
 * (`adaos-edge resolve plan.yaml`, config resolver.routing). Checked against abi/plan.schema.json
 * and abi/routing.schema.json (ajv compiled at first use), then the hints and conditions are
 * parsed, the DAG checked (unique ids, known dependencies, no cycle) and the `${steps.<id>.…}`
 * templates of the arguments checked to name only steps the step depends on, so a bad plan fails here
 * with every problem and its pointer, not half-way through a run. A plan file may wrap the plan in
 * `plan:` as the seed writes it; `intent` and `directives` sit beside `steps`.
 */
import { readFileSync } from "node:fs";
import { Ajv2020, type ValidateFunction } from "ajv/dist/2020.js";
import planSchema from "../../abi/plan.schema.json" with { type: "json" };
import routingSchema from "../../abi/routing.schema.json" with { type: "json" };
import { BadRequestError, ConfigInvalidError, type Issue } from "../core/errors.js";
import { issuesFromAjv } from "../registry/issues.js";
import { checkTemplate, hasTemplate } from "../scenarios/expr.js";
import { Problems } from "../scenarios/load-problems.js";
import { parseYaml, readSource } from "../scenarios/load-source.js";
import { parseCondition, parseHint } from "./hints.js";
import { NO_RULES, type Constraints, type Plan, type PlanStep, type RoutingRules } from "./plan.js";
import { topoOrder } from "./resolve.js";

let validators: { plan: ValidateFunction; routing: ValidateFunction } | undefined;
function compiled(): { plan: ValidateFunction; routing: ValidateFunction } {
  if (validators === undefined) {
    const ajv = new Ajv2020({ allErrors: true, strict: true, allowUnionTypes: true });
    validators = { plan: ajv.compile(planSchema), routing: ajv.compile(routingSchema) };
  }
  return validators;
}

type Raw = Record<string, unknown>;

function fail(what: string, issues: readonly Issue[], E: typeof BadRequestError | typeof ConfigInvalidError): never {
  throw new E([`${what} (${issues.length} problem${issues.length === 1 ? "" : "s"})`, ...issues.map((i) => `${i.pointer} ${i.message}`)].join("\n"), { issues });
}

function check(fn: () => unknown, at: string, issues: Issue[]): void {
  try {
    fn();
  } catch (err) {
    issues.push({ pointer: at, message: (err as Error).message });
  }
}

function constraints(raw: unknown): Partial<Constraints> {
  const c = (raw ?? {}) as { policies?: Constraints["policies"]; data_residency?: Constraints["data_residency"] };
  return { ...(c.policies === undefined ? {} : { policies: c.policies }), ...(c.data_residency === undefined ? {} : { data_residency: c.data_residency }) };
}

const isRecord = (x: unknown): x is Raw => typeof x === "object" && x !== null && !Array.isArray(x);

/** `{plan: {steps}, intent, directives}` (the seed's form) → `{steps, intent, directives}`. */
function unwrap(value: unknown): unknown {
  if (!isRecord(value) || !isRecord(value.plan)) return value;
  const { plan, ...rest } = value;
  return { ...rest, ...plan };
}

/** A plan from a parsed JSON/YAML value; BadRequestError listing every problem. */
export function parsePlan(value: unknown, what = "the plan is invalid"): Plan {
  const v = unwrap(value) as Raw;
  const { plan: validate } = compiled();
  if (!validate(v)) fail(what, issuesFromAjv(validate.errors), BadRequestError);
  const issues: Issue[] = [];
  const rawSteps = v.steps as Raw[];
  const ids = new Set<string>();
  const steps: PlanStep[] = rawSteps.map((s, i) => {
    const id = s.id as string;
    if (ids.has(id)) issues.push({ pointer: `/steps/${i}/id`, message: `duplicate step id ${id}` });
    ids.add(id);
    if (typeof s.prefer === "string") check(() => parseHint(s.prefer as string), `/steps/${i}/prefer`, issues);
    const c = constraints(s.constraints);
    return {
      id,
      need: s.need as string,
      depends_on: (s.depends_on as string[] | undefined) ?? [],
      args: (s.args as Record<string, unknown> | undefined) ?? {},
      ...(typeof s.prefer === "string" ? { prefer: s.prefer } : {}),
      ...(Object.keys(c).length === 0 ? {} : { constraints: c }),
    };
  });
  check(() => topoOrder(steps), "/steps", issues);
  if (issues.length === 0) for (const [i, st] of steps.entries()) checkArgs(st, steps, `/steps/${i}/args`, issues);
  const d = v.directives as { prefer_agent?: string } | undefined;
  if (typeof d?.prefer_agent === "string" && d.prefer_agent !== "any") check(() => parseHint(d.prefer_agent as string), "/directives/prefer_agent", issues);
  if (issues.length > 0) fail(what, issues, BadRequestError);
  const c = constraints(v.constraints);
  const interpretation = v.intent === undefined && v.directives === undefined ? undefined : {
    ...(v.intent === undefined ? {} : { intent: { slots: {}, ...(v.intent as { name: string }) } }),
    ...(v.directives === undefined ? {} : { directives: v.directives as object }),
  };
  return {
    ...(typeof v.id === "string" ? { id: v.id } : {}),
    steps,
    constraints: { policies: c.policies ?? [], data_residency: c.data_residency ?? "cloud-ok" },
    ...(interpretation === undefined ? {} : { interpretation }),
  };
}

/** Steps a step may read outputs of: its dependencies and theirs. */
function ancestors(step: PlanStep, byId: ReadonlyMap<string, PlanStep>, seen = new Set<string>()): Set<string> {
  for (const d of step.depends_on) {
    if (seen.has(d)) continue;
    seen.add(d);
    const dep = byId.get(d);
    if (dep !== undefined) ancestors(dep, byId, seen);
  }
  return seen;
}

/** Every `${…}` in the arguments parses, and `steps.<id>` names a step this one depends on (else its outputs would not exist yet). */
function checkArgs(step: PlanStep, steps: readonly PlanStep[], at: string, issues: Issue[]): void {
  const before = ancestors(step, new Map(steps.map((x) => [x.id, x])));
  const walk = (v: unknown, pointer: string): void => {
    if (typeof v === "string") {
      if (!hasTemplate(v)) return;
      check(() => checkTemplate(v), pointer, issues);
      for (const m of v.matchAll(/\bsteps\.([a-z0-9][a-z0-9_-]*)/g)) {
        const id = m[1] ?? "";
        if (!before.has(id)) issues.push({ pointer, message: `steps.${id}: ${step.id} can only read the outputs of steps it depends on (${[...before].join(", ") || "none"})` });
      }
    } else if (Array.isArray(v)) v.forEach((x, i) => walk(x, `${pointer}/${i}`));
    else if (isRecord(v)) for (const [k, x] of Object.entries(v)) walk(x, `${pointer}/${k.replaceAll("~", "~0").replaceAll("/", "~1")}`);
  };
  walk(step.args, at);
}

/** A plan from YAML (or JSON) text. */
export function parsePlanText(text: string, name: string): Plan {
  const problems = new Problems();
  const value = parseYaml(text, "", problems);
  if (problems.count > 0) fail(`${name}: not valid YAML`, problems.sorted(), BadRequestError);
  return parsePlan(value, `${name}: the plan is invalid`);
}

/** Routing rules from a parsed value; ConfigInvalidError listing every problem. */
export function parseRouting(value: unknown, what = "the routing rules are invalid"): RoutingRules {
  const { routing: validate } = compiled();
  if (!validate(value)) fail(what, issuesFromAjv(validate.errors), ConfigInvalidError);
  const v = value as { defaults?: unknown; routing?: { prefer?: Record<string, string>; forbid?: Record<string, string | string[]> }; overrides?: RoutingRules["overrides"] };
  const issues: Issue[] = [];
  const prefer = v.routing?.prefer ?? {};
  for (const [k, h] of Object.entries(prefer)) check(() => parseHint(h), `/routing/prefer/${k}`, issues);
  const forbid: Record<string, string[]> = {};
  for (const [k, c] of Object.entries(v.routing?.forbid ?? {})) {
    forbid[k] = Array.isArray(c) ? c : [c];
    forbid[k].forEach((x, i) => check(() => parseCondition(x), `/routing/forbid/${k}${Array.isArray(c) ? `/${i}` : ""}`, issues));
  }
  if (issues.length > 0) fail(what, issues, ConfigInvalidError);
  return { defaults: constraints(v.defaults), prefer, forbid, overrides: v.overrides ?? [] };
}

/** config resolver.routing: the file's rules, or none when the path is null. */
export function loadRouting(path: string | null): RoutingRules {
  if (path === null) return NO_RULES;
  const src = readSource(path, (p) => readFileSync(p, "utf8"));
  if (!src.ok) throw new ConfigInvalidError(`resolver.routing: ${src.message}`);
  const problems = new Problems();
  const value = parseYaml(src.text, "", problems);
  if (problems.count > 0) fail(`${path}: not valid YAML`, problems.sorted(), ConfigInvalidError);
  return parseRouting(value, `${path}: the routing rules are invalid`);
}
