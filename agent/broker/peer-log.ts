/**
 * Warnings about one peer, rate-limited per peer: the first in each interval is logged, the rest
 * are counted and reported with the next one that gets through. A client that retries a wrong
 * password in a loop (or floods forbidden topics) costs one line per interval, and a second peer
 * misbehaving at the same time still gets its own line. Counting every event is the metrics' job.
 */
import type { Clock } from "../core/clock.js";
import type { Logger } from "../core/logger.js";

/** One line per peer per 10 s keeps a retry loop (mqtt.js reconnects every second) readable. */
export const PEER_LOG_INTERVAL_MS = 10_000;
/** Peers remembered; the oldest is forgotten first, so a flood of addresses cannot grow memory. */
export const PEER_LOG_MAX_PEERS = 1024;

interface Window {
  at: number;
  suppressed: number;
}

export class PeerLog {
  readonly #peers = new Map<string, Window>();

  constructor(
    private readonly logger: Logger,
    private readonly clock: Clock,
    private readonly intervalMs = PEER_LOG_INTERVAL_MS,
    private readonly maxPeers = PEER_LOG_MAX_PEERS,
  ) {}

  /** Log `msg` at warn level for `peer` unless it already had a line in this interval. */
  warn(peer: string, fields: Record<string, unknown>, msg: string): void {
    const now = this.clock.now();
    const window = this.#peers.get(peer);
    if (window !== undefined && now - window.at < this.intervalMs) {
      window.suppressed++;
      return;
    }
    const suppressed = window?.suppressed ?? 0;
    this.#peers.delete(peer); // re-inserted last: the map's order is least recently logged first
    this.#peers.set(peer, { at: now, suppressed: 0 });
    if (this.#peers.size > this.maxPeers) {
      const oldest = this.#peers.keys().next();
      if (oldest.done !== true) this.#peers.delete(oldest.value);
    }
    this.logger.warn(suppressed > 0 ? { ...fields, peer, suppressed } : { ...fields, peer }, msg);
  }
}
