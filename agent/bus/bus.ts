/**
 * The in-process bus port. Subjects are dot-separated tokens; an envelope is routed on its
 * event_name unless a subject is given (replies go to the requester's inbox subject).
 * Patterns follow NATS: `*` matches one token, `>` (last) one or more.
 */
import type { Envelope } from "../../abi/envelope.js";

export type Handler = (envelope: Envelope, subject: string) => void | Promise<void>;

export interface SubscribeOptions {
  /** Queue group: each message goes to one member of the group instead of all. */
  readonly queue?: string;
  /** Pending envelopes this subscriber may fall behind by before new ones are dropped (and reported). */
  readonly maxPending?: number;
}

export interface Subscription {
  readonly pattern: string;
  readonly queue: string | undefined;
  /** Envelopes waiting for the handler. */
  readonly pending: number;
  unsubscribe(): void;
}

export interface PublishOptions {
  /** Route on this subject instead of the envelope's event_name. */
  readonly subject?: string;
}

export interface PublishResult {
  readonly id: string;
  /** True when the id was seen within the dedup window: nothing was delivered. */
  readonly duplicate: boolean;
  /** Subscriptions (counting a queue group once) that were handed the envelope. */
  readonly matched: number;
}

/** How a settled publish ended: every subscriber handed the envelope has finished with it. */
export interface SettledResult extends PublishResult {
  /** Subscribers whose handler threw or rejected, or that dropped the envelope (closed, slow, expired). */
  readonly failed: number;
}

/** How long a request waits for its reply unless told otherwise (config bus.request_timeout_ms has the same default). */
export const DEFAULT_REQUEST_TIMEOUT_MS = 5000;

export interface RequestOptions {
  readonly timeoutMs?: number;
}

export type ReplyInit = Pick<Envelope, "event_name" | "version" | "payload">;

/** Why an envelope was refused or dropped; a later issue sends these to the DLQ. */
export type RejectReason = "invalid" | "unknown_event" | "expired" | "slow_consumer" | "closed";

export type RejectHook = (data: unknown, reason: RejectReason, error: Error) => void;

export interface Bus {
  /**
   * Validate and route an envelope. Throws (typed, with JSON pointers) when the envelope is
   * invalid, unknown or expired; delivery to handlers is asynchronous.
   */
  publish(data: unknown, options?: PublishOptions): PublishResult;
  /**
   * publish(), then wait until every subscriber it was handed to has run its handler (or dropped
   * it). For a caller that must acknowledge only after the handlers ran (the downlink). Throws
   * like publish(); never rejects for a failing handler — that is counted in `failed`.
   */
  publishSettled(data: unknown, options?: PublishOptions): Promise<SettledResult>;
  subscribe(pattern: string, handler: Handler, options?: SubscribeOptions): Subscription;
  /** Publish a command with a reply inbox and wait for the first reply. */
  request(data: unknown, options?: RequestOptions): Promise<Envelope>;
  /** Answer a request: an envelope caused by it, of kind "reply", routed to its reply_to. */
  reply(request: Envelope, reply: ReplyInit): PublishResult;
}
