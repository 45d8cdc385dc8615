/**
 * A scenario's triggers as the model's Triggers. An event trigger's filter must compile and its
 * ctx may hold templates over `{$: envelope}`; cron, at and interval triggers are checked by the
 * scheduler's own checkSchedule (so a file is refused for exactly what a schedule would be) and
 * take literal ctx only, since nothing fills a template there. catch_up defaults to false.
 */
import { ScheduleInvalidError } from "../core/errors.js";
import type { Trigger } from "./scenario.js";
import { checkSchedule, MIN_INTERVAL_MS, type ScheduleSpec } from "./schedule.js";
import { isRecord, pointer, type Problems } from "./load-problems.js";
import { TRIGGER_KINDS, triggerKinds } from "./load-schema.js";
import { checkExpression, checkLiteral, checkTemplates, durationAt, parseRef } from "./load-values.js";

/** A valid cron expression, to check a time zone on its own. */
const ANY_MINUTE = "* * * * *";

/** A trigger and the pointer of where it is written. */
export interface LocatedTrigger {
  readonly trigger: Trigger;
  readonly at: string;
}

export function buildTriggers(raw: unknown, problems: Problems): LocatedTrigger[] {
  if (!Array.isArray(raw)) return [];
  const out: LocatedTrigger[] = [];
  raw.forEach((t, i) => {
    const at = pointer("", "triggers", i);
    const trigger = isRecord(t) ? buildTrigger(t, at, problems) : undefined;
    if (trigger !== undefined) out.push({ trigger, at });
  });
  return out;
}

function schedule(spec: ScheduleSpec, at: string, problems: Problems): boolean {
  try {
    checkSchedule({ spec });
    return true;
  } catch (err) {
    if (!(err instanceof ScheduleInvalidError)) throw err;
    problems.add(at, err.message);
    return false;
  }
}

function buildTrigger(t: Record<string, unknown>, at: string, problems: Problems): Trigger | undefined {
  const kinds = triggerKinds(t);
  if (kinds.length !== 1) {
    problems.add(at, kinds.length === 0
      ? `a trigger needs one of ${TRIGGER_KINDS.join(", ")}`
      : `a trigger is one kind, this one has ${kinds.join(" and ")} (make one trigger of each)`);
    return undefined;
  }
  const ctx = isRecord(t.ctx) ? { ctx: t.ctx } : {};
  const catchUp = typeof t.catch_up === "boolean" ? t.catch_up : false;
  if (kinds[0] === "event") {
    checkExpression(t.filter, pointer(at, "filter"), problems);
    checkTemplates(t.ctx, pointer(at, "ctx"), problems);
    if (typeof t.event !== "string") return undefined;
    const { name, version } = parseRef(t.event);
    return {
      kind: "event",
      event: name,
      ...(version === undefined ? {} : { version }),
      ...(typeof t.filter === "string" ? { filter: t.filter } : {}),
      ...ctx,
    };
  }
  checkLiteral(t.ctx, pointer(at, "ctx"), "the ctx of a schedule trigger (only an event trigger's ctx is filled, from the event)", problems);
  switch (kinds[0]) {
    case "cron": {
      const { cron, tz } = t;
      if (typeof cron !== "string" || (tz !== undefined && typeof tz !== "string")) return undefined;
      // The zone on its own first, so each problem lands on its own field.
      const zoneOk = tz === undefined || schedule({ type: "cron", cron: ANY_MINUTE, tz }, pointer(at, "tz"), problems);
      const spec: ScheduleSpec = tz === undefined || !zoneOk ? { type: "cron", cron } : { type: "cron", cron, tz };
      if (!schedule(spec, pointer(at, "cron"), problems) || !zoneOk) return undefined;
      return { kind: "cron", cron, ...(tz === undefined ? {} : { tz }), catch_up: catchUp, ...ctx };
    }
    case "at": {
      if (typeof t.at !== "string" || !schedule({ type: "once", at: t.at }, pointer(at, "at"), problems)) return undefined;
      return { kind: "at", at: t.at, catch_up: catchUp, ...ctx };
    }
    case "interval": {
      const where = pointer(at, "interval");
      const every = durationAt(t.interval, where, "interval", problems, { min: MIN_INTERVAL_MS });
      if (every === undefined || !schedule({ type: "interval", every_ms: every }, where, problems)) return undefined;
      return { kind: "interval", every_ms: every, catch_up: catchUp, ...ctx };
    }
    default:
      return undefined;
  }
}
