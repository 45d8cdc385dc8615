/**
 * GET /api/outbox/stats: the outbox's depth, bytes, oldest age and counters, the DLQ's counts,
 * and the relay's status when the agent runs one. Rates are the client's job (two samples).
 * An agent without an outbox answers 404 saying so.
 */
import { NotFoundError } from "../../core/errors.js";
import type { Logger } from "../../core/logger.js";
import type { DeadLetters } from "../../outbox/dead-letters.js";
import type { Outbox } from "../../outbox/outbox.js";
import { sendJson, type Route } from "../http.js";

export interface OutboxRoutesDeps {
  readonly outbox: Outbox | undefined;
  /** The DLQ counted in the answer; the outbox's own when not given. */
  readonly dlq: DeadLetters | undefined;
  /** The relay's own view (link state, backoff, last error) as a JSON object; absent when there is no relay. */
  readonly relayStatus: (() => object) | undefined;
  readonly logger: Logger;
}

export function outboxRoutes(deps: OutboxRoutesDeps): Route[] {
  return [
    {
      method: "GET",
      path: "/api/outbox/stats",
      handler: (_req, res) => {
        if (deps.outbox === undefined) throw new NotFoundError("this agent has no outbox");
        sendJson(res, 200, { ...outboxStats(deps.outbox, deps.dlq ?? deps.outbox.dlq), ...relay(deps) });
      },
    },
  ];
}

function outboxStats(outbox: Outbox, deadLetters: DeadLetters): Record<string, unknown> {
  const s = outbox.stats();
  const dlq = deadLetters.count();
  return {
    depth: s.depth,
    bytes: s.bytes,
    in_flight: s.inFlight,
    oldest_age_s: Math.round(s.oldestAgeMs) / 1000,
    added: s.added,
    sent: s.sent,
    expired: s.expired,
    overflowed: s.overflowed,
    poisoned: s.poisoned,
    retried: s.retried,
    dlq: { total: dlq.total, by_reason: dlq.byReason },
  };
}

/** The relay's status; a status function that throws is reported in the answer, not as a 500. */
function relay(deps: OutboxRoutesDeps): { relay?: object } {
  if (deps.relayStatus === undefined) return {};
  try {
    return { relay: deps.relayStatus() };
  } catch (err) {
    deps.logger.error({ err }, "relay status failed");
    return { relay: { error: `relay status failed: ${(err as Error).message}` } };
  }
}
