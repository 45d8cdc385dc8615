/**
 * Checks and conversions of single values shared by the loader's parts: event references
 * (`name` or `name@N`), durations with bounds, and the strings inside a value — templates where
 * the runtime fills them, literal text where it does not (a `${…}` there would stay as it is).
 */
import { checkTemplate, compileExpr, hasTemplate } from "./expr.js";
import { formatDuration, parseDuration } from "./duration.js";
import { isRecord, pointer, type Problems } from "./load-problems.js";

/** The longest any duration in a scenario may be: a run, a wait, a sleep. */
export const MAX_DURATION_MS = 24 * 3_600_000;

export interface EventRef {
  readonly name: string;
  /** Present when the text said `@N`. */
  readonly version?: number;
}

/** `name` or `name@N` (the schema checked the characters). */
export function parseRef(ref: string): EventRef {
  const at = ref.lastIndexOf("@");
  return at < 0 ? { name: ref } : { name: ref.slice(0, at), version: Number(ref.slice(at + 1)) };
}

/** `name@N`, N defaulting to 1. */
export function refKey(ref: EventRef): string {
  return `${ref.name}@${ref.version ?? 1}`;
}

export interface DurationBounds {
  /** Smallest allowed value in ms; default 0. */
  readonly min?: number;
  /** Largest allowed value in ms; default MAX_DURATION_MS. */
  readonly max?: number;
  /** Zero is refused (a timeout of nothing). */
  readonly positive?: boolean;
}

/** Milliseconds of a duration at `at`, or undefined with an issue. */
export function durationAt(v: unknown, at: string, what: string, problems: Problems, bounds: DurationBounds = {}): number | undefined {
  const ms = problems.check(at, () => parseDuration(v, what));
  if (ms === undefined) return undefined;
  const min = bounds.min ?? 0;
  const max = bounds.max ?? MAX_DURATION_MS;
  if (bounds.positive === true && ms === 0) problems.add(at, `${what} must be more than 0`);
  else if (ms < min) problems.add(at, `${what} must be at least ${formatDuration(min)} (it is ${formatDuration(ms)})`);
  else if (ms > max) problems.add(at, `${what} must be at most ${formatDuration(max)} (it is ${formatDuration(ms)})`);
  else return ms;
  return undefined;
}

/** An expression (filter, when) must compile. */
export function checkExpression(v: unknown, at: string, problems: Problems): void {
  if (typeof v === "string") problems.check(at, () => compileExpr(v));
}

/** Every string inside `v` must be a valid template (the runtime fills them). */
export function checkTemplates(v: unknown, at: string, problems: Problems): void {
  eachString(v, at, (s, p) => problems.check(p, () => checkTemplate(s)));
}

/** No string inside `v` may hold a template: nothing fills it there. `where` says why, for the message. */
export function checkLiteral(v: unknown, at: string, where: string, problems: Problems): void {
  eachString(v, at, (s, p) => {
    if (hasTemplate(s)) problems.add(p, `\${...} is not filled in ${where}, it would stay as text (write $\${ for a literal "\${")`);
  });
}

/** True when some string inside `v` holds a template. */
export function holdsTemplate(v: unknown): boolean {
  let found = false;
  eachString(v, "", (s) => {
    found ||= hasTemplate(s);
  });
  return found;
}

function eachString(v: unknown, at: string, f: (s: string, at: string) => void): void {
  if (typeof v === "string") f(v, at);
  else if (Array.isArray(v)) v.forEach((x, i) => eachString(x, pointer(at, i), f));
  else if (isRecord(v)) for (const [k, x] of Object.entries(v)) eachString(x, pointer(at, k), f);
}
