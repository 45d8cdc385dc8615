/**
 * Intent rules (abi/intent-rules.schema.json) from a YAML file, as untrusted input: the file read
 * with the scenario loader's limits (load-source.ts), checked against the schema (ajv, compiled at
 * first use), then compiled into patterns the recogniser matches word by word.
 *
 * Every problem is reported at once, each with the JSON pointer of the offending value, in one
 * ConfigInvalidError. Beyond the schema the loader checks what a schema cannot:
 * - patterns, phrases and fillers are not empty once normalised (normalize.ts); a filler is one word;
 * - braces only enclose a slot name, and a `{slot}` stands as a whole word;
 * - a pattern names only declared slots, each at most once; an enumerated slot it names has
 *   phrases in the pattern's language; free-text slots are never side by side, at most
 *   MAX_TEXT_SLOTS in a pattern, and never the whole pattern (it would match anything);
 * - no two patterns of one language are the same once normalised, and no phrase of a language
 *   names two values of a slot (either would make the answer depend on file order);
 * - an intent's plan exists; a plan template passes parsePlan (agent/resolver/plan-load.ts) with
 *   its slots filled in, has no `intent` (planFor sets it) and uses `${slots.<name>}` only in
 *   step args, only for declared slots that every pattern of every intent using it captures.
 */
import { Ajv2020, type ErrorObject, type ValidateFunction } from "ajv/dist/2020.js";
import schema from "../../abi/intent-rules.schema.json" with { type: "json" };
import { AdaosError, BadRequestError, ConfigInvalidError, type Issue } from "../core/errors.js";
import { issuesFromAjv } from "../registry/issues.js";
import { parsePlan } from "../resolver/plan-load.js";
import { isRecord, pointer, Problems } from "../scenarios/load-problems.js";
import { parseYaml, readSource, type ReadFile } from "../scenarios/load-source.js";
import { normalizePattern, normalizeText, PLACEHOLDER } from "./normalize.js";
import { fillSlots, hasOtherSlotUse, slotRefs } from "./templates.js";

/** Two free-text slots already make matching quadratic in the input's length; more is never needed. */
export const MAX_TEXT_SLOTS = 2;

/** One phrase of an enumerated slot in one language: its words and the canonical value it names. */
export interface SlotPhrase {
  readonly value: string;
  readonly words: readonly string[];
}

export type PatternPart =
  | { readonly kind: "word"; readonly word: string }
  /** An enumerated slot, with its phrases in the pattern's language, longest first. */
  | { readonly kind: "enum"; readonly slot: string; readonly phrases: readonly SlotPhrase[] }
  /** A free-text slot: one or more words of any kind. */
  | { readonly kind: "text"; readonly slot: string };

export interface Pattern {
  readonly intent: string;
  readonly lang: string;
  /** The pattern normalised, placeholders kept: "show {title} on the tv". */
  readonly source: string;
  readonly parts: readonly PatternPart[];
}

export type SlotRule = { readonly kind: "text" } | { readonly kind: "enum"; readonly phrases: ReadonlyMap<string, readonly SlotPhrase[]> };

export interface IntentRule {
  readonly name: string;
  /** Patterns by language, in file order. */
  readonly patterns: ReadonlyMap<string, readonly Pattern[]>;
  readonly plan?: string;
}

export interface IntentRules {
  /** Every language some pattern is written in, in order of first appearance. */
  readonly languages: readonly string[];
  readonly slots: ReadonlyMap<string, SlotRule>;
  /** In file order: the first declared wins a tie. */
  readonly intents: ReadonlyMap<string, IntentRule>;
  /** Normalised filler words by language. */
  readonly fillers: ReadonlyMap<string, ReadonlySet<string>>;
  /** Plan templates as written (checked). */
  readonly plans: ReadonlyMap<string, Readonly<Record<string, unknown>>>;
}

interface RawRules {
  readonly fillers?: Record<string, string[]>;
  readonly slots?: Record<string, { type?: "text"; values?: Record<string, Record<string, string[]>> }>;
  readonly intents: Record<string, { patterns: Record<string, string[]>; plan?: string }>;
  readonly plans?: Record<string, Record<string, unknown>>;
}

let validator: ValidateFunction | undefined;
function validate(value: unknown): readonly ErrorObject[] | undefined {
  validator ??= new Ajv2020({ allErrors: true, strict: true }).compile(schema);
  if (validator(value)) return undefined;
  // `if` and `propertyNames` only sum up; the errors under them say what is wrong, and where.
  return (validator.errors ?? []).filter((e) => e.keyword !== "if" && e.keyword !== "propertyNames").map(atPropertyName);
}

/** An error about a property's name points at that property (ajv points at its parent). */
function atPropertyName(e: ErrorObject): ErrorObject {
  if (e.propertyName === undefined) return e;
  return { ...e, instancePath: pointer(e.instancePath, e.propertyName), message: `is not a valid name: ${e.message ?? e.keyword}` };
}

/** The rules' code for a language tag (ru-RU → ru); BadRequestError when the rules have none for it. */
export function ruleLanguage(rules: IntentRules, tag: string): string {
  const lang = tag.split("-")[0]?.toLowerCase() ?? "";
  if (!rules.languages.includes(lang)) throw new BadRequestError(`no intent rules for language ${JSON.stringify(tag)} (the rules have ${rules.languages.join(", ")})`);
  return lang;
}

/** Compiled rules from a parsed value; ConfigInvalidError listing every problem. */
export function parseIntentRules(value: unknown, what = "the intent rules are invalid"): IntentRules {
  const problems = new Problems();
  const errors = validate(value);
  if (errors !== undefined) fail(what, issuesFromAjv(errors));
  const raw = value as RawRules;
  const fillers = compileFillers(raw, problems);
  const slots = compileSlots(raw, problems);
  const intents = compileIntents(raw, slots, problems);
  const plans = checkPlans(raw, intents, slots, problems);
  if (problems.count > 0) fail(what, problems.sorted());
  const languages = [...new Set([...intents.values()].flatMap((i) => [...i.patterns.keys()]))];
  return { languages, slots, intents, fillers, plans };
}

/** Rules from YAML (or JSON) text. */
export function parseIntentRulesText(text: string, name: string): IntentRules {
  const problems = new Problems();
  const value = parseYaml(text, "", problems);
  if (problems.count > 0) fail(`${name}: not valid YAML`, problems.sorted());
  return parseIntentRules(value, `${name}: the intent rules are invalid`);
}

/** Rules from a file (at most MAX_FILE_BYTES of load-source.ts). */
export function loadIntentRules(path: string, readFile?: ReadFile): IntentRules {
  const src = readSource(path, readFile);
  if (!src.ok) throw new ConfigInvalidError(`${path}: ${src.message}`);
  return parseIntentRulesText(src.text, path);
}

function fail(what: string, issues: readonly Issue[]): never {
  const count = `${issues.length} problem${issues.length === 1 ? "" : "s"}`;
  throw new ConfigInvalidError([`${what} (${count})`, ...issues.map((i) => `${i.pointer} ${i.message}`)].join("\n"), { issues });
}

function compileFillers(raw: RawRules, problems: Problems): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  for (const [lang, list] of Object.entries(raw.fillers ?? {})) {
    const words = new Set<string>();
    list.forEach((text, i) => {
      const n = normalizeText(text);
      const at = pointer("", "fillers", lang, i);
      if (n === "") problems.add(at, "is empty once punctuation is removed");
      else if (n.includes(" ")) problems.add(at, `must be one word (it normalises to "${n}")`);
      else words.add(n);
    });
    out.set(lang, words);
  }
  return out;
}

function compileSlots(raw: RawRules, problems: Problems): Map<string, SlotRule> {
  const out = new Map<string, SlotRule>();
  for (const [name, def] of Object.entries(raw.slots ?? {})) {
    if (def.type === "text") {
      out.set(name, { kind: "text" });
      continue;
    }
    const byLang = new Map<string, SlotPhrase[]>();
    /** lang → normalised phrase → the pointer that first said it. */
    const said = new Map<string, Map<string, { at: string; value: string }>>();
    for (const [value, langs] of Object.entries(def.values ?? {})) {
      for (const [lang, phrases] of Object.entries(langs)) {
        const seen = said.get(lang) ?? new Map<string, { at: string; value: string }>();
        said.set(lang, seen);
        phrases.forEach((phrase, i) => {
          const at = pointer("", "slots", name, "values", value, lang, i);
          const n = normalizeText(phrase);
          const first = seen.get(n);
          if (n === "") problems.add(at, "is empty once punctuation is removed");
          else if (first !== undefined) problems.add(at, `"${n}" already names ${first.value} at ${first.at} (a phrase names one value)`);
          else {
            seen.set(n, { at, value });
            byLang.set(lang, [...(byLang.get(lang) ?? []), { value, words: n.split(" ") }]);
          }
        });
      }
    }
    for (const list of byLang.values()) list.sort((a, b) => b.words.length - a.words.length);
    out.set(name, { kind: "enum", phrases: byLang });
  }
  return out;
}

function compileIntents(raw: RawRules, slots: ReadonlyMap<string, SlotRule>, problems: Problems): Map<string, IntentRule> {
  const out = new Map<string, IntentRule>();
  /** lang → normalised pattern → its pointer. */
  const seen = new Map<string, Map<string, string>>();
  for (const [name, def] of Object.entries(raw.intents)) {
    const patterns = new Map<string, Pattern[]>();
    for (const [lang, list] of Object.entries(def.patterns)) {
      const mine = seen.get(lang) ?? new Map<string, string>();
      seen.set(lang, mine);
      const compiled: Pattern[] = [];
      list.forEach((text, i) => {
        const at = pointer("", "intents", name, "patterns", lang, i);
        const p = compilePattern(text, name, lang, slots, at, problems);
        const first = p === undefined ? undefined : mine.get(p.source);
        if (p === undefined) return;
        if (first !== undefined) problems.add(at, `is the same as ${first} once normalised ("${p.source}")`);
        else {
          mine.set(p.source, at);
          compiled.push(p);
        }
      });
      patterns.set(lang, compiled);
    }
    if (def.plan !== undefined && !Object.hasOwn(raw.plans ?? {}, def.plan)) {
      const known = Object.keys(raw.plans ?? {});
      problems.add(pointer("", "intents", name, "plan"), `names plan ${def.plan}, which plans does not declare (declared: ${known.join(", ") || "none"})`);
    }
    out.set(name, { name, patterns, ...(def.plan === undefined ? {} : { plan: def.plan }) });
  }
  return out;
}

/** A pattern's parts, or undefined (with its problems added) when it cannot be matched as written. */
function compilePattern(text: string, intent: string, lang: string, slots: ReadonlyMap<string, SlotRule>, at: string, problems: Problems): Pattern | undefined {
  const before = problems.count;
  const bare = text.replace(PLACEHOLDER, "");
  if (bare.includes("{") || bare.includes("}")) problems.add(at, "braces only enclose a slot name, as in {title} (lower-case letters, digits, _)");
  for (const m of text.matchAll(PLACEHOLDER)) {
    const end = m.index + m[0].length;
    if (/[\p{L}\p{N}]/u.test(text.charAt(m.index - 1)) || /[\p{L}\p{N}]/u.test(text.charAt(end))) problems.add(at, `${m[0]} must stand as a whole word`);
  }
  const source = normalizePattern(text);
  if (source === "") problems.add(at, "is empty once punctuation is removed");
  const parts: PatternPart[] = [];
  const named = new Set<string>();
  for (const token of source === "" ? [] : source.split(" ")) {
    const slot = /^\{(.+)\}$/.exec(token)?.[1];
    if (slot === undefined) {
      parts.push({ kind: "word", word: token });
      continue;
    }
    if (named.has(slot)) problems.add(at, `names {${slot}} twice (a slot has one value)`);
    named.add(slot);
    const rule = slots.get(slot);
    if (rule === undefined) {
      problems.add(at, `names slot {${slot}}, which slots does not declare (declared: ${[...slots.keys()].join(", ") || "none"})`);
    } else if (rule.kind === "text") {
      if (parts.at(-1)?.kind === "text") problems.add(at, `{${slot}} follows another free-text slot: where one ends and the other starts cannot be told`);
      parts.push({ kind: "text", slot });
    } else {
      const phrases = rule.phrases.get(lang) ?? [];
      if (phrases.length === 0) problems.add(at, `{${slot}} has no ${lang} phrases in /slots/${slot}/values, so this pattern can never match`);
      parts.push({ kind: "enum", slot, phrases });
    }
  }
  const free = parts.filter((p) => p.kind === "text").length;
  if (free > MAX_TEXT_SLOTS) problems.add(at, `has ${free} free-text slots; at most ${MAX_TEXT_SLOTS}`);
  if (parts.length > 0 && free === parts.length) problems.add(at, "is free-text slots only, which would match any input");
  return problems.count === before ? { intent, lang, source, parts } : undefined;
}

/** The slot names a template refers to; problems for references outside step args or in another form. */
function templateSlots(template: Record<string, unknown>, base: string, slots: ReadonlyMap<string, SlotRule>, problems: Problems): Set<string> {
  const used = new Set<string>();
  const walk = (v: unknown, at: string, inArgs: boolean): void => {
    if (typeof v === "string") {
      const refs = slotRefs(v);
      if (!inArgs) {
        if (refs.length > 0 || hasOtherSlotUse(v)) problems.add(at, "${slots.<name>} may only be used in step args");
        return;
      }
      if (hasOtherSlotUse(v)) problems.add(at, "write a slot as ${slots.<name>} alone inside the braces (the plan runtime has no slots in scope)");
      for (const r of refs) {
        if (!slots.has(r)) problems.add(at, `\${slots.${r}}: slots does not declare ${r}`);
        used.add(r);
      }
    } else if (Array.isArray(v)) v.forEach((x, i) => walk(x, pointer(at, i), inArgs));
    else if (isRecord(v)) for (const [k, x] of Object.entries(v)) walk(x, pointer(at, k), inArgs || /^\/plans\/[^/]+\/steps\/\d+\/args$/.test(pointer(at, k)));
  };
  walk(template, base, false);
  return used;
}

function checkPlans(raw: RawRules, intents: ReadonlyMap<string, IntentRule>, slots: ReadonlyMap<string, SlotRule>, problems: Problems): Map<string, Record<string, unknown>> {
  const out = new Map<string, Record<string, unknown>>();
  for (const [name, template] of Object.entries(raw.plans ?? {})) {
    const base = pointer("", "plans", name);
    out.set(name, template);
    if ("intent" in template) problems.add(pointer(base, "intent"), "is set by planFor from the recognised intent; leave it out");
    if ("plan" in template) problems.add(pointer(base, "plan"), "write the plan's fields here directly, without a plan: wrapper");
    const used = templateSlots(template, base, slots, problems);
    try {
      parsePlan(fillSlots(template, (slot) => `<${slot}>`), "plan template");
    } catch (err) {
      if (!(err instanceof AdaosError)) throw err;
      for (const issue of err.issues) problems.add(issue.pointer === "/" ? base : base + issue.pointer, issue.message);
    }
    for (const intent of intents.values()) {
      if (intent.plan !== name) continue;
      for (const pattern of [...intent.patterns.values()].flat()) {
        const captured = new Set(pattern.parts.flatMap((p) => (p.kind === "word" ? [] : [p.slot])));
        const missing = [...used].filter((s) => !captured.has(s));
        if (missing.length > 0) problems.add(pointer("", "intents", intent.name, "plan"), `plan ${name} uses ${missing.map((s) => `{${s}}`).join(", ")}, which "${pattern.source}" (${pattern.lang}) does not capture`);
      }
    }
  }
  return out;
}
