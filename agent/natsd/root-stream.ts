/**
 * The root's two streams, written as JetStream StreamConfigs (the JSON `nats stream add --config
 * FILE` and the JetStream API take; durations in nanoseconds) for whoever creates them: an
 * operator, or the hub's relay on first contact.
 *
 * Uplink: where hubs' outbox relays publish (JetStream-acked, `Nats-Msg-Id` = envelope id). Its
 * duplicate window must cover the outbox TTL, or a message replayed after a long outage is stored
 * twice: JetStream's default window is 2 minutes, the outbox keeps messages up to 7200 s.
 *
 * Downlink: commands from the root to a hub (`ada.hub.<hubId>.cmd.>`), kept until the hub's
 * durable consumer `hub-<hubId>` (agent/outbox/downlink.ts) has acknowledged them, so a hub that
 * was offline receives its backlog on reconnect. The same duplicate window lets a root-side
 * producer retry a publish with the same `Nats-Msg-Id` for as long as an outbox would.
 */
import { hubSubject } from "../../abi/subjects.js";

export const UPLINK_STREAM = "ADAOS_UPLINK";
/** Hubs publish uplink traffic under `ada.root.uplink.<hubId>.…` (seed 000: `ada.root.*` is the root's). */
export const UPLINK_SUBJECTS = ["ada.root.uplink.>"] as const;
/** The outbox's default TTL (ARCHITECTURE.md "Delivery guarantees"): the least the window must cover. */
export const OUTBOX_TTL_MS = 7_200_000;
export const DEFAULT_DUPLICATE_WINDOW_MS = OUTBOX_TTL_MS;
/** Kept a week: long enough for a consumer to be fixed and replay; max_bytes bounds the disk. */
export const UPLINK_MAX_AGE_MS = 7 * 86_400_000;
export const UPLINK_MAX_BYTES = 8 * 1024 ** 3;

const NS_PER_MS = 1_000_000;

export interface StreamConfigJson {
  readonly name: string;
  readonly description: string;
  readonly subjects: readonly string[];
  readonly retention: "limits";
  readonly storage: "file";
  readonly discard: "old";
  readonly num_replicas: number;
  readonly max_consumers: number;
  readonly max_msgs: number;
  readonly max_bytes: number;
  readonly max_age: number;
  readonly max_msg_size: number;
  readonly duplicate_window: number;
}

interface StreamSpec {
  readonly name: string;
  readonly description: string;
  readonly subjects: readonly string[];
  readonly replicas: number;
  readonly maxBytes: number;
  readonly maxAgeMs: number;
  readonly maxMsgSize: number | undefined;
  readonly duplicateWindowMs: number;
}

function streamConfig(s: StreamSpec): StreamConfigJson {
  if (s.duplicateWindowMs > s.maxAgeMs) throw new RangeError(`the duplicate window cannot be longer than the stream's max age (${s.maxAgeMs / 86_400_000} days)`);
  return {
    name: s.name,
    description: s.description,
    subjects: s.subjects,
    retention: "limits",
    storage: "file",
    discard: "old",
    // R3 on a 3-node cluster: an ack means two servers have it (JetStream fsyncs lazily, so one is not enough).
    num_replicas: Math.min(3, s.replicas),
    max_consumers: -1,
    max_msgs: -1,
    max_bytes: s.maxBytes,
    max_age: s.maxAgeMs * NS_PER_MS,
    max_msg_size: s.maxMsgSize ?? -1,
    duplicate_window: s.duplicateWindowMs * NS_PER_MS,
  };
}

export function uplinkStreamConfig(opts: { duplicateWindowMs: number; replicas: number; maxMsgSize?: number }): StreamConfigJson {
  return streamConfig({
    name: UPLINK_STREAM,
    description: "Hub outbox uplink; duplicate_window covers the outbox TTL so replays after an outage are dropped by Nats-Msg-Id.",
    subjects: UPLINK_SUBJECTS,
    replicas: opts.replicas,
    maxBytes: UPLINK_MAX_BYTES,
    maxAgeMs: UPLINK_MAX_AGE_MS,
    maxMsgSize: opts.maxMsgSize,
    duplicateWindowMs: opts.duplicateWindowMs,
  });
}

export const DOWNLINK_STREAM = "ADAOS_DOWNLINK";
/** Commands to hubs (seed 000: `ada.hub.{hubId}.…` is the hub's); each hub's consumer filters its own. */
export const DOWNLINK_SUBJECTS = ["ada.hub.*.cmd.>"] as const;
/** A hub may be away for a week (a holiday home) and still get its commands; older ones are dropped. */
export const DOWNLINK_MAX_AGE_MS = 7 * 86_400_000;
/** Commands are small and few next to telemetry: 1 GiB holds millions; it bounds the disk. */
export const DOWNLINK_MAX_BYTES = 1024 ** 3;

export function downlinkStreamConfig(opts: { replicas: number; maxAgeMs?: number; duplicateWindowMs?: number; maxMsgSize?: number }): StreamConfigJson {
  return streamConfig({
    name: DOWNLINK_STREAM,
    description: "Commands from the root to hubs, kept until each hub's durable consumer hub-<hubId> acknowledged them; duplicate_window lets a producer retry by Nats-Msg-Id.",
    subjects: DOWNLINK_SUBJECTS,
    replicas: opts.replicas,
    maxBytes: DOWNLINK_MAX_BYTES,
    maxAgeMs: opts.maxAgeMs ?? DOWNLINK_MAX_AGE_MS,
    maxMsgSize: opts.maxMsgSize,
    duplicateWindowMs: opts.duplicateWindowMs ?? DEFAULT_DUPLICATE_WINDOW_MS,
  });
}

/** The durable consumer of one hub on the downlink stream. */
export function downlinkConsumerName(hubId: string): string {
  return `hub-${hubId}`;
}

/** What that consumer takes: `ada.hub.<hubId>.cmd.>`. */
export function downlinkFilter(hubId: string): string {
  return hubSubject(hubId, "cmd", ">");
}
