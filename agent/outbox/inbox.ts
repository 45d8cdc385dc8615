/**
 * The inbox port: ids of envelopes this node has already processed (commands and events received
 * from the wire), kept as a persisted sliding window of the last `window` ids, so a redelivery —
 * at-least-once is the rule on every link — is acknowledged and dropped instead of run twice.
 * Handlers that need a key of their own use headers.idempotency_key; `key()` picks it.
 */
import type { Envelope } from "../../abi/envelope.js";
import { HEADER } from "../../abi/envelope.js";

export interface Inbox {
  /** True when this key was recorded (staged or committed) within the window. */
  has(key: string): boolean;
  /**
   * Record a processed key. Resolves once durable (grouped like outbox enqueues); a key recorded
   * twice is kept once. Rejects with StorageError when the store cannot write.
   */
  record(key: string): Promise<void>;
  /** Keys kept (at most the window). */
  size(): number;
  close(): Promise<void>;
}

/** The dedup key of an envelope: its idempotency_key header when it has one, else its id. */
export function inboxKey(envelope: Envelope): string {
  return envelope.headers[HEADER.idempotencyKey] ?? envelope.id;
}
