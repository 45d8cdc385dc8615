/**
 * Durations in scenario files: a whole number of milliseconds (`1500`) or a number with a unit,
 * `ms`, `s`, `m` or `h` (`"250ms"`, `"1.5s"`, `"5m"`, `"2h"`). One unit per value (no `1h30m`:
 * write `90m`), no days (a scenario step is not a calendar; use a cron trigger). Fractions are
 * rounded to the nearest millisecond. Bounds (at most 24h, at least 1s, …) are the caller's rule.
 * Not the operator durations of agent/natsd/duration.ts, which take `1h30m` and `7d`.
 */
import { ScenarioInvalidError } from "../core/errors.js";

const UNIT_MS: Readonly<Record<string, number>> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 };
const TEXT = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/;
/** Largest first, for formatDuration. */
const UNITS = ["h", "m", "s"] as const;

const FORMS = 'a whole number of milliseconds or text such as "250ms", "1.5s", "5m", "2h"';

/** Milliseconds of `v`; throws ScenarioInvalidError naming `what` and the accepted forms. */
export function parseDuration(v: unknown, what: string): number {
  const fail = (why: string): never => {
    throw new ScenarioInvalidError(`${what} ${why}: expected ${FORMS}`);
  };
  if (typeof v === "number") {
    if (!Number.isSafeInteger(v) || v < 0) fail(`${String(v)} is not a whole, non-negative number of milliseconds`);
    return v;
  }
  if (typeof v !== "string") return fail(`must be a duration, not ${v === null ? "null" : Array.isArray(v) ? "a list" : typeof v}`);
  const m = TEXT.exec(v);
  if (m === null) return fail(`${JSON.stringify(v)} is not a duration`);
  const ms = Math.round(Number(m[1]) * (UNIT_MS[m[2] ?? ""] ?? Number.NaN));
  if (!Number.isSafeInteger(ms)) fail(`${JSON.stringify(v)} is too long`);
  return ms;
}

/** The shortest text parseDuration reads back as `ms`: 300000 → "5m", 1500 → "1.5s", 250 → "250ms". */
export function formatDuration(ms: number): string {
  for (const unit of UNITS) {
    const size = UNIT_MS[unit] ?? 1;
    if (ms >= size && ms % size === 0) return `${ms / size}${unit}`;
  }
  return ms >= 1_000 && ms % 1 === 0 ? `${ms / 1_000}s` : `${ms}ms`;
}
