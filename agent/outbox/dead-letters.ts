/**
 * The dead-letter queue port: envelopes this node could not deliver or process, kept with the
 * reason, the attempts and the last error until someone lists, replays or purges them
 * (`adaos-edge events dlq …`, GET/POST /api/dlq…). Replay puts an envelope back through
 * validation and the bus; it leaves the DLQ only once that was accepted.
 */

export const DEAD_REASONS = ["poison", "expired", "invalid", "overflow"] as const;
export type DeadReason = (typeof DEAD_REASONS)[number];

/**
 * Which way the envelope was going: "outbox" — leaving this node (a replay re-enqueues it for its
 * subject); "inbound" — received and refused or failed here (a replay publishes it on the bus).
 */
export type DeadOrigin = "outbox" | "inbound";

export interface DeadLetterInput {
  readonly reason: DeadReason;
  readonly origin: DeadOrigin;
  /** The bytes as received or as stored: an invalid one may not even be JSON. */
  readonly data: Uint8Array;
  /** Envelope id when it could be read. */
  readonly id?: string | undefined;
  readonly eventName?: string | undefined;
  /** Where it was going (outbox subject) or came from (transport subject). */
  readonly subject?: string | undefined;
  readonly source?: string | undefined;
  readonly attempts?: number;
  readonly lastError?: string | undefined;
}

export interface DeadLetter {
  /** The DLQ's own key (an envelope may die twice). */
  readonly dlqId: number;
  readonly reason: DeadReason;
  readonly origin: DeadOrigin;
  readonly id: string | null;
  readonly eventName: string | null;
  readonly subject: string | null;
  readonly source: string | null;
  readonly attempts: number;
  readonly lastError: string | null;
  /** Epoch ms. */
  readonly deadAt: number;
  readonly data: Uint8Array;
}

export interface DeadLetterFilter {
  readonly reason?: DeadReason;
  /** Only entries with dlqId greater than this (paging). */
  readonly after?: number;
  readonly limit?: number;
}

export interface DeadLetters {
  add(entries: readonly DeadLetterInput[]): void;
  /** Oldest first. */
  list(filter?: DeadLetterFilter): DeadLetter[];
  get(dlqId: number): DeadLetter | undefined;
  /** Remove these entries (after a successful replay); returns how many were removed. */
  remove(dlqIds: readonly number[]): number;
  /** Remove everything matching (all when no reason); returns how many. */
  purge(filter?: { readonly reason?: DeadReason }): number;
  count(): { readonly total: number; readonly byReason: Readonly<Record<DeadReason, number>> };
}

/** A new dead letter's fields as every implementation stores them (absent ones null or 0). */
export function deadLetterFields(e: DeadLetterInput, deadAt: number): Omit<DeadLetter, "dlqId" | "data"> {
  return {
    reason: e.reason,
    origin: e.origin,
    id: e.id ?? null,
    eventName: e.eventName ?? null,
    subject: e.subject ?? null,
    source: e.source ?? null,
    attempts: e.attempts ?? 0,
    lastError: e.lastError ?? null,
    deadAt,
  };
}
