/**
 * The schedule model of the scenario runtime and its validation (pure: no clock, no I/O).
 *
 * A schedule is one of
 *   - cron:     a 5-field (minute) or 6-field (second) cron expression read in an IANA time zone
 *               (UTC when `tz` is absent — never the process's local zone);
 *   - interval: every `every_ms` (≥ MIN_INTERVAL_MS) counted from the schedule's created_at, so the
 *               occurrences are created_at + k·every_ms for k ≥ 1 and do not drift across restarts;
 *   - once:     a single instant, an ISO-8601 time with an explicit offset or Z.
 *
 * Rules: occurrences are always "strictly after" a reference, so the same instant never counts
 * twice; cron occurrences fall on whole seconds (croner strips milliseconds). croner is used only
 * to compute occurrences (paused instances, never its own timers); all waiting is the scheduler's.
 * checkSchedule() takes untrusted input (API, scenario files) and throws ScheduleInvalidError
 * naming the problem, and returns a normalised copy with only the known fields.
 */
import { Cron } from "croner";
import { ScheduleInvalidError } from "../core/errors.js";

export type ScheduleSpec =
  | { readonly type: "cron"; readonly cron: string; readonly tz?: string }
  | { readonly type: "interval"; readonly every_ms: number }
  | { readonly type: "once"; readonly at: string };

export interface ScheduleInput {
  /** Default: generated ("sch_" + random hex); must match SCHEDULE_ID_PATTERN. */
  readonly id?: string;
  /** The scenario it starts; absent for a bare timer that only emits its event. */
  readonly scenario_id?: string;
  readonly spec: ScheduleSpec;
  readonly ctx?: Readonly<Record<string, unknown>>;
  /** Event published on each tick; default DEFAULT_TICK_EVENT. */
  readonly event?: string;
  /** Fire one tick for runs missed while the node was off (see scheduler.ts); default false. */
  readonly catch_up?: boolean;
}

export interface Schedule extends Required<Omit<ScheduleInput, "scenario_id" | "ctx">> {
  scenario_id: string | null;
  ctx: Record<string, unknown>;
  /** Epoch ms; the anchor of an interval and the lower bound of the first occurrence. */
  created_at: number;
}

export const DEFAULT_TICK_EVENT = "timer.tick";
/** Below a second a timer is a busy loop on a Pi and floods the bus; use an event instead. */
export const MIN_INTERVAL_MS = 1000;
/** timer.tick's `timer_id` is at most 128 characters. */
export const SCHEDULE_ID_PATTERN = /^[a-z0-9][a-z0-9_.-]{0,127}$/;
/** The envelope's event_name rule (abi/envelope.schema.json). */
const EVENT_NAME_PATTERN = /^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$/;
const EVENT_NAME_MAX = 128;
/** timer.tick's `schedule` is at most 256 characters, its `tz` at most 64. */
const CRON_MAX = 256;
const TZ_MAX = 64;
const SCENARIO_ID_MAX = 128;
/** Date-time with seconds optional, up to millisecond precision (what Date keeps), and a required offset. */
const ISO_AT = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,3})?)?(Z|[+-](\d{2}):(\d{2}))$/;

const INPUT_KEYS = ["id", "scenario_id", "spec", "ctx", "event", "catch_up"];
const SPEC_KEYS: Readonly<Record<ScheduleSpec["type"], readonly string[]>> = {
  cron: ["type", "cron", "tz"],
  interval: ["type", "every_ms"],
  once: ["type", "at"],
};

function fail(message: string): never {
  throw new ScheduleInvalidError(message);
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function onlyKeys(obj: Record<string, unknown>, allowed: readonly string[], what: string): void {
  for (const k of Object.keys(obj)) {
    if (!allowed.includes(k)) fail(`${what} has an unknown field "${k}" (known: ${allowed.join(", ")})`);
  }
}

/** Validate untrusted input; returns a normalised copy (only known fields, ctx a JSON copy). */
export function checkSchedule(input: unknown): ScheduleInput {
  if (!isRecord(input)) fail("a schedule must be an object");
  onlyKeys(input, INPUT_KEYS, "schedule");
  const { id, scenario_id, ctx, event, catch_up } = input;
  if (id !== undefined && (typeof id !== "string" || !SCHEDULE_ID_PATTERN.test(id))) {
    fail(`schedule id ${JSON.stringify(id)} must match ${SCHEDULE_ID_PATTERN.source}`);
  }
  if (scenario_id !== undefined && (typeof scenario_id !== "string" || scenario_id.length === 0 || scenario_id.length > SCENARIO_ID_MAX)) {
    fail(`scenario_id must be a string of 1 to ${SCENARIO_ID_MAX} characters`);
  }
  if (event !== undefined && (typeof event !== "string" || event.length > EVENT_NAME_MAX || !EVENT_NAME_PATTERN.test(event))) {
    fail(`event ${JSON.stringify(event)} is not an event name (namespace.name, lower case, at most ${EVENT_NAME_MAX} characters)`);
  }
  if (catch_up !== undefined && typeof catch_up !== "boolean") fail("catch_up must be true or false");
  return {
    ...(id === undefined ? {} : { id }),
    ...(scenario_id === undefined ? {} : { scenario_id }),
    spec: checkSpec(input.spec),
    ...(ctx === undefined ? {} : { ctx: checkCtx(ctx) }),
    ...(event === undefined ? {} : { event }),
    ...(catch_up === undefined ? {} : { catch_up }),
  };
}

function checkCtx(ctx: unknown): Record<string, unknown> {
  if (!isRecord(ctx)) fail("ctx must be an object");
  let copy: unknown;
  try {
    copy = JSON.parse(JSON.stringify(ctx));
  } catch (err) {
    fail(`ctx must be JSON: ${(err as Error).message}`);
  }
  return copy as Record<string, unknown>;
}

function checkSpec(spec: unknown): ScheduleSpec {
  if (!isRecord(spec)) fail("spec must be an object with a type (cron, interval or once)");
  const type = spec.type;
  if (type !== "cron" && type !== "interval" && type !== "once") {
    fail(`spec type ${JSON.stringify(type)} is not one of cron, interval, once`);
  }
  onlyKeys(spec, SPEC_KEYS[type], `${type} spec`);
  switch (type) {
    case "cron": {
      const { cron, tz } = spec;
      if (typeof cron !== "string" || cron.trim().length === 0) fail("a cron spec needs a cron expression (text)");
      if (cron.length > CRON_MAX) fail(`cron ${JSON.stringify(cron.slice(0, 32))}…: longer than ${CRON_MAX} characters`);
      if (tz !== undefined) checkTimeZone(tz);
      const checked: ScheduleSpec = tz === undefined ? { type, cron } : { type, cron, tz };
      let job: Cron;
      try {
        job = cronOf(checked);
      } catch (err) {
        fail(`cron ${JSON.stringify(cron)}: ${(err as Error).message}`);
      }
      if (job.nextRun(new Date(0)) === null) fail(`cron ${JSON.stringify(cron)}: never fires`);
      return checked;
    }
    case "interval": {
      const every = spec.every_ms;
      if (typeof every !== "number" || !Number.isSafeInteger(every)) fail("interval every_ms must be a whole number of milliseconds");
      if (every < MIN_INTERVAL_MS) fail(`interval every_ms ${every} is below the minimum of ${MIN_INTERVAL_MS} ms`);
      return { type, every_ms: every };
    }
    case "once": {
      const at = spec.at;
      if (typeof at !== "string") fail("a once spec needs `at`, an ISO-8601 time with an offset or Z");
      parseAt(at);
      return { type, at };
    }
  }
}

function checkTimeZone(tz: unknown): asserts tz is string {
  if (typeof tz !== "string" || tz.length === 0 || tz.length > TZ_MAX) fail(`tz must be an IANA time zone name of 1 to ${TZ_MAX} characters`);
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: tz });
  } catch {
    fail(`unknown time zone ${JSON.stringify(tz)} (expected an IANA name such as "Europe/Berlin")`);
  }
}

const DAYS_IN_MONTH = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** Epoch ms of a once spec's `at`; throws ScheduleInvalidError for text that is not a real instant. */
export function parseAt(at: string): number {
  const m = ISO_AT.exec(at);
  const bad = (why: string): never => fail(`once at ${JSON.stringify(at)}: ${why}`);
  if (m === null) return bad("not an ISO-8601 time with an offset or Z (e.g. \"2025-09-21T07:00:00+02:00\")");
  const [year, month, day, hour, minute, second] = [m[1], m[2], m[3], m[4], m[5], m[6] ?? "0"].map(Number) as [number, number, number, number, number, number];
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  const maxDay = month === 2 && !leap ? 28 : (DAYS_IN_MONTH[month - 1] ?? 0);
  if (month < 1 || month > 12 || day < 1 || day > maxDay) bad("no such date");
  if (hour > 23 || minute > 59 || second > 59) bad("no such time of day");
  if (m[8] !== undefined && (Number(m[8]) > 23 || Number(m[9]) > 59)) bad("no such UTC offset");
  const ms = Date.parse(at);
  if (Number.isNaN(ms)) bad("not a valid time");
  return ms;
}

/** Paused croner instances, one per spec object: croner parses the pattern once per schedule. */
const crons = new WeakMap<object, Cron>();
/** Zones that are UTC: croner computes those with a fixed offset, about 7× faster than through Intl. */
const UTC_ZONES = new Set(["UTC", "Etc/UTC"]);

function cronOf(spec: Extract<ScheduleSpec, { type: "cron" }>): Cron {
  let job = crons.get(spec);
  if (job === undefined) {
    const zone = spec.tz === undefined || UTC_ZONES.has(spec.tz) ? { utcOffset: 0 } : { timezone: spec.tz };
    job = new Cron(spec.cron, { paused: true, mode: "5-or-6-parts", ...zone });
    crons.set(spec, job);
  }
  return job;
}

/** The first occurrence strictly after `afterMs` (epoch ms), or undefined when there is none (a once in the past). */
export function nextOccurrence(spec: ScheduleSpec, afterMs: number, createdAtMs: number): number | undefined {
  switch (spec.type) {
    case "cron":
      return cronOf(spec).nextRun(new Date(afterMs))?.getTime();
    case "interval": {
      const k = Math.max(1, Math.floor((afterMs - createdAtMs) / spec.every_ms) + 1);
      return createdAtMs + k * spec.every_ms;
    }
    case "once": {
      const at = parseAt(spec.at);
      return at > afterMs ? at : undefined;
    }
  }
}

export interface OccurrenceCount {
  /** Occurrences in (afterMs, untilMs], at most `limit`. */
  readonly count: number;
  /** The latest occurrence in (afterMs, untilMs]; undefined when count is 0. */
  readonly latest: number | undefined;
}

/**
 * Count the occurrences strictly after `afterMs` and at or before `untilMs`, stopping at `limit`
 * (so a dense schedule after a long gap costs at most `limit` steps), and find the latest one.
 */
export function countOccurrences(spec: ScheduleSpec, afterMs: number, untilMs: number, createdAtMs: number, limit: number): OccurrenceCount {
  const first = nextOccurrence(spec, afterMs, createdAtMs);
  if (first === undefined || first > untilMs) return { count: 0, latest: undefined };
  switch (spec.type) {
    case "once":
      return { count: 1, latest: first };
    case "interval": {
      const n = Math.floor((untilMs - first) / spec.every_ms) + 1;
      return { count: Math.min(n, limit), latest: first + (n - 1) * spec.every_ms };
    }
    case "cron": {
      const job = cronOf(spec);
      let count = 1;
      for (const run of job.enumerate(new Date(first))) {
        if (count >= limit || run.getTime() > untilMs) break;
        count++;
      }
      // previousRuns() is strictly before its reference: one ms later makes `untilMs` itself count.
      const latest = job.previousRuns(1, new Date(untilMs + 1))[0]?.getTime() ?? first;
      return { count, latest: Math.max(latest, first) };
    }
  }
}

/** The tick payload's `schedule`: the cron expression, the interval in ms, or the `at` text. */
export function scheduleText(spec: ScheduleSpec): string {
  switch (spec.type) {
    case "cron":
      return spec.cron;
    case "interval":
      return String(spec.every_ms);
    case "once":
      return spec.at;
  }
}
