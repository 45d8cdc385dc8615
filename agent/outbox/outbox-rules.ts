/**
 * The rules both outbox implementations (sqlite-outbox.ts, memory-outbox.ts) apply the same way:
 * when an entry expires, the last error written on an entry that leaves for the dead-letter queue
 * without a send error of its own (overflow, expiry), and the counters they keep.
 */
import type { Envelope } from "../../abi/envelope.js";
import { expiresAt } from "../core/envelope.js";
import type { OutboxLimits, OutboxStats } from "./outbox.js";

/** Entries taken off the store per step when sweeping or overflowing: bounds memory, not work. */
export const MOVE_CHUNK = 1000;

/** Joins the reason an entry died to the send error it had before (overflow, expiry). */
export const LAST_ERROR_JOIN = "; last send error: ";

/** The counters of OutboxStats, as an implementation keeps them. */
export type OutboxCounters = { -readonly [K in Exclude<keyof OutboxStats, "depth" | "bytes" | "inFlight" | "oldestAgeMs">]: number };

export function zeroCounters(): OutboxCounters {
  return { added: 0, sent: 0, expired: 0, overflowed: 0, poisoned: 0, retried: 0 };
}

export const EXPIRED_ERROR = "expired before it could be sent";

/** The outbox TTL from now, or the envelope's own ttl_ms from its ts, whichever ends first. */
export function entryExpiry(envelope: Envelope<object>, now: number, ttlMs: number): number {
  const outbox = now + ttlMs;
  const own = expiresAt(envelope);
  return own === undefined || Number.isNaN(own) ? outbox : Math.min(outbox, own);
}

/** The fields of a new outbox entry both implementations store, taken from its envelope. */
export function newEntryFields(subject: string, envelope: Envelope, now: number, ttlMs: number) {
  return {
    id: envelope.id,
    subject,
    priority: envelope.priority,
    source: envelope.source,
    enqueuedAt: now,
    expiresAt: entryExpiry(envelope, now, ttlMs),
  };
}

/** Why an entry was moved out for room, e.g. "outbox full (1000 rows / 256 MiB limit)". */
export function overflowError(limits: OutboxLimits): string {
  return `outbox full (${limits.maxRows} rows / ${formatBytes(limits.maxBytes)} limit)`;
}

/** The reason an entry died, followed by the send error it had before, if any. */
export function withLastError(reason: string, lastError: string | undefined): string {
  return lastError === undefined ? reason : `${reason}${LAST_ERROR_JOIN}${lastError}`;
}

function formatBytes(n: number): string {
  for (const [unit, size] of [["GiB", 2 ** 30], ["MiB", 2 ** 20], ["KiB", 2 ** 10]] as const) {
    if (n >= size && n % size === 0) return `${n / size} ${unit}`;
  }
  return `${n} bytes`;
}
