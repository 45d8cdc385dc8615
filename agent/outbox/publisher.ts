/**
 * The relay's sink port: where outbox entries go and who confirms them. Implementations:
 * jetstream-publisher.ts (the hub → the root's uplink stream, confirmed by PubAck, Nats-Msg-Id =
 * envelope id) and transport-publisher.ts (a member → its hub over the live link, confirmed when
 * the broker has it).
 */

export type SendOutcome =
  /** The far side has it (a repeat it dropped as duplicate counts as sent). */
  | { readonly type: "sent"; readonly id: string }
  /** May pass later: no route, timeout, link down. */
  | { readonly type: "retry"; readonly id: string; readonly error: string }
  /** Refused for good (e.g. larger than the stream accepts): never resend. */
  | { readonly type: "poison"; readonly id: string; readonly error: string };

export interface OutgoingMessage {
  readonly id: string;
  readonly subject: string;
  readonly data: Uint8Array;
}

export interface Publisher {
  readonly name: string;
  /**
   * Send a batch (pipelined: all out before waiting) and report one outcome per message, in the
   * order given. Never rejects: failures are outcomes.
   */
  send(batch: readonly OutgoingMessage[], signal: AbortSignal): Promise<SendOutcome[]>;
  /**
   * Cheap check that a send could succeed now (the route to the far side is there). Used while
   * backing off so the relay resumes within moments of the far side's return without hammering it.
   */
  reachable(signal: AbortSignal): Promise<boolean>;
}
