/**
 * The outbox port: store-and-forward for envelopes that must leave this node (ARCHITECTURE.md
 * "Delivery guarantees"). What `enqueue` resolved for survives kill -9 and a power cut; it leaves
 * the outbox only when the relay reports it sent (the far side acknowledged it), or into the
 * dead-letter queue with a reason (poison, expired, overflow). Nothing is dropped silently.
 *
 * Order: `next()` hands out the highest priority first (0 before 5) and, within a priority, in
 * enqueue order — so order per source within a priority is kept. Entries handed out are "in
 * flight" until `sent`, `retry` or `poison` settles them; in-flight state is memory only, so after
 * a restart everything not sent is handed out again (the far side drops repeats by envelope id).
 *
 * Implementations: sqlite-outbox.ts (durable, one file under the data dir), memory-outbox.ts
 * (tests, and a node without storage); both pass outbox-contract.ts.
 */
import type { Envelope } from "../../abi/envelope.js";
import type { DeadLetters } from "./dead-letters.js";

export interface OutboxEntry {
  /** Insertion order, unique within this outbox. */
  readonly seq: number;
  /** The envelope's id: the dedup key at the far side (Nats-Msg-Id). */
  readonly id: string;
  /** Where the relay publishes it. */
  readonly subject: string;
  readonly priority: number;
  /** The envelope's source (per-source order is kept within a priority). */
  readonly source: string;
  /** Epoch ms. */
  readonly enqueuedAt: number;
  /** Epoch ms: the outbox TTL or the envelope's own ttl_ms, whichever ends first. */
  readonly expiresAt: number;
  /** Failed send attempts so far. */
  readonly attempts: number;
  /** The envelope as JSON (UTF-8): exactly what goes on the wire. */
  readonly data: Uint8Array;
}

export interface OutboxLimits {
  /** Most entries kept; beyond it the lowest priority, oldest first, go to the DLQ as `overflow`. */
  readonly maxRows: number;
  /** Most bytes of envelope data kept; same overflow rule. */
  readonly maxBytes: number;
  /** Entries older than this go to the DLQ as `expired` (sweep). */
  readonly ttlMs: number;
}

export interface OutboxStats {
  /** Entries waiting (including in flight). */
  readonly depth: number;
  readonly bytes: number;
  readonly inFlight: number;
  /** Age of the oldest waiting entry in ms; 0 when empty. */
  readonly oldestAgeMs: number;
  /** Counters since this outbox was opened. */
  readonly added: number;
  readonly sent: number;
  readonly expired: number;
  readonly overflowed: number;
  readonly poisoned: number;
  readonly retried: number;
}

export interface Outbox {
  /**
   * Store an envelope for `subject`. Resolves once it is durable (implementations may group the
   * enqueues of one tick into one transaction: one fsync for many). An envelope whose id is
   * already waiting is not stored twice (resolves, `duplicate: true`). Rejects with StorageError
   * when the store cannot write; the caller still holds the envelope then.
   */
  enqueue(subject: string, envelope: Envelope): Promise<{ readonly duplicate: boolean }>;
  /** Hand out up to `max` entries not in flight and not expired, in drain order; they are in flight now. */
  next(max: number): OutboxEntry[];
  /** The far side acknowledged these: delete them. Unknown ids are ignored. */
  sent(ids: readonly string[]): void;
  /** Sending failed in a way that may pass: back to waiting, attempts + 1, `error` remembered. */
  retry(ids: readonly string[], error: string): void;
  /** The far side refused these for good: move them to the DLQ as `poison` with `error`. */
  poison(ids: readonly string[], error: string): void;
  /** Move entries past their expiry to the DLQ as `expired`; returns how many. */
  sweep(): number;
  stats(): OutboxStats;
  /** Resolves when something is enqueued after the call (the relay's wake-up). */
  changed(): Promise<void>;
  /** The dead-letter queue kept with this outbox. */
  readonly dlq: DeadLetters;
  /** Commit what is staged, then close. Idempotent; enqueue after close rejects with StorageError. */
  close(): Promise<void>;
}
