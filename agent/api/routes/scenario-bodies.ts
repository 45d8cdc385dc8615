/**
 * The bodies and query parameters the scenario routes take, checked at the boundary. Each parser
 * knows its fields exactly: an unknown one (run_id and correlation_id included: the runtime
 * makes those, not clients) or a value of the wrong type is a BadRequestError whose message names
 * every problem and whose issues carry a JSON pointer each. Schedule bodies are not parsed here:
 * the runtime checks them with checkSchedule (ScheduleInvalidError).
 */
import { BadRequestError, type Issue } from "../../core/errors.js";
import { RUN_PRIORITIES, type RunPriority } from "../../scenarios/scenario.js";
import type { RunRequest } from "../../scenarios/scenario-port.js";

/** Most runs one GET /api/scenario/runs may ask for (without a limit the runtime picks its default). */
export const MAX_RUNS_LIMIT = 500;

/** What POST /api/scenario/run passes on: a RunRequest without the ids the runtime generates. */
export type RunBody = Omit<RunRequest, "run_id" | "correlation_id">;

export interface ReplayBody {
  readonly run_id: string;
  readonly dry_run?: boolean;
}

type Field = "string" | "object" | "boolean" | "priority";

/** One body's fields; `required` ones must be present. */
interface Shape {
  readonly what: string;
  readonly fields: Readonly<Record<string, Field>>;
  readonly required: readonly string[];
}

const RUN: Shape = { what: "run request", fields: { id: "string", ctx: "object", priority: "priority", force: "boolean", dry_run: "boolean" }, required: ["id"] };
const CANCEL: Shape = { what: "cancel request", fields: { run_id: "string" }, required: ["run_id"] };
const REPLAY: Shape = { what: "replay request", fields: { run_id: "string", dry_run: "boolean" }, required: ["run_id"] };

export function parseRunBody(body: Record<string, unknown>): RunBody {
  const b = checked(body, RUN);
  return {
    id: b.id as string,
    ...(b.ctx === undefined ? {} : { ctx: b.ctx as Record<string, unknown> }),
    ...(b.priority === undefined ? {} : { priority: priority(b.priority) as RunPriority }),
    ...(b.force === undefined ? {} : { force: b.force as boolean }),
    ...(b.dry_run === undefined ? {} : { dry_run: b.dry_run as boolean }),
  };
}

export function parseCancelBody(body: Record<string, unknown>): { readonly run_id: string } {
  return { run_id: checked(body, CANCEL).run_id as string };
}

export function parseReplayBody(body: Record<string, unknown>): ReplayBody {
  const b = checked(body, REPLAY);
  return { run_id: b.run_id as string, ...(b.dry_run === undefined ? {} : { dry_run: b.dry_run as boolean }) };
}

/** A query parameter that must be present and non-empty. */
export function requiredParam(q: URLSearchParams, name: string): string {
  const v = q.get(name);
  if (v === null || v === "") throw new BadRequestError(`the query parameter ${name} is required`, { issues: [{ pointer: `/${name}`, message: "is required" }] });
  return v;
}

/** ?limit= of GET /api/scenario/runs: an integer 1..MAX_RUNS_LIMIT, or undefined when absent. */
export function limitParam(q: URLSearchParams): number | undefined {
  const v = q.get("limit");
  if (v === null || v === "") return undefined;
  const n = /^\d+$/.test(v) ? Number(v) : NaN;
  if (!Number.isSafeInteger(n) || n < 1 || n > MAX_RUNS_LIMIT) {
    throw new BadRequestError(`limit must be an integer between 1 and ${MAX_RUNS_LIMIT}, got "${v}"`, {
      issues: [{ pointer: "/limit", message: `must be an integer between 1 and ${MAX_RUNS_LIMIT}` }],
    });
  }
  return n;
}

/** The last path segment, decoded (`/api/scenario/schedules/{id}`). */
export function lastSegment(url: URL, name: string): string {
  const raw = url.pathname.slice(url.pathname.lastIndexOf("/") + 1);
  try {
    return decodeURIComponent(raw);
  } catch (err) {
    throw new BadRequestError(`the ${name} in the path is not valid percent-encoding: "${raw}"`, { cause: err });
  }
}

/** HIGH, NORM, LOW, or the same in lower case; undefined for anything else. */
function priority(v: unknown): RunPriority | undefined {
  if (typeof v !== "string") return undefined;
  return RUN_PRIORITIES.find((p) => p === v || p.toLowerCase() === v);
}

function typeError(type: Field, v: unknown): string | undefined {
  switch (type) {
    case "string":
      return typeof v === "string" && v.length > 0 ? undefined : "must be a non-empty string";
    case "boolean":
      return typeof v === "boolean" ? undefined : "must be true or false";
    case "object":
      return typeof v === "object" && v !== null && !Array.isArray(v) ? undefined : "must be a JSON object";
    case "priority":
      return priority(v) === undefined ? `must be one of ${RUN_PRIORITIES.join(", ")} (or lower case)` : undefined;
  }
}

/** The body itself once every field is known, present when required and of its type. */
function checked(body: Record<string, unknown>, shape: Shape): Record<string, unknown> {
  const issues: Issue[] = [];
  const known = Object.keys(shape.fields);
  for (const key of Object.keys(body)) {
    if (!Object.hasOwn(shape.fields, key)) issues.push({ pointer: pointer(key), message: `is not allowed (known: ${known.join(", ")})` });
  }
  for (const key of shape.required) if (body[key] === undefined) issues.push({ pointer: pointer(key), message: "is required" });
  for (const [key, type] of Object.entries(shape.fields)) {
    const v = body[key];
    const problem = v === undefined ? undefined : typeError(type, v);
    if (problem !== undefined) issues.push({ pointer: pointer(key), message: problem });
  }
  if (issues.length > 0) throw new BadRequestError(`invalid ${shape.what}: ${issues.map((i) => `${i.pointer} ${i.message}`).join("; ")}`, { issues });
  return body;
}

function pointer(key: string): string {
  return `/${key.replace(/~/g, "~0").replace(/\//g, "~1")}`;
}
