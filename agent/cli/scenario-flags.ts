/**
 * Flag and argument checks shared by the `scenario` commands: --ctx as a JSON object, --priority,
 * --every as a duration, and "exactly one positional". Every problem is a UsageError (exit 2)
 * that ends with the command's usage line.
 */
import { UsageError } from "../core/errors.js";
import { parseDuration } from "../natsd/duration.js";
import { RUN_PRIORITIES, type RunPriority } from "../scenarios/scenario.js";

export const API_USAGE = "[--api URL] [--token T] [--data-dir DIR]";

/** The one positional argument a command takes (a scenario, run or schedule id). */
export function onePositional(positionals: readonly string[], what: string, usage: string): string {
  const [first] = positionals;
  if (first === undefined || first === "") throw new UsageError(`missing the ${what}\nusage: ${usage}`);
  if (positionals.length > 1) throw new UsageError(`expected exactly one ${what}, got ${positionals.length}: ${positionals.join(" ")}\nusage: ${usage}`);
  return first;
}

export function noPositionals(positionals: readonly string[], usage: string): void {
  if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"\nusage: ${usage}`);
}

/** --ctx: a JSON object, e.g. '{"who": "ann"}'. */
export function ctxFlag(text: string | undefined, usage: string): Record<string, unknown> | undefined {
  if (text === undefined) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new UsageError(`--ctx is not valid JSON (${(err as Error).message}); give an object like '{"who": "ann"}'\nusage: ${usage}`, { cause: err });
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new UsageError(`--ctx must be a JSON object like '{"who": "ann"}', got ${Array.isArray(value) ? "an array" : value === null ? "null" : typeof value}\nusage: ${usage}`);
  }
  return value as Record<string, unknown>;
}

/** --priority: HIGH, NORM or LOW (lower case too), sent upper-cased. */
export function priorityFlag(text: string | undefined, usage: string): RunPriority | undefined {
  if (text === undefined) return undefined;
  const p = RUN_PRIORITIES.find((r) => r === text || r.toLowerCase() === text);
  if (p === undefined) throw new UsageError(`--priority must be one of ${RUN_PRIORITIES.join(", ")}, got "${text}"\nusage: ${usage}`);
  return p;
}

/** --every: whole milliseconds (`90000`) or a duration (`10s`, `5m`, `1h`, `1h30m`). */
export function durationFlag(text: string, flag: string, usage: string): number {
  let ms: number;
  if (/^\d+$/.test(text)) ms = Number(text);
  else {
    try {
      ms = parseDuration(text);
    } catch (err) {
      throw new UsageError(`${flag} must be milliseconds or a duration like 10s, 5m, 1h, got "${text}"\nusage: ${usage}`, { cause: err });
    }
  }
  if (!Number.isSafeInteger(ms) || ms < 1) throw new UsageError(`${flag} must be a positive duration, got "${text}"\nusage: ${usage}`);
  return ms;
}
