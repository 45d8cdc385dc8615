/**
 * How the `scenario` commands print runs, journals, scenarios and schedules for people (--json
 * prints the API's objects instead). Pure: values in, lines out; missing values are "-", times
 * stay the API's ISO-8601 UTC strings, durations are written like `1s250ms`.
 */
import { formatDuration } from "../natsd/duration.js";
import type { RunStatus, ScenarioSummary, ScheduleView, StepStatus } from "../scenarios/scenario-port.js";

/** Error messages are cut to this many characters in tables (--json has them whole). */
const ERROR_WIDTH = 60;

/** Rows as aligned columns two spaces apart; the last column is not padded. */
export function table(rows: readonly (readonly string[])[]): string[] {
  const widths: number[] = [];
  for (const r of rows) r.forEach((cell, c) => (widths[c] = Math.max(widths[c] ?? 0, cell.length)));
  return rows.map((r) => r.map((cell, c) => (c === r.length - 1 ? cell : cell.padEnd(widths[c] ?? 0))).join("  ").trimEnd());
}

export function duration(ms: number | null): string {
  return ms === null ? "-" : formatDuration(ms);
}

function errorText(e: { readonly code: string; readonly message: string } | null | undefined): string {
  if (e === null || e === undefined) return "-";
  const line = `${e.message.replace(/\s+/g, " ")} (${e.code})`;
  return line.length <= ERROR_WIDTH ? line : line.slice(0, ERROR_WIDTH - 1) + "…";
}

/** `run <id> succeeded in 1s250ms (2/2 steps)`, with the step and error when it did not. */
export function summaryLine(run: RunStatus): string {
  const head = `run ${run.run_id} ${run.state} in ${duration(run.duration_ms)} (${run.steps_done}/${run.steps_total} steps${run.dry_run ? ", dry run" : ""})`;
  if (run.state === "succeeded") return head;
  const at = run.step === null ? "" : ` at step ${run.step}`;
  return run.error === null ? `${head}${at}` : `${head}${at}: ${run.error.message} (${run.error.code})`;
}

/** The step journal, oldest first. */
export function journalTable(steps: readonly StepStatus[]): string[] {
  if (steps.length === 0) return ["no steps have run yet"];
  return table([
    ["STEP", "ATTEMPT", "STATE", "LATENCY", "ERROR"],
    ...steps.map((s) => [s.step, String(s.attempt), s.state, duration(s.latency_ms), s.error === undefined ? "" : errorText(s.error)]),
  ]);
}

/** One run in full: a `key  value` block, a blank line, its journal. */
export function statusBlock(run: RunStatus): string[] {
  const pairs: [string, string][] = [
    ["run", run.run_id],
    ["scenario", run.scenario_id],
    ["state", run.state],
    ["step", run.step ?? "-"],
    ["steps", `${run.steps_done}/${run.steps_total}`],
    ["priority", run.priority],
    ["trigger", run.trigger],
    ["correlation", run.correlation_id],
    ["queued", run.queued_at],
    ["started", run.started_at ?? "-"],
    ["finished", run.finished_at ?? "-"],
    ["duration", duration(run.duration_ms)],
  ];
  if (run.dry_run) pairs.push(["dry run", "yes"]);
  if (run.replay_of !== null) pairs.push(["replay of", run.replay_of]);
  if (run.error !== null) pairs.push(["error", `${run.error.message} (${run.error.code})`]);
  return [...table(pairs), "", ...journalTable(run.steps ?? [])];
}

export function runsTable(runs: readonly RunStatus[], scenarioId: string | undefined): string[] {
  if (runs.length === 0) return [scenarioId === undefined ? "no runs" : `no runs of scenario ${scenarioId}`];
  return table([
    ["RUN", "SCENARIO", "STATE", "STEP", "STEPS", "TRIGGER", "QUEUED", "DURATION", "ERROR"],
    ...runs.map((r) => [
      r.run_id, r.scenario_id, r.state, r.step ?? "-", `${r.steps_done}/${r.steps_total}`, r.trigger, r.queued_at, duration(r.duration_ms), errorText(r.error),
    ]),
  ]);
}

/** One row per scenario, its further triggers on the rows below. */
export function scenariosTable(scenarios: readonly ScenarioSummary[]): string[] {
  if (scenarios.length === 0) return ["no scenarios loaded"];
  const rows: string[][] = [["ID", "STEPS", "TRIGGERS", "DESCRIPTION"]];
  for (const s of scenarios) {
    const [first = "-", ...more] = s.triggers;
    rows.push([s.id, String(s.steps.length), first, s.description ?? "-"]);
    for (const t of more) rows.push(["", "", t, ""]);
  }
  return table(rows);
}

export function schedulesTable(schedules: readonly ScheduleView[]): string[] {
  if (schedules.length === 0) return ["no schedules"];
  return table([
    ["ID", "SCENARIO", "TYPE", "SCHEDULE", "TZ", "NEXT", "LAST TICK", "CATCH UP", "FROM"],
    ...schedules.map((s) => [
      s.id, s.scenario_id ?? "-", s.type, s.schedule, s.tz ?? "-", s.next_at ?? "-", s.last_tick_at ?? "-", s.catch_up ? "yes" : "no", s.from_trigger ? "trigger" : "api",
    ]),
  ]);
}
