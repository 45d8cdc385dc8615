/**
 * The root's uplink stream: where hubs' outbox relays publish (JetStream-acked, `Nats-Msg-Id` =
 * envelope id). Its duplicate window must cover the outbox TTL, or a message replayed after a long
 * outage is stored twice: JetStream's default window is 2 minutes, the outbox keeps messages up to
 * 7200 s. The window is a stream property, so it is written here as a JetStream StreamConfig (the
 * JSON `nats stream add --config FILE` and the JetStream API take; durations in nanoseconds) for
 * whoever creates the stream: an operator, or the hub's relay on first contact.
 */

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

export function uplinkStreamConfig(opts: { duplicateWindowMs: number; replicas: number; maxMsgSize?: number }): StreamConfigJson {
  if (opts.duplicateWindowMs > UPLINK_MAX_AGE_MS) throw new RangeError("the duplicate window cannot be longer than the stream's max age (7 days)");
  return {
    name: UPLINK_STREAM,
    description: "Hub outbox uplink; duplicate_window covers the outbox TTL so replays after an outage are dropped by Nats-Msg-Id.",
    subjects: UPLINK_SUBJECTS,
    retention: "limits",
    storage: "file",
    discard: "old",
    // R3 on a 3-node cluster: an ack means two servers have it (JetStream fsyncs lazily, so one is not enough).
    num_replicas: Math.min(3, opts.replicas),
    max_consumers: -1,
    max_msgs: -1,
    max_bytes: UPLINK_MAX_BYTES,
    max_age: UPLINK_MAX_AGE_MS * NS_PER_MS,
    max_msg_size: opts.maxMsgSize ?? -1,
    duplicate_window: opts.duplicateWindowMs * NS_PER_MS,
  };
}
