/**
 * `scenario run|status|cancel|runs|replay|list`: the running agent's scenario runtime over its
 * API. `run` prints the new run's id; with --wait it polls until the run is final and prints a
 * summary and the step journal, exiting 0 only when the run succeeded. Schedules live in
 * scenario-schedule.ts, file validation (no agent needed) in scenario-validate.ts.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { TimeoutError, UsageError } from "../core/errors.js";
import { FINAL_STATES, type RunStatus } from "../scenarios/scenario-port.js";
import { API_FLAGS } from "./api-client.js";
import { intFlag, parse } from "./args.js";
import { EXIT, type CommandMain } from "./command.js";
import { ScenarioClient, type RunBody } from "./scenario-client.js";
import { API_USAGE, ctxFlag, noPositionals, onePositional, priorityFlag } from "./scenario-flags.js";
import { journalTable, runsTable, scenariosTable, statusBlock, summaryLine } from "./scenario-format.js";

export const USAGE = {
  run: `scenario run <id> [--ctx JSON] [--priority HIGH|NORM|LOW] [--force] [--dry-run] [--wait [--timeout-ms N]] [--json] ${API_USAGE}`,
  status: `scenario status <run_id> [--json] ${API_USAGE}`,
  cancel: `scenario cancel <run_id> ${API_USAGE}`,
  runs: `scenario runs [--scenario ID] [--limit N] [--json] ${API_USAGE}`,
  replay: `scenario replay <run_id> [--dry-run] [--json] ${API_USAGE}`,
  list: `scenario list [--json] ${API_USAGE}`,
} as const;

/** Time between status polls of `run --wait`: quick enough to feel live, a few requests a second. */
const POLL_MS = 200;
/** The API's largest page of runs. */
const MAX_RUNS = 500;
const JSON_FLAG = { json: { type: "boolean", default: false } } as const;

export const run: CommandMain = async (args, io) => {
  const { values, positionals } = parse(
    args,
    {
      ...API_FLAGS,
      ...JSON_FLAG,
      ctx: { type: "string" },
      priority: { type: "string" },
      force: { type: "boolean", default: false },
      "dry-run": { type: "boolean", default: false },
      wait: { type: "boolean", default: false },
      "timeout-ms": { type: "string" },
    },
    USAGE.run,
  );
  const id = onePositional(positionals, "scenario id", USAGE.run);
  const ctx = ctxFlag(values.ctx, USAGE.run);
  const priority = priorityFlag(values.priority, USAGE.run);
  const timeoutMs = intFlag(values["timeout-ms"], "--timeout-ms", 1, Number.MAX_SAFE_INTEGER);
  if (timeoutMs !== undefined && !values.wait) throw new UsageError(`--timeout-ms goes with --wait\nusage: ${USAGE.run}`);
  const body: RunBody = {
    id,
    ...(ctx === undefined ? {} : { ctx }),
    ...(priority === undefined ? {} : { priority }),
    ...(values.force ? { force: true } : {}),
    ...(values["dry-run"] ? { dry_run: true } : {}),
  };
  const client = ScenarioClient.fromFlags(values, io);
  const started = await client.run(body);
  if (started.duplicate === true) io.err(`adaos-edge: a run for the same trigger already exists; this is it (${started.run_id})`);
  if (!values.wait) {
    io.out(values.json ? JSON.stringify(started) : started.run_id);
    return EXIT.ok;
  }
  if (!values.json) io.out(started.run_id);
  const final = await untilFinal(client, started.run_id, timeoutMs);
  if (values.json) io.out(JSON.stringify(final, null, 2));
  else for (const line of [summaryLine(final), ...journalTable(final.steps ?? [])]) io.out(line);
  return final.state === "succeeded" ? EXIT.ok : EXIT.failure;
};

export const status: CommandMain = async (args, io) => {
  const { values, positionals } = parse(args, { ...API_FLAGS, ...JSON_FLAG }, USAGE.status);
  const runId = onePositional(positionals, "run id", USAGE.status);
  const answer = await ScenarioClient.fromFlags(values, io).status(runId);
  if (values.json) io.out(JSON.stringify(answer, null, 2));
  else for (const line of statusBlock(answer)) io.out(line);
  return EXIT.ok;
};

export const cancel: CommandMain = async (args, io) => {
  const { values, positionals } = parse(args, API_FLAGS, USAGE.cancel);
  const runId = onePositional(positionals, "run id", USAGE.cancel);
  const answer = await ScenarioClient.fromFlags(values, io).cancel(runId);
  if (!answer.cancelled) io.out(`run ${answer.run_id} already ended: ${answer.state}; nothing to cancel`);
  else if (FINAL_STATES.has(answer.state)) io.out(`cancelled run ${answer.run_id}`);
  else io.out(`cancelling run ${answer.run_id} (${answer.state}); see \`adaos-edge scenario status ${answer.run_id}\``);
  return EXIT.ok;
};

export const runs: CommandMain = async (args, io) => {
  const { values, positionals } = parse(args, { ...API_FLAGS, ...JSON_FLAG, scenario: { type: "string" }, limit: { type: "string" } }, USAGE.runs);
  noPositionals(positionals, USAGE.runs);
  const limit = intFlag(values.limit, "--limit", 1, MAX_RUNS);
  const list = await ScenarioClient.fromFlags(values, io).runs({ scenario_id: values.scenario, limit });
  if (values.json) for (const r of list) io.out(JSON.stringify(r));
  else for (const line of runsTable(list, values.scenario)) io.out(line);
  return EXIT.ok;
};

export const replay: CommandMain = async (args, io) => {
  const { values, positionals } = parse(args, { ...API_FLAGS, ...JSON_FLAG, "dry-run": { type: "boolean", default: false } }, USAGE.replay);
  const runId = onePositional(positionals, "run id", USAGE.replay);
  // Without --dry-run the replay keeps the original run's dry_run.
  const started = await ScenarioClient.fromFlags(values, io).replay(runId, values["dry-run"] ? true : undefined);
  io.out(values.json ? JSON.stringify(started) : started.run_id);
  return EXIT.ok;
};

export const list: CommandMain = async (args, io) => {
  const { values, positionals } = parse(args, { ...API_FLAGS, ...JSON_FLAG }, USAGE.list);
  noPositionals(positionals, USAGE.list);
  const scenarios = await ScenarioClient.fromFlags(values, io).scenarios();
  if (values.json) for (const s of scenarios) io.out(JSON.stringify(s));
  else for (const line of scenariosTable(scenarios)) io.out(line);
  return EXIT.ok;
};

/** Poll the run's status until it is final; TimeoutError naming the run when timeoutMs passes first. */
async function untilFinal(client: ScenarioClient, runId: string, timeoutMs: number | undefined): Promise<RunStatus> {
  const deadline = timeoutMs === undefined ? Infinity : performance.now() + timeoutMs;
  for (;;) {
    const current = await client.status(runId);
    if (FINAL_STATES.has(current.state)) return current;
    const left = deadline - performance.now();
    if (left <= 0) {
      throw new TimeoutError(
        `run ${runId} is still ${current.state} after ${String(timeoutMs)} ms (it keeps going; see \`adaos-edge scenario status ${runId}\`)`,
      );
    }
    await sleep(Math.min(POLL_MS, left));
  }
}
