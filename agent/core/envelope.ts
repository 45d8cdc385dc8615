/** Creating, deriving and ageing envelopes (v1, abi/envelope.ts). */
import { DEFAULT_PRIORITY, DEFAULT_TENANT, type Envelope, type EnvelopeKind, type Priority } from "../../abi/envelope.js";
import type { Clock } from "./clock.js";
import { systemClock } from "./clock.js";
import { uuidv7 } from "./ids.js";

export interface EnvelopeInit<P extends object = Record<string, unknown>> {
  readonly event_name: string;
  readonly version: number;
  readonly payload: P;
  readonly source: string;
  readonly kind?: EnvelopeKind;
  readonly correlation_id?: string;
  readonly causation_id?: string;
  readonly tenant?: string;
  readonly session_id?: string;
  readonly priority?: Priority;
  readonly ttl_ms?: number;
  readonly headers?: Readonly<Record<string, string>>;
}

/** A new envelope; a root envelope is its own trace (correlation_id = id) unless told otherwise. */
export function createEnvelope<P extends object>(init: EnvelopeInit<P>, clock: Clock = systemClock): Envelope<P> {
  const now = clock.now();
  const id = uuidv7(now);
  return {
    id,
    event_name: init.event_name,
    version: init.version,
    kind: init.kind ?? "event",
    ts: new Date(now).toISOString(),
    source: init.source,
    correlation_id: init.correlation_id ?? id,
    ...(init.causation_id === undefined ? {} : { causation_id: init.causation_id }),
    tenant: init.tenant ?? DEFAULT_TENANT,
    ...(init.session_id === undefined ? {} : { session_id: init.session_id }),
    priority: init.priority ?? DEFAULT_PRIORITY,
    ...(init.ttl_ms === undefined ? {} : { ttl_ms: init.ttl_ms }),
    headers: { ...init.headers },
    payload: init.payload,
  };
}

export type DerivedInit<P extends object> = Omit<EnvelopeInit<P>, "correlation_id" | "causation_id">;

/**
 * An envelope caused by `cause` (seed 004 trace propagation): same correlation_id, causation_id =
 * cause.id, tenant and session inherited; priority inherited unless given.
 */
export function deriveEnvelope<P extends object>(cause: Envelope<object>, init: DerivedInit<P>, clock: Clock = systemClock): Envelope<P> {
  return createEnvelope(
    {
      tenant: cause.tenant,
      priority: cause.priority,
      ...(cause.session_id === undefined ? {} : { session_id: cause.session_id }),
      ...init,
      correlation_id: cause.correlation_id,
      causation_id: cause.id,
    },
    clock,
  );
}

/** When the envelope expires (ms since epoch), or undefined when it has no ttl. */
export function expiresAt(env: Pick<Envelope<object>, "ts" | "ttl_ms">): number | undefined {
  if (env.ttl_ms === undefined) return undefined;
  return Date.parse(env.ts) + env.ttl_ms;
}

export function isExpired(env: Pick<Envelope<object>, "ts" | "ttl_ms">, nowMs: number): boolean {
  const at = expiresAt(env);
  return at !== undefined && nowMs >= at;
}
