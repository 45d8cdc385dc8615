/**
 * The dead-letter queue over HTTP: list (paged, without the bytes), show one (with its envelope),
 * replay (back through validation; replayed entries leave the DLQ, failed ones stay with the
 * reason) and purge. An agent without an outbox has no DLQ: every route answers 404 saying so.
 *
 *   GET  /api/dlq?reason=&after=&limit=   → {items: [...], next_after}
 *   GET  /api/dlq/{dlq_id}                → item + envelope | data_base64
 *   POST /api/dlq/replay {ids | reason | all: true} → {replayed, failed: [{dlq_id, code, message}], failed_total}
 *   POST /api/dlq/purge  {ids | reason | all: true} → {purged}
 */
import type { IncomingMessage } from "node:http";
import { BadRequestError, NotFoundError, type Issue } from "../../core/errors.js";
import { DEAD_REASONS, type DeadLetter, type DeadLetters, type DeadReason } from "../../outbox/dead-letters.js";
import { replayDeadLetter, type ReplayDeps } from "../../outbox/replay.js";
import { readJsonObject, sendJson, type Route } from "../http.js";

/** Page size of GET /api/dlq when the client names none, and the most it may ask for. */
const DEFAULT_LIMIT = 100;
const MAX_LIMIT = 1000;
/** Most ids one replay or purge request may name. */
const MAX_IDS = 10_000;
/** Entries replayed concurrently: one outbox transaction (one fsync) covers a batch. */
const REPLAY_BATCH = 256;
/** Failures listed in a replay answer; `failed_total` counts them all (a DLQ of 100k expired entries). */
const MAX_FAILED_LISTED = 1000;

export const DLQ_ITEM_PATH = "/api/dlq/{dlq_id}";

export interface DlqRoutesDeps {
  /** Absent: the agent has no outbox, and so no DLQ. */
  readonly dlq: DeadLetters | undefined;
  /** Absent with a DLQ present is a composition error (the server refuses to start). */
  readonly replay: ReplayDeps | undefined;
  readonly maxBodyBytes: number;
}

/** A replay or purge target: exactly one of these. */
type Selection = { readonly ids: readonly number[] } | { readonly reason: DeadReason } | { readonly all: true };

interface Failure {
  readonly dlq_id: number;
  readonly code: string;
  readonly message: string;
  readonly issues?: readonly Issue[];
}

export function dlqRoutes(deps: DlqRoutesDeps): Route[] {
  const need = (): DeadLetters => {
    if (deps.dlq === undefined) throw new NotFoundError("this agent has no outbox, and so no dead-letter queue");
    return deps.dlq;
  };
  return [
    {
      method: "GET",
      path: "/api/dlq",
      handler: (_req, res, ctx) => {
        const dlq = need();
        const q = ctx.url.searchParams;
        const reason = reasonParam(q.get("reason"), "reason");
        const after = intParam(q.get("after"), "after", 0) ?? 0;
        const limit = intParam(q.get("limit"), "limit", 1, MAX_LIMIT) ?? DEFAULT_LIMIT;
        const entries = dlq.list({ after, limit, ...(reason === undefined ? {} : { reason }) });
        const last = entries.at(-1);
        sendJson(res, 200, { items: entries.map(item), next_after: entries.length === limit && last !== undefined ? last.dlqId : null });
      },
    },
    {
      method: "GET",
      path: DLQ_ITEM_PATH,
      handler: (_req, res, ctx) => {
        const dlq = need();
        const dlqId = pathId(ctx.url);
        const entry = dlq.get(dlqId);
        if (entry === undefined) throw new NotFoundError(`no dead letter ${dlqId}`);
        sendJson(res, 200, { ...item(entry), ...content(entry) });
      },
    },
    {
      method: "POST",
      path: "/api/dlq/replay",
      handler: async (req, res) => {
        const dlq = need();
        const selection = await readSelection(req, deps.maxBodyBytes, "replay");
        if (deps.replay === undefined) throw new NotFoundError("this agent cannot replay dead letters (no event catalog given to its API)");
        sendJson(res, 200, await replay(dlq, selection, deps.replay));
      },
    },
    {
      method: "POST",
      path: "/api/dlq/purge",
      handler: async (req, res) => {
        const dlq = need();
        const selection = await readSelection(req, deps.maxBodyBytes, "purge");
        let purged: number;
        if ("ids" in selection) purged = dlq.remove(selection.ids);
        else if ("reason" in selection) purged = dlq.purge({ reason: selection.reason });
        else purged = dlq.purge();
        sendJson(res, 200, { purged });
      },
    },
  ];
}

/** One entry as listed: everything but the bytes. */
function item(e: DeadLetter): Record<string, unknown> {
  return {
    dlq_id: e.dlqId,
    reason: e.reason,
    origin: e.origin,
    id: e.id,
    event_name: e.eventName,
    subject: e.subject,
    source: e.source,
    attempts: e.attempts,
    last_error: e.lastError,
    dead_at: new Date(e.deadAt).toISOString(),
  };
}

/** The bytes as parsed JSON when they are JSON (an invalid entry may not be), else base64. */
function content(e: DeadLetter): { envelope: unknown } | { data_base64: string } {
  const bytes = Buffer.from(e.data.buffer, e.data.byteOffset, e.data.byteLength);
  try {
    return { envelope: JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes)) };
  } catch {
    return { data_base64: bytes.toString("base64") };
  }
}

async function replay(dlq: DeadLetters, selection: Selection, deps: ReplayDeps): Promise<Record<string, unknown>> {
  const failed: Failure[] = [];
  let failedTotal = 0;
  let replayed = 0;
  const fail = (f: Failure): void => {
    failedTotal++;
    if (failed.length < MAX_FAILED_LISTED) failed.push(f);
  };
  const run = async (entries: readonly DeadLetter[]): Promise<void> => {
    // Started in order (each publishes or enqueues before its first await), settled together.
    const results = await Promise.all(entries.map((e) => replayDeadLetter(e, deps)));
    const done: number[] = [];
    results.forEach((r, i) => {
      const dlqId = (entries[i] as DeadLetter).dlqId;
      if (r.ok) done.push(dlqId);
      else fail({ dlq_id: dlqId, code: r.code, message: r.message, ...(r.issues === undefined ? {} : { issues: r.issues }) });
    });
    replayed += dlq.remove(done);
  };

  if ("ids" in selection) {
    const found: DeadLetter[] = [];
    for (const dlqId of new Set(selection.ids)) {
      const e = dlq.get(dlqId);
      if (e === undefined) fail({ dlq_id: dlqId, code: "E_NOT_FOUND", message: `no dead letter ${dlqId}` });
      else found.push(e);
    }
    for (let i = 0; i < found.length; i += REPLAY_BATCH) await run(found.slice(i, i + REPLAY_BATCH));
  } else {
    const reason = "reason" in selection ? selection.reason : undefined;
    const filter = reason === undefined ? {} : { reason };
    // A replay can file new dead letters (a handler fails again); visiting no more than were there
    // at the start keeps this from chasing its own tail.
    const counts = dlq.count();
    let budget = reason === undefined ? counts.total : counts.byReason[reason];
    let after = 0;
    while (budget > 0) {
      const page = dlq.list({ ...filter, after, limit: Math.min(REPLAY_BATCH, budget) });
      const last = page.at(-1);
      if (last === undefined) break;
      budget -= page.length;
      after = last.dlqId;
      await run(page);
    }
  }
  return { replayed, failed, failed_total: failedTotal };
}

const SELECTION_KEYS = new Set(["ids", "reason", "all"]);

/** The body of replay/purge as a Selection; anything else is 400 with pointers. */
async function readSelection(req: IncomingMessage, maxBodyBytes: number, verb: string): Promise<Selection> {
  const body = await readJsonObject(req, maxBodyBytes);
  const issues: Issue[] = [];
  for (const key of Object.keys(body)) if (!SELECTION_KEYS.has(key)) issues.push({ pointer: `/${key.replace(/~/g, "~0").replace(/\//g, "~1")}`, message: "is not allowed (ids, reason or all)" });
  const given = [...SELECTION_KEYS].filter((k) => body[k] !== undefined);
  if (issues.length === 0 && given.length !== 1) {
    const what = given.length === 0 ? "nothing was selected" : `${given.join(" and ")} were both given`;
    issues.push({ pointer: "/", message: `${what}: send exactly one of {"ids": [1, 2]}, {"reason": "${DEAD_REASONS.join("|")}"} or {"all": true} (${verb} everything needs all: true)` });
  }
  if (issues.length === 0) {
    if (body.ids !== undefined) {
      const ids = body.ids;
      if (!Array.isArray(ids) || ids.length === 0 || ids.length > MAX_IDS) issues.push({ pointer: "/ids", message: `must be an array of 1 to ${MAX_IDS} dlq ids` });
      else ids.forEach((v, i) => { if (!Number.isSafeInteger(v) || (v as number) < 1) issues.push({ pointer: `/ids/${i}`, message: "must be a positive integer" }); });
      if (issues.length === 0) return { ids: ids as number[] };
    } else if (body.reason !== undefined) {
      if (typeof body.reason !== "string" || !(DEAD_REASONS as readonly string[]).includes(body.reason)) issues.push({ pointer: "/reason", message: `must be one of ${DEAD_REASONS.join(", ")}` });
      else return { reason: body.reason as DeadReason };
    } else if (body.all !== true) {
      issues.push({ pointer: "/all", message: `must be true (to ${verb} everything)` });
    } else {
      return { all: true };
    }
  }
  throw new BadRequestError(`invalid ${verb} request: ${issues.map((i) => `${i.pointer} ${i.message}`).join("; ")}`, { issues });
}

/** The {dlq_id} of /api/dlq/{dlq_id} (the last path segment). */
function pathId(url: URL): number {
  const raw = url.pathname.slice(url.pathname.lastIndexOf("/") + 1);
  const id = intParam(raw, "dlq_id", 1);
  if (id === undefined) throw new BadRequestError("the dlq id is missing from the path");
  return id;
}

function reasonParam(value: string | null, name: string): DeadReason | undefined {
  if (value === null || value === "") return undefined;
  if (!(DEAD_REASONS as readonly string[]).includes(value)) {
    throw new BadRequestError(`${name} must be one of ${DEAD_REASONS.join(", ")}, got "${value}"`, { issues: [{ pointer: `/${name}`, message: `must be one of ${DEAD_REASONS.join(", ")}` }] });
  }
  return value as DeadReason;
}

function intParam(value: string | null, name: string, min: number, max = Number.MAX_SAFE_INTEGER): number | undefined {
  if (value === null || value === "") return undefined;
  const n = /^\d+$/.test(value) ? Number(value) : NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    throw new BadRequestError(`${name} must be an integer between ${min} and ${max}, got "${value}"`, { issues: [{ pointer: `/${name}`, message: `must be an integer between ${min} and ${max}` }] });
  }
  return n;
}
