/**
 * Received messages that no handler may see (malformed JSON, an invalid envelope or payload, an
 * unknown event, too large) are kept in the dead-letter queue as `invalid`, with the validation
 * error, so a bad producer can be diagnosed and its messages replayed once fixed — the transport's
 * onInvalid hook. The ids and names are read best-effort for listing.
 */
import type { AdaosError } from "../core/errors.js";
import type { Logger } from "../core/logger.js";
import type { InvalidHook, InvalidReason } from "../transport/ingress.js";
import type { DeadLetters } from "./dead-letters.js";

/** Kept of an oversized message: enough to see what it was; the error says it was cut. */
export const DLQ_MAX_KEPT_BYTES = 64 * 1024;

function field(parsed: unknown, key: string): string | undefined {
  if (typeof parsed !== "object" || parsed === null) return undefined;
  const v = (parsed as Record<string, unknown>)[key];
  return typeof v === "string" ? v.slice(0, 256) : undefined;
}

function peek(raw: Uint8Array): unknown {
  if (raw.byteLength > DLQ_MAX_KEPT_BYTES) return undefined;
  try {
    return JSON.parse(Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength).toString("utf8")) as unknown;
  } catch {
    return undefined;
  }
}

export function invalidToDlq(dlq: DeadLetters, logger: Logger): InvalidHook {
  return (raw: Uint8Array, reason: InvalidReason, error: AdaosError, subject: string) => {
    const cut = raw.byteLength > DLQ_MAX_KEPT_BYTES;
    const parsed = peek(raw);
    try {
      dlq.add([{
        reason: "invalid",
        origin: "inbound",
        data: cut ? raw.slice(0, DLQ_MAX_KEPT_BYTES) : raw,
        id: field(parsed, "id"),
        eventName: field(parsed, "event_name"),
        subject,
        source: field(parsed, "source"),
        attempts: 1,
        lastError: `${reason}: ${error.message}${cut ? ` (only the first ${DLQ_MAX_KEPT_BYTES} of ${raw.byteLength} bytes kept)` : ""}`,
      }]);
    } catch (err) {
      logger.error({ err, subject, reason }, "could not keep an invalid message in the dead-letter queue");
    }
  };
}
