/**
 * What the bus refuses or drops, and where it goes. An envelope that expired (ARCHITECTURE.md: "an
 * expired envelope goes to the DLQ with reason `expired`, never executed") is kept in the
 * dead-letter queue once, however many subscribers it expired for. Invalid and unknown envelopes
 * were refused to their publisher, who got the error (network input is kept by the transports'
 * invalid hook); those are logged at debug. Drops after acceptance (a slow subscriber, a closing
 * one) reach nobody else: a warning.
 */
import type { Envelope } from "../../abi/envelope.js";
import type { RejectHook } from "../bus/bus.js";
import { DedupWindow } from "../bus/dedup.js";
import type { Logger } from "../core/logger.js";
import type { DeadLetters } from "./dead-letters.js";

/** Ids of envelopes already kept as expired: one per envelope, not one per subscriber. */
const EXPIRED_SEEN = 10_000;

export function busRejectsToDlq(dlq: DeadLetters, logger: Logger): RejectHook {
  const kept = new DedupWindow(EXPIRED_SEEN);
  return (data, reason, error) => {
    const env = typeof data === "object" && data !== null ? (data as Partial<Envelope>) : {};
    if (reason === "expired" && typeof env.id === "string") {
      if (kept.seen(env.id)) return;
      try {
        dlq.add([{
          reason: "expired", origin: "inbound", data: Buffer.from(JSON.stringify(data)),
          id: env.id, eventName: env.event_name, source: env.source, attempts: 0, lastError: error.message,
        }]);
      } catch (err) {
        logger.error({ err, id: env.id }, "could not keep an expired envelope in the dead-letter queue");
      }
      return;
    }
    const level = reason === "invalid" || reason === "unknown_event" ? "debug" : "warn";
    logger[level]({ reason, id: env.id, event: env.event_name, err: error.message }, "envelope refused or dropped");
  };
}
