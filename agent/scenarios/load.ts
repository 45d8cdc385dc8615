/**
 * The scenario loader: YAML text (abi/scenario.schema.json) in, the normalised, deep-frozen
 * Scenario of scenario.ts out, or a ScenarioInvalidError listing every problem at once.
 *
 * In order: read (at most 256 KiB) and parse the YAML as untrusted input (load-source.ts); check
 * the shape against the schema (load-schema.ts); expand includes (load-include.ts); build the
 * triggers (load-triggers.ts) and steps (load-steps.ts, load-actions.ts) with defaults applied,
 * durations in ms and every expression and template checked; then the declared effects and,
 * given a catalog, every event name and literal payload (load-catalog.ts). Later stages still
 * run when earlier ones found problems, on whatever is well-formed, so one pass reports all.
 * The error's message is the file, then one `pointer message` line per issue (what
 * `adaos-edge scenario validate` prints); its `issues` hold the same as data.
 */
import { dirname, resolve } from "node:path";
import type { EventCatalog } from "../registry/catalog.js";
import type { OnRestart, RunPriority, Scenario } from "./scenario.js";
import { checkCatalog, checkEffects, type DeclaredEffect } from "./load-catalog.js";
import { expandSteps, MAX_STEPS } from "./load-include.js";
import { invalidScenario, isRecord, pointer, Problems } from "./load-problems.js";
import { checkShape } from "./load-schema.js";
import { parseYaml, readSource, type ReadFile } from "./load-source.js";
import { buildSteps } from "./load-steps.js";
import { buildTriggers } from "./load-triggers.js";
import { checkLiteral, durationAt, parseRef, refKey } from "./load-values.js";

export { MAX_FILE_BYTES } from "./load-source.js";
export { MAX_INCLUDE_DEPTH, MAX_STEPS } from "./load-include.js";

export interface LoadOptions {
  /** Check event names and literal payloads against it; without one only the file itself is checked. */
  readonly catalog?: EventCatalog;
  /** Reads a file (absolute path) as text; the file system when absent. */
  readonly readFile?: (path: string) => string;
}

export interface ParseOptions extends LoadOptions {
  /** The file the text came from: messages name it, includes are relative to it, Scenario.file is set. */
  readonly file?: string;
  /** Directory includes are relative to; default the file's directory. Without either, an include is an issue. */
  readonly baseDir?: string;
}

export const DEFAULT_TIMEOUT_MS = 5 * 60_000;
const DEFAULTS = { priority: "NORM" as RunPriority, max_concurrent: 1, on_restart: "interrupt" as OnRestart };

/** Parse and check a scenario from YAML text. */
export function parseScenario(text: string, options: ParseOptions = {}): Scenario {
  const file = options.file === undefined ? undefined : resolve(options.file);
  const baseDir = options.baseDir === undefined ? (file === undefined ? undefined : dirname(file)) : resolve(options.baseDir);
  const problems = new Problems();
  const scenario = build(text, { baseDir, readFile: options.readFile, catalog: options.catalog, problems });
  if (problems.count > 0 || scenario === undefined) throw invalidScenario(options.file ?? "scenario", problems.sorted());
  return deepFreeze(file === undefined ? scenario : { ...scenario, file });
}

/** Read, parse and check a scenario file. */
export function loadScenarioFile(path: string, options: LoadOptions = {}): Scenario {
  const source = readSource(resolve(path), options.readFile);
  if (!source.ok) throw invalidScenario(path, [{ pointer: "/", message: `cannot read ${path}: ${source.message}` }]);
  return parseScenario(source.text, { ...options, file: path });
}

interface BuildContext {
  readonly baseDir: string | undefined;
  readonly readFile: ReadFile | undefined;
  readonly catalog: EventCatalog | undefined;
  readonly problems: Problems;
}

function build(text: string, c: BuildContext): Scenario | undefined {
  const { problems } = c;
  const doc = parseYaml(text, "", problems);
  if (problems.count > 0) return undefined;
  checkShape(doc, "scenario", "", problems);
  if (!isRecord(doc)) return undefined;

  const timeout = doc.timeout === undefined ? DEFAULT_TIMEOUT_MS : durationAt(doc.timeout, "/timeout", "timeout", problems, { positive: true });
  checkLiteral(doc.ctx, "/ctx", "a scenario's default ctx", problems);
  const triggers = buildTriggers(doc.triggers, problems);
  const located = Array.isArray(doc.steps) ? expandSteps(doc.steps, "/steps", { problems, baseDir: c.baseDir, readFile: c.readFile }) : [];
  if (located.length > MAX_STEPS) problems.add("/steps", `has more than ${MAX_STEPS} steps once includes are expanded`);
  const { steps, sites } = buildSteps(located, problems);
  const effects = Array.isArray(doc.effects) ? declaredEffects(doc.effects) : undefined;
  if (effects !== undefined) checkEffects(sites, effects.map((e) => e.key), problems);
  if (c.catalog !== undefined) checkCatalog({ triggers, sites, effects: effects ?? [] }, c.catalog, problems);

  const { id, description, priority, max_concurrent, on_restart, ctx } = doc;
  if (typeof id !== "string" || timeout === undefined) return undefined;
  return {
    id,
    ...(typeof description === "string" ? { description } : {}),
    triggers: triggers.map((t) => t.trigger),
    ctx: isRecord(ctx) ? ctx : {},
    steps,
    effects: [...new Set((effects ?? []).map((e) => e.key))].sort(),
    priority: (priority ?? DEFAULTS.priority) as RunPriority,
    max_concurrent: typeof max_concurrent === "number" ? max_concurrent : DEFAULTS.max_concurrent,
    timeout_ms: timeout,
    on_restart: (on_restart ?? DEFAULTS.on_restart) as OnRestart,
  };
}

/** `effects` entries ("name@N", "name", {publish: "name@N"}) as `name@N`, with where each is written. */
function declaredEffects(raw: readonly unknown[]): DeclaredEffect[] {
  const out: DeclaredEffect[] = [];
  raw.forEach((e, i) => {
    const ref = typeof e === "string" ? e : isRecord(e) && typeof e.publish === "string" ? e.publish : undefined;
    if (ref !== undefined) out.push({ key: refKey(parseRef(ref)), at: pointer("", "effects", i, ...(typeof e === "string" ? [] : ["publish"])) });
  });
  return out;
}

function deepFreeze<T>(value: T): T {
  if (typeof value === "object" && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}
