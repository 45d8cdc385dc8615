/**
 * The scenario runtime over HTTP (agent/scenarios/scenario-port.ts). Bodies are checked in
 * scenario-bodies.ts; the runtime's own errors pass through with their codes (E_NOT_FOUND 404,
 * E_SCENARIO_BUSY 409, E_SCHEDULE_INVALID 400). An agent without a scenario runtime answers 404
 * on every route, saying so.
 *
 *   POST   /api/scenario/run {id, ctx?, priority?, force?, dry_run?} → 202 {run_id, status} (200 with duplicate: true)
 *   GET    /api/scenario/status?run_id=                           → 200 RunStatus with its steps
 *   POST   /api/scenario/cancel {run_id}                          → 200 {run_id, state, cancelled}
 *   GET    /api/scenario/runs?scenario_id=&limit=                 → 200 {runs}
 *   POST   /api/scenario/replay {run_id, dry_run?}                → 202 {run_id, status, replay_of}
 *   GET    /api/scenarios                                         → 200 {scenarios}
 *   GET    /api/scenario/schedules                                → 200 {schedules}
 *   POST   /api/scenario/schedules ScheduleInput                  → 201 ScheduleView
 *   DELETE /api/scenario/schedules/{id}                           → 200 {deleted: true, id}
 */
import type { ServerResponse } from "node:http";
import { NotFoundError } from "../../core/errors.js";
import type { Logger } from "../../core/logger.js";
import type { RunStarted, ScenarioApi } from "../../scenarios/scenario-port.js";
import type { ScheduleInput } from "../../scenarios/schedule.js";
import { readJsonObject, sendJson, type Route } from "../http.js";
import { lastSegment, limitParam, parseCancelBody, parseReplayBody, parseRunBody, requiredParam } from "./scenario-bodies.js";

export const SCHEDULE_PATH = "/api/scenario/schedules/{id}";

export interface ScenarioRoutesDeps {
  /** Absent: the agent runs no scenarios (scenarios.enabled false, or a member without them). */
  readonly scenarios: ScenarioApi | undefined;
  readonly maxBodyBytes: number;
  readonly logger: Logger;
}

export function scenarioRoutes(deps: ScenarioRoutesDeps): Route[] {
  const need = (): ScenarioApi => {
    if (deps.scenarios === undefined) throw new NotFoundError("this agent has no scenario runtime");
    return deps.scenarios;
  };
  const { logger, maxBodyBytes } = deps;
  return [
    {
      method: "POST",
      path: "/api/scenario/run",
      handler: async (req, res) => {
        const api = need();
        const started = api.run(parseRunBody(await readJsonObject(req, maxBodyBytes)));
        sendStarted(res, started);
      },
    },
    {
      method: "GET",
      path: "/api/scenario/status",
      handler: (_req, res, ctx) => {
        const api = need();
        sendJson(res, 200, api.status(requiredParam(ctx.url.searchParams, "run_id")));
      },
    },
    {
      method: "POST",
      path: "/api/scenario/cancel",
      handler: async (req, res) => {
        const api = need();
        const { run_id } = parseCancelBody(await readJsonObject(req, maxBodyBytes));
        const answer = api.cancel(run_id);
        if (answer.cancelled) logger.info({ run_id }, "scenario run cancelled through the API");
        sendJson(res, 200, { run_id: answer.run_id, state: answer.state, cancelled: answer.cancelled });
      },
    },
    {
      method: "GET",
      path: "/api/scenario/runs",
      handler: (_req, res, ctx) => {
        const api = need();
        const q = ctx.url.searchParams;
        const scenarioId = q.get("scenario_id");
        const limit = limitParam(q);
        const runs = api.runs({ ...(scenarioId === null || scenarioId === "" ? {} : { scenario_id: scenarioId }), ...(limit === undefined ? {} : { limit }) });
        sendJson(res, 200, { runs });
      },
    },
    {
      method: "POST",
      path: "/api/scenario/replay",
      handler: async (req, res) => {
        const api = need();
        const { run_id, dry_run } = parseReplayBody(await readJsonObject(req, maxBodyBytes));
        const started = api.replay(run_id, dry_run === undefined ? {} : { dry_run });
        sendStarted(res, started);
      },
    },
    {
      method: "GET",
      path: "/api/scenarios",
      handler: (_req, res) => sendJson(res, 200, { scenarios: need().scenarios() }),
    },
    {
      method: "GET",
      path: "/api/scenario/schedules",
      handler: (_req, res) => sendJson(res, 200, { schedules: need().schedules() }),
    },
    {
      method: "POST",
      path: "/api/scenario/schedules",
      handler: async (req, res) => {
        const api = need();
        // Untrusted as it stands: the runtime checks it in full (checkSchedule → E_SCHEDULE_INVALID).
        const input = (await readJsonObject(req, maxBodyBytes)) as unknown as ScheduleInput;
        const view = api.createSchedule(input);
        logger.info({ schedule_id: view.id, scenario_id: view.scenario_id }, "schedule created through the API");
        sendJson(res, 201, view);
      },
    },
    {
      method: "DELETE",
      path: SCHEDULE_PATH,
      handler: (_req, res, ctx) => {
        const api = need();
        const id = lastSegment(ctx.url, "schedule id");
        api.deleteSchedule(id);
        logger.info({ schedule_id: id }, "schedule deleted through the API");
        sendJson(res, 200, { deleted: true, id });
      },
    },
  ];
}

/** 202 for a new run; 200 when the runtime answers with the run that already existed for the key. */
function sendStarted(res: ServerResponse, started: RunStarted & { readonly replay_of?: string }): void {
  sendJson(res, started.duplicate === true ? 200 : 202, started);
}
