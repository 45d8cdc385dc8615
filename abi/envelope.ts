/** Envelope v1: the one wire format (see abi/envelope.schema.json and ARCHITECTURE.md). */

export type EnvelopeKind = "event" | "command" | "reply";

/** 0 is the highest priority (system emergency), 5 the lowest (background). */
export type Priority = 0 | 1 | 2 | 3 | 4 | 5;

export const DEFAULT_PRIORITY: Priority = 3;
export const DEFAULT_TENANT = "default";

export interface Envelope<P extends object = Record<string, unknown>> {
  readonly id: string;
  readonly event_name: string;
  readonly version: number;
  readonly kind: EnvelopeKind;
  readonly ts: string;
  readonly source: string;
  readonly correlation_id: string;
  readonly causation_id?: string;
  readonly tenant: string;
  readonly session_id?: string;
  readonly priority: Priority;
  readonly ttl_ms?: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly payload: P;
}

/** Headers with a meaning shared by every component. */
export const HEADER = {
  idempotencyKey: "idempotency_key",
  replyTo: "reply_to",
  execToken: "exec_token",
  errorCode: "error_code",
  /** Node id a command is addressed to; the hub's bridge sends it on ada.agent.{target}.cmd. */
  target: "target",
} as const;
