/**
 * Stored records as the port shows them (scenario-port.ts): ISO-8601 UTC times, durations in ms,
 * schedules with their next occurrence. Pure functions.
 */
import type { RunRecord, StepRecord } from "./run-store.js";
import type { Scenario, Trigger } from "./scenario.js";
import type { RunStatus, ScenarioSummary, ScheduleView, StepStatus } from "./scenario-port.js";
import { nextOccurrence, scheduleText } from "./schedule.js";
import type { ScheduleRecord } from "./schedule-store.js";
import { TRIGGER_SCHEDULE_PREFIX } from "./triggers.js";

const iso = (ms: number): string => new Date(ms).toISOString();
const isoOrNull = (ms: number | null): string | null => (ms === null ? null : iso(ms));

export function runView(run: RunRecord, steps?: readonly StepRecord[]): RunStatus {
  return {
    run_id: run.run_id,
    scenario_id: run.scenario_id,
    state: run.state,
    step: run.step,
    priority: run.priority,
    trigger: run.trigger,
    correlation_id: run.correlation_id,
    dry_run: run.dry_run,
    queued_at: iso(run.queued_at),
    started_at: isoOrNull(run.started_at),
    finished_at: isoOrNull(run.finished_at),
    duration_ms: run.started_at !== null && run.finished_at !== null ? Math.max(0, run.finished_at - run.started_at) : null,
    steps_total: run.steps_total,
    steps_done: run.steps_done,
    replay_of: run.replay_of,
    error: run.error,
    ctx: run.ctx,
    bag: run.bag,
    ...(steps === undefined ? {} : { steps: steps.map(stepView) }),
  };
}

function stepView(s: StepRecord): StepStatus {
  return {
    step: s.step,
    attempt: s.attempt,
    state: s.state,
    started_at: iso(s.started_at),
    finished_at: isoOrNull(s.finished_at),
    latency_ms: s.latency_ms,
    ...(s.error === null ? {} : { error: s.error }),
  };
}

export function triggerText(t: Trigger): string {
  switch (t.kind) {
    case "event": return `event ${t.event}${t.version === undefined ? "" : `@${t.version}`}${t.filter === undefined ? "" : ` if ${t.filter}`}`;
    case "cron": return `cron ${t.cron}${t.tz === undefined ? "" : ` (${t.tz})`}`;
    case "at": return `at ${t.at}`;
    case "interval": return `every ${t.every_ms} ms`;
  }
}

export function scenarioSummary(s: Scenario): ScenarioSummary {
  return {
    id: s.id,
    description: s.description ?? null,
    triggers: s.triggers.map(triggerText),
    steps: s.steps.map((x) => x.name),
    file: s.file ?? null,
  };
}

export function scheduleView(s: ScheduleRecord, nowMs: number): ScheduleView {
  const after = Math.max(nowMs, s.last_tick_at ?? s.created_at);
  const next = nextOccurrence(s.spec, after, s.created_at);
  return {
    id: s.id,
    scenario_id: s.scenario_id,
    type: s.spec.type,
    schedule: scheduleText(s.spec),
    tz: s.spec.type === "cron" ? (s.spec.tz ?? null) : null,
    catch_up: s.catch_up,
    event: s.event,
    ctx: s.ctx,
    created_at: iso(s.created_at),
    last_tick_at: isoOrNull(s.last_tick_at),
    next_at: next === undefined ? null : iso(next),
    seq: s.seq,
    from_trigger: s.id.startsWith(TRIGGER_SCHEDULE_PREFIX),
  };
}
