/**
 * `scenario schedule list|create|delete`: the running agent's schedules over its API. create
 * takes exactly one of --cron (with an optional --tz), --every or --at; the agent checks the
 * schedule in full (a bad cron pattern or zone comes back as E_SCHEDULE_INVALID, exit 1).
 */
import { UsageError } from "../core/errors.js";
import type { ScheduleInput, ScheduleSpec } from "../scenarios/schedule.js";
import { API_FLAGS } from "./api-client.js";
import { parse } from "./args.js";
import { EXIT, type CommandMain } from "./command.js";
import { ScenarioClient } from "./scenario-client.js";
import { API_USAGE, ctxFlag, durationFlag, noPositionals, onePositional } from "./scenario-flags.js";
import { schedulesTable } from "./scenario-format.js";

export const USAGE = {
  list: `scenario schedule list [--json] ${API_USAGE}`,
  create: `scenario schedule create --scenario ID (--cron EXPR [--tz TZ] | --every DURATION | --at ISO) [--id ID] [--ctx JSON] [--catch-up] [--json] ${API_USAGE}`,
  delete: `scenario schedule delete <id> ${API_USAGE}`,
} as const;

export const list: CommandMain = async (args, io) => {
  const { values, positionals } = parse(args, { ...API_FLAGS, json: { type: "boolean", default: false } }, USAGE.list);
  noPositionals(positionals, USAGE.list);
  const schedules = await ScenarioClient.fromFlags(values, io).schedules();
  if (values.json) for (const s of schedules) io.out(JSON.stringify(s));
  else for (const line of schedulesTable(schedules)) io.out(line);
  return EXIT.ok;
};

export const create: CommandMain = async (args, io) => {
  const { values, positionals } = parse(
    args,
    {
      ...API_FLAGS,
      json: { type: "boolean", default: false },
      scenario: { type: "string" },
      cron: { type: "string" },
      tz: { type: "string" },
      every: { type: "string" },
      at: { type: "string" },
      id: { type: "string" },
      ctx: { type: "string" },
      "catch-up": { type: "boolean", default: false },
    },
    USAGE.create,
  );
  noPositionals(positionals, USAGE.create);
  if (values.scenario === undefined || values.scenario === "") throw new UsageError(`missing --scenario ID\nusage: ${USAGE.create}`);
  const ctx = ctxFlag(values.ctx, USAGE.create);
  const input: ScheduleInput = {
    ...(values.id === undefined ? {} : { id: values.id }),
    scenario_id: values.scenario,
    spec: spec(values),
    ...(ctx === undefined ? {} : { ctx }),
    ...(values["catch-up"] ? { catch_up: true } : {}),
  };
  const view = await ScenarioClient.fromFlags(values, io).createSchedule(input);
  io.out(values.json ? JSON.stringify(view, null, 2) : `created schedule ${view.id} (${view.type} ${view.schedule}; next ${view.next_at ?? "never"})`);
  return EXIT.ok;
};

export const remove: CommandMain = async (args, io) => {
  const { values, positionals } = parse(args, API_FLAGS, USAGE.delete);
  const id = onePositional(positionals, "schedule id", USAGE.delete);
  await ScenarioClient.fromFlags(values, io).deleteSchedule(id);
  io.out(`deleted schedule ${id}`);
  return EXIT.ok;
};

/** Exactly one of --cron, --every, --at; --tz only with --cron. */
function spec(v: { cron?: string | undefined; tz?: string | undefined; every?: string | undefined; at?: string | undefined }): ScheduleSpec {
  const given = (["cron", "every", "at"] as const).filter((k) => v[k] !== undefined);
  if (given.length !== 1) {
    const what = given.length === 0 ? "no schedule given" : `--${given.join(" and --")} given together`;
    throw new UsageError(`${what}: give exactly one of --cron EXPR, --every DURATION or --at ISO\nusage: ${USAGE.create}`);
  }
  if (v.tz !== undefined && v.cron === undefined) throw new UsageError(`--tz goes with --cron\nusage: ${USAGE.create}`);
  if (v.cron !== undefined) return { type: "cron", cron: v.cron, ...(v.tz === undefined ? {} : { tz: v.tz }) };
  if (v.every !== undefined) return { type: "interval", every_ms: durationFlag(v.every, "--every", USAGE.create) };
  return { type: "once", at: v.at ?? "" };
}
