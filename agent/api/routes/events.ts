/**
 * Events over HTTP: publish onto the bus, and watch the bus as Server-Sent Events.
 *
 * POST /api/events/publish takes a full envelope (it has an `id`) or the short form
 * {event_name, version?, payload?, priority?, ttl_ms?, headers?, kind?, correlation_id?, …}
 * from which an envelope is created here with this API's source and tenant. The bus validates.
 * A JSON array of those is a batch: published in order (a gateway posting readings, a replay),
 * answered 200 with one result per item — a bad item is reported and does not stop the rest.
 *
 * GET /api/events/stream?pattern=ui.> streams matching envelopes as SSE (WHATWG HTML
 * "server-sent events"): `id`, `event` (the event_name) and `data` (the envelope JSON) per event.
 */
import type { ServerResponse } from "node:http";
import type { Envelope } from "../../../abi/envelope.js";
import type { Bus } from "../../bus/bus.js";
import { patternTokens } from "../../bus/subject.js";
import type { Clock, TimerHandle } from "../../core/clock.js";
import { createEnvelope, type EnvelopeInit } from "../../core/envelope.js";
import { AdaosError, BadRequestError, InternalError, type Issue } from "../../core/errors.js";
import type { Logger } from "../../core/logger.js";
import type { Counter, MetricsRegistry } from "../../core/metrics.js";
import { readJson, sendJson, type Route } from "../http.js";

/** How long an EventSource waits before reconnecting after the stream drops (sent as `retry:`). */
const SSE_RETRY_MS = 3000;

/** The fields the short form may carry; anything else needs a full envelope. */
const SHORT_FORM_FIELDS = new Set([
  "event_name", "version", "payload", "priority", "ttl_ms", "headers", "kind", "correlation_id", "causation_id", "session_id",
]);

/** Short-form fields copied into the envelope as given (the envelope schema checks them). */
const PASSED_THROUGH = ["kind", "priority", "ttl_ms", "headers", "correlation_id", "causation_id", "session_id"] as const;

export interface EventRoutesDeps {
  readonly bus: Bus;
  /** Source of envelopes created from the short form, e.g. `api@<node_id>`. */
  readonly source: string;
  readonly tenant: string;
  readonly clock: Clock;
  readonly maxBodyBytes: number;
  readonly sseHeartbeatMs: number;
  /** A stream whose unsent bytes exceed this has new events dropped (and counted) instead of queued. */
  readonly sseMaxBufferBytes: number;
  readonly metrics: MetricsRegistry;
  readonly logger: Logger;
  /** Open streams register their closer here so the server can end them on stop(). */
  readonly streams: Set<() => void>;
}

export function eventRoutes(deps: EventRoutesDeps): Route[] {
  const sse = sseCounters(deps);
  return [
    {
      method: "POST",
      path: "/api/events/publish",
      handler: async (req, res) => {
        const body = await readJson(req, deps.maxBodyBytes);
        if (Array.isArray(body)) {
          sendJson(res, 200, { results: body.map((item: unknown) => publishOne(item, deps)) });
          return;
        }
        if (!isObject(body)) throw new BadRequestError("the body must be a JSON object (an event) or an array of them (a batch)");
        const result = deps.bus.publish("id" in body ? body : fromShortForm(body, deps));
        if (result.duplicate) sendJson(res, 200, { id: result.id, status: "duplicate" });
        else sendJson(res, 202, { id: result.id, status: "accepted", matched: result.matched });
      },
    },
    {
      method: "GET",
      path: "/api/events/stream",
      handler: (req, res, ctx) => {
        const pattern = ctx.url.searchParams.get("pattern") ?? ">";
        patternTokens(pattern); // SubjectInvalidError (400) before the stream starts
        openStream(res, pattern, deps, sse);
        deps.logger.debug({ pattern, remote: req.socket.remoteAddress }, "event stream opened");
      },
    },
  ];
}

type ItemResult =
  | { readonly id: string; readonly status: "accepted"; readonly matched: number }
  | { readonly id: string; readonly status: "duplicate" }
  | { readonly status: "rejected"; readonly error: ReturnType<AdaosError["toWire"]> };

/** One item of a batch: its result, never a throw. */
function publishOne(item: unknown, deps: EventRoutesDeps): ItemResult {
  try {
    if (!isObject(item)) throw new BadRequestError("a batch item must be a JSON object");
    const result = deps.bus.publish("id" in item ? item : fromShortForm(item, deps));
    return result.duplicate ? { id: result.id, status: "duplicate" } : { id: result.id, status: "accepted", matched: result.matched };
  } catch (err) {
    const known = err instanceof AdaosError ? err : new InternalError(String(err));
    return { status: "rejected", error: known.toWire() };
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function escapeToken(key: string): string {
  return key.replace(/~/g, "~0").replace(/\//g, "~1");
}

/**
 * An envelope from the short form. Only what createEnvelope would otherwise mangle is checked
 * here; types and ranges (version, priority, ttl_ms, header values) are the envelope schema's job
 * at bus.publish, whose issues point at the same field names.
 */
function fromShortForm(body: Record<string, unknown>, deps: EventRoutesDeps): Envelope {
  const issues: Issue[] = [];
  for (const key of Object.keys(body)) {
    if (!SHORT_FORM_FIELDS.has(key)) issues.push({ pointer: `/${escapeToken(key)}`, message: "is not allowed in the short form (send a full envelope with id to set it)" });
  }
  if (body.event_name === undefined) issues.push({ pointer: "/event_name", message: "is required" });
  else if (typeof body.event_name !== "string") issues.push({ pointer: "/event_name", message: "must be string" });
  if (body.payload !== undefined && !isObject(body.payload)) issues.push({ pointer: "/payload", message: "must be object" });
  if (body.headers !== undefined && !isObject(body.headers)) issues.push({ pointer: "/headers", message: "must be object" });
  if (issues.length > 0) {
    const shown = issues.map((i) => `${i.pointer} ${i.message}`).join("; ");
    throw new BadRequestError(`invalid event: ${shown}`, { issues });
  }
  const passed: Record<string, unknown> = {};
  for (const key of PASSED_THROUGH) if (body[key] !== undefined) passed[key] = body[key];
  // Unchecked values are fine here: bus.publish validates the whole envelope against its schema.
  const init = {
    ...passed,
    event_name: body.event_name,
    version: body.version ?? 1,
    payload: body.payload ?? {},
    source: deps.source,
    tenant: deps.tenant,
  } as EnvelopeInit;
  return createEnvelope(init, deps.clock);
}

interface SseCounters {
  readonly sent: Counter;
  readonly dropped: Counter;
}

function sseCounters(deps: EventRoutesDeps): SseCounters {
  const m = deps.metrics;
  m.gauge("adaos_sse_clients", "Open event streams (GET /api/events/stream).", () => [[{}, deps.streams.size]]);
  return {
    sent: m.counter("adaos_sse_sent_total", "Envelopes written to event stream clients."),
    dropped: m.counter("adaos_sse_dropped_total", "Envelopes not written to an event stream client because it read too slowly."),
  };
}

function frame(envelope: Envelope): string {
  // JSON.stringify never emits a raw newline, so the envelope is one `data:` line.
  return `id: ${envelope.id}\nevent: ${envelope.event_name}\ndata: ${JSON.stringify(envelope)}\n\n`;
}

function openStream(res: ServerResponse, pattern: string, deps: EventRoutesDeps, counters: SseCounters): void {
  let dropped = 0;
  // Subscribe before the headers go out: a stopped bus still answers with a JSON error.
  const sub = deps.bus.subscribe(pattern, (envelope) => {
    if (res.writableLength > deps.sseMaxBufferBytes) {
      dropped++;
      counters.dropped.inc();
      return;
    }
    // Tell the client how many it missed once it has caught up (a comment: EventSource ignores it).
    const note = dropped > 0 ? `: dropped ${dropped}\n\n` : "";
    dropped = 0;
    res.write(note + frame(envelope));
    counters.sent.inc();
  });
  res.writeHead(200, {
    "content-type": "text/event-stream; charset=utf-8",
    "cache-control": "no-cache",
    // nginx and similar proxies buffer responses unless told not to.
    "x-accel-buffering": "no",
  });
  res.write(`: connected\nretry: ${SSE_RETRY_MS}\n\n`);

  let timer: TimerHandle | undefined;
  const beat = (): void => {
    if (res.writableLength <= deps.sseMaxBufferBytes) res.write(": heartbeat\n\n");
    timer = deps.clock.setTimer(beat, deps.sseHeartbeatMs);
  };
  timer = deps.clock.setTimer(beat, deps.sseHeartbeatMs);

  let closed = false;
  const close = (): void => {
    if (closed) return;
    closed = true;
    sub.unsubscribe();
    timer?.cancel();
    deps.streams.delete(close);
    if (!res.writableEnded) res.end();
  };
  deps.streams.add(close);
  res.on("close", close);
}
