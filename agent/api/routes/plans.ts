/**
 * The hub's plan runtime over HTTP (agent/plans/plan-port.ts): the seed's /resolve and /exec.
 * A member, or a hub without the runtime, answers 404 saying the hub resolves.
 *
 *   POST /resolve {plan, ctx?}                   → 200 {ok, bindings, rejected, unresolved, hub_id, nodes}
 *   POST /exec    {plan, ctx?, correlation_id?}  → 202 {run_id, correlation_id, state}
 *   GET  /exec/{run_id}                          → 200 PlanRunStatus (steps, route_changes)
 *   POST /exec/{run_id}/cancel                   → 200 PlanRunStatus
 * A bad plan is 400 E_BAD_REQUEST with one `pointer message` issue per problem.
 */
import { BadRequestError, NotFoundError } from "../../core/errors.js";
import type { PlanApi, PlanRequest } from "../../plans/plan-port.js";
import { readJsonObject, sendJson, type Route } from "../http.js";

export interface PlanRoutesDeps {
  readonly plans: PlanApi | undefined;
  readonly maxBodyBytes: number;
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/** The body's fields, checked for shape; the plan itself is checked by the runtime against its schema. */
export function parsePlanRequest(body: Record<string, unknown>): PlanRequest {
  const unknown = Object.keys(body).filter((k) => !["plan", "ctx", "correlation_id"].includes(k));
  if (unknown.length > 0) throw new BadRequestError(`unknown field${unknown.length === 1 ? "" : "s"} ${unknown.join(", ")} (expected plan, ctx, correlation_id)`);
  if (!isRecord(body.plan)) throw new BadRequestError("plan must be an object (abi/plan.schema.json)");
  const ctx = body.ctx;
  if (ctx !== undefined && !isRecord(ctx)) throw new BadRequestError("ctx must be an object {origin?, allow_addressed?}");
  if (ctx?.origin !== undefined && typeof ctx.origin !== "string") throw new BadRequestError("ctx.origin must be a node id");
  if (ctx?.allow_addressed !== undefined && typeof ctx.allow_addressed !== "boolean") throw new BadRequestError("ctx.allow_addressed must be true or false");
  const cid = body.correlation_id;
  if (cid !== undefined && (typeof cid !== "string" || cid.length === 0 || cid.length > 128)) throw new BadRequestError("correlation_id must be a string of 1–128 characters");
  return {
    plan: body.plan,
    ...(ctx === undefined ? {} : { ctx: { ...(ctx.origin === undefined ? {} : { origin: ctx.origin }), ...(ctx.allow_addressed === undefined ? {} : { allow_addressed: ctx.allow_addressed }) } }),
    ...(cid === undefined ? {} : { correlation_id: cid }),
  };
}

export function planRoutes(deps: PlanRoutesDeps): Route[] {
  const need = (): PlanApi => {
    if (deps.plans === undefined) throw new NotFoundError("plans are resolved and run by the hub: send this to the hub's API");
    return deps.plans;
  };
  const runId = (path: string, suffix = ""): string => {
    const raw = path.slice("/exec/".length, path.length - suffix.length);
    try {
      return decodeURIComponent(raw);
    } catch {
      throw new BadRequestError(`the run id ${JSON.stringify(raw)} is not valid percent-encoding`);
    }
  };
  const known = <T>(id: string, v: T | undefined): T => {
    if (v === undefined) throw new NotFoundError(`no plan run ${id} (runs are kept in memory until the hub restarts)`);
    return v;
  };
  return [
    {
      method: "POST",
      path: "/resolve",
      handler: async (req, res) => {
        const api = need();
        sendJson(res, 200, api.resolve(parsePlanRequest(await readJsonObject(req, deps.maxBodyBytes))));
      },
    },
    {
      method: "POST",
      path: "/exec",
      handler: async (req, res) => {
        const api = need();
        sendJson(res, 202, api.exec(parsePlanRequest(await readJsonObject(req, deps.maxBodyBytes))));
      },
    },
    {
      method: "GET",
      path: "/exec/{run_id}",
      handler: (_req, res, ctx) => {
        const id = runId(ctx.url.pathname);
        sendJson(res, 200, known(id, need().status(id)));
      },
    },
    {
      method: "POST",
      path: "/exec/{run_id}/cancel",
      handler: (_req, res, ctx) => {
        const id = runId(ctx.url.pathname, "/cancel");
        sendJson(res, 200, known(id, need().cancel(id)));
      },
    },
  ];
}
