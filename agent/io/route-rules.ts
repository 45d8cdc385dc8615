/**
 * route_rules.yaml: where ui.notify and ui.say go (abi/route-rules.schema.json, docs/io-routing.md).
 *
 * Rules of this file:
 * - The file is untrusted input: at most MAX_RULES_BYTES, one YAML 1.2 document (core schema, no
 *   custom tags, no merge keys, no duplicate keys, at most MAX_ALIASES aliases), then the schema
 *   (ajv, compiled once at first use). Every problem is an issue with a JSON pointer; a file with
 *   any is a ConfigInvalidError whose message has one "pointer message" line per issue.
 * - Both upstream forms (one rule at the top level; `version: 1` with `rules`) normalise to one
 *   shape, {rules: [{match, target: {node_id, io_type}, priority}]}, sorted by priority, highest
 *   first, file order among equals. io_type stdout is the console; io_types the router does not
 *   know are left out and reported in `skipped` (the router logs them), so upstream files load.
 * - A missing file means the defaults: everything to this node's console and this node's TTS.
 * - pickRule is pure: the first rule of the event's io_type whose match holds. Every key of a
 *   match must hold; {} holds for all. An envelope that names its own payload.target is decided
 *   only by rules whose match names a target too (they redirect it); other rules leave it alone.
 */
import { readFileSync, statSync } from "node:fs";
import { Ajv2020, type ValidateFunction } from "ajv/dist/2020.js";
import { LineCounter, parseDocument, type YAMLError } from "yaml";
import type { Envelope } from "../../abi/envelope.js";
import schema from "../../abi/route-rules.schema.json" with { type: "json" };
import { matches, patternTokens, subjectTokens } from "../bus/subject.js";
import { AdaosError, ConfigInvalidError, ConfigReadError, type Issue } from "../core/errors.js";
import { issuesFromAjv } from "../registry/issues.js";
import { compileExpr } from "../scenarios/expr.js";

/** A routing table is a few dozen lines; anything this big is a mistake or an attack. */
export const MAX_RULES_BYTES = 64 * 1024;
/** Enough for a shared match block; far below what expands into a memory problem. */
const MAX_ALIASES = 32;
/** Priority of a rule that gives none (the value upstream examples use). */
export const DEFAULT_RULE_PRIORITY = 50;
/** The node reading the file. */
export const THIS_NODE = "this";

/** The sinks the router knows: the console print (ui.notify) and text-to-speech (ui.say). */
export type IoType = "console" | "say";
/** io_type names in a file → the sink; stdout is upstream's name of the console. */
const IO_TYPE_NAMES: ReadonlyMap<string, IoType> = new Map([["stdout", "console"], ["console", "console"], ["say", "say"]]);

export interface RouteMatch {
  readonly event?: string;
  readonly level?: string;
  readonly origin?: string;
  readonly target?: string;
  readonly text_contains?: string;
  readonly when?: string;
}

export interface RouteRule {
  readonly match: RouteMatch;
  readonly target: { readonly node_id: string; readonly io_type: IoType };
  readonly priority: number;
}

export interface RouteRules {
  readonly rules: readonly RouteRule[];
}

export interface LoadedRouteRules extends RouteRules {
  /** The file read; null for the defaults. */
  readonly source: string | null;
  /** Rules left out because their io_type is not one the router knows. */
  readonly skipped: readonly Issue[];
}

export const DEFAULT_ROUTE_RULES: RouteRules = deepFreeze({
  rules: [
    { match: {}, target: { node_id: THIS_NODE, io_type: "console" }, priority: 0 },
    { match: {}, target: { node_id: THIS_NODE, io_type: "say" }, priority: 0 },
  ],
});

/** The file's shape once the schema passed. */
interface RawTarget {
  readonly node_id: string;
  readonly io_type: string;
}
interface RawRule {
  readonly match?: RouteMatch;
  readonly target: RawTarget;
  readonly priority?: number;
}
type RawFile = (RawTarget & { readonly priority?: number }) | { readonly version?: 1; readonly rules: readonly RawRule[] };

let compiled: ValidateFunction | undefined;

function validator(): ValidateFunction {
  compiled ??= new Ajv2020({ allErrors: true, strict: true }).compile(schema);
  return compiled;
}

/** The rules in `path`; null or a missing file: the defaults. */
export function loadRouteRules(path: string | null): LoadedRouteRules {
  if (path === null) return defaults();
  let text: string;
  try {
    const stat = statSync(path);
    if (!stat.isFile()) throw new ConfigReadError(`${path}: cannot read the route rules: not a file`);
    if (stat.size > MAX_RULES_BYTES) throw invalid(path, [{ pointer: "/", message: tooLarge(stat.size) }]);
    text = readFileSync(path, "utf8");
  } catch (err) {
    if (err instanceof AdaosError) throw err;
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return defaults();
    throw new ConfigReadError(`${path}: cannot read the route rules: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
  return parseRouteRules(text, path);
}

/** Parse, check and normalise a route_rules.yaml text; `label` names it in the error. */
export function parseRouteRules(text: string, label: string): LoadedRouteRules {
  const bytes = Buffer.byteLength(text, "utf8");
  if (bytes > MAX_RULES_BYTES) throw invalid(label, [{ pointer: "/", message: tooLarge(bytes) }]);
  const value = parseYaml(text, label);
  const validate = validator();
  // `if` only says which form was tried; the form's own errors follow it.
  if (!validate(value)) throw invalid(label, issuesFromAjv((validate.errors ?? []).filter((e) => e.keyword !== "if")));
  return normalise(value as RawFile, label);
}

function parseYaml(text: string, label: string): unknown {
  const lines = new LineCounter();
  const doc = parseDocument(text, { version: "1.2", schema: "core", merge: false, uniqueKeys: true, strict: true, prettyErrors: false, lineCounter: lines });
  const where = (e: YAMLError): string => {
    const { line, col } = lines.linePos(e.pos[0]);
    return `line ${line}, column ${col}`;
  };
  const issues: Issue[] = [
    ...doc.errors.map((e) => ({ pointer: "/", message: `YAML syntax error at ${where(e)}: ${e.message}` })),
    ...doc.warnings.map((w) => ({ pointer: "/", message: `YAML problem at ${where(w)}: ${w.message}` })),
  ];
  if (issues.length > 0) throw invalid(label, issues);
  try {
    return doc.toJS({ maxAliasCount: MAX_ALIASES });
  } catch (err) {
    throw invalid(label, [{ pointer: "/", message: `YAML cannot be read: ${err instanceof Error ? err.message : String(err)} (at most ${MAX_ALIASES} aliases)` }]);
  }
}

function normalise(file: RawFile, label: string): LoadedRouteRules {
  const raw: { rule: RawRule; at: string; targetAt: string }[] =
    "rules" in file
      ? file.rules.map((rule, i) => ({ rule, at: `/rules/${i}`, targetAt: `/rules/${i}/target` }))
      : [{ rule: { target: file, ...(file.priority === undefined ? {} : { priority: file.priority }) }, at: "", targetAt: "" }];
  const issues: Issue[] = [];
  const skipped: Issue[] = [];
  const rules: RouteRule[] = [];
  for (const { rule, at, targetAt } of raw) {
    const ioType = IO_TYPE_NAMES.get(rule.target.io_type);
    const priority = rule.priority ?? DEFAULT_RULE_PRIORITY;
    const match = rule.match ?? {};
    if (!Number.isFinite(priority)) issues.push({ pointer: `${at}/priority`, message: "must be a finite number" });
    if (match.event !== undefined) check(issues, `${at}/match/event`, () => patternTokens(match.event ?? ""));
    if (match.when !== undefined) check(issues, `${at}/match/when`, () => compileExpr(match.when ?? ""));
    if (ioType === undefined) {
      skipped.push({ pointer: `${targetAt}/io_type`, message: `io_type "${rule.target.io_type}" is not one the router knows (${[...IO_TYPE_NAMES.keys()].join(", ")}); rule skipped` });
      continue;
    }
    rules.push({ match: { ...match }, target: { node_id: rule.target.node_id, io_type: ioType }, priority });
  }
  if (issues.length > 0) throw invalid(label, issues);
  // Array.prototype.sort is stable: equal priorities keep their order in the file.
  rules.sort((a, b) => b.priority - a.priority);
  return deepFreeze({ rules, source: label, skipped });
}

function check(issues: Issue[], pointer: string, fn: () => unknown): void {
  try {
    fn();
  } catch (err) {
    if (!(err instanceof AdaosError)) throw err;
    issues.push({ pointer, message: err.message });
  }
}

/**
 * The rule that decides where `envelope` goes as `ioType`, or undefined when none does (the
 * router then uses payload.target, else this node). onWhenError hears of `when` expressions that
 * could not be evaluated on this envelope (such a match does not hold).
 */
export function pickRule(rules: RouteRules, envelope: Envelope, ioType: IoType, onWhenError?: (rule: RouteRule, err: unknown) => void): RouteRule | undefined {
  const targeted = typeof envelope.payload.target === "string";
  for (const rule of rules.rules) {
    if (rule.target.io_type !== ioType) continue;
    if (targeted && rule.match.target === undefined) continue;
    if (matchHolds(rule, envelope, onWhenError)) return rule;
  }
  return undefined;
}

function matchHolds(rule: RouteRule, env: Envelope, onWhenError: ((rule: RouteRule, err: unknown) => void) | undefined): boolean {
  const m = rule.match;
  const p = env.payload;
  if (m.event !== undefined && !eventMatches(m.event, env.event_name)) return false;
  if (m.level !== undefined && levelOf(env) !== m.level) return false;
  if (m.origin !== undefined && p.origin !== m.origin) return false;
  if (m.target !== undefined && p.target !== m.target) return false;
  if (m.text_contains !== undefined && !(typeof p.text === "string" && p.text.toLowerCase().includes(m.text_contains.toLowerCase()))) return false;
  if (m.when === undefined) return true;
  try {
    return compileExpr(m.when).evaluate({ $: env }) === true;
  } catch (err) {
    onWhenError?.(rule, err);
    return false;
  }
}

function eventMatches(pattern: string, eventName: string): boolean {
  try {
    return matches(patternTokens(pattern), subjectTokens(eventName));
  } catch {
    return false;
  }
}

/** payload.level; a notification without one is info (its schema's default). */
function levelOf(env: Envelope): unknown {
  if (env.payload.level !== undefined) return env.payload.level;
  return env.event_name === "ui.notify" ? "info" : undefined;
}

function defaults(): LoadedRouteRules {
  return { rules: DEFAULT_ROUTE_RULES.rules, source: null, skipped: [] };
}

function tooLarge(bytes: number): string {
  return `the file is ${Math.ceil(bytes / 1024)} KiB, more than the ${MAX_RULES_BYTES / 1024} KiB route rules may have`;
}

/** The error for a file with problems: the file, then one `pointer message` line per issue. */
function invalid(label: string, issues: readonly Issue[]): ConfigInvalidError {
  const count = `${issues.length} problem${issues.length === 1 ? "" : "s"}`;
  return new ConfigInvalidError([`${label}: invalid route rules (${count})`, ...issues.map((i) => `${i.pointer} ${i.message}`)].join("\n"), { issues });
}

function deepFreeze<T>(value: T): T {
  if (typeof value === "object" && value !== null && !Object.isFrozen(value)) {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}
