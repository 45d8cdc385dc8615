/**
 * Progress of a long outbox drain, for the journal: a drain that starts with a backlog of
 * LONG_DRAIN_DEPTH or more, or lasts longer than LONG_DRAIN_MS, logs a line every
 * PROGRESS_EVERY_MS (sent so far, left, rate, ETA) and one when the backlog is empty. A short
 * drain — the steady state, a few events at a time — logs nothing.
 */
import type { Clock } from "../core/clock.js";
import type { Logger } from "../core/logger.js";

/** A backlog this deep (hours of telemetry after an outage) is worth announcing… */
export const LONG_DRAIN_DEPTH = 1000;
/** …and so is a drain that takes longer than this, whatever its size. */
export const LONG_DRAIN_MS = 5000;
/** Often enough to see it move, rare enough not to flood the journal. */
export const PROGRESS_EVERY_MS = 5000;

interface Drain {
  readonly startedAt: number;
  sent: number;
  verbose: boolean;
  lastLogAt: number;
  lastLogSent: number;
}

export class DrainProgress {
  #drain: Drain | undefined;

  constructor(private readonly clock: Clock, private readonly logger: Logger) {}

  /** A batch was taken; starts a drain unless one runs. `depth` is read only then. */
  begin(depth: () => number): void {
    if (this.#drain !== undefined) return;
    const now = this.clock.now();
    const waiting = depth();
    const verbose = waiting >= LONG_DRAIN_DEPTH;
    if (verbose) this.logger.info({ depth: waiting }, `draining a backlog of ${waiting}`);
    this.#drain = { startedAt: now, sent: 0, verbose, lastLogAt: now, lastLogSent: 0 };
  }

  /**
   * A batch was settled with `n` sent. When a line is due: sent so far, left (read then), the rate
   * since the last line and the ETA at that rate. Nothing while nothing moves (the relay's backoff
   * warning says why).
   */
  sent(n: number, left: () => number): void {
    const d = this.#drain;
    if (d === undefined) return;
    d.sent += n;
    const now = this.clock.now();
    if (!d.verbose && now - d.startedAt > LONG_DRAIN_MS) d.verbose = true;
    if (!d.verbose || now - d.lastLogAt < PROGRESS_EVERY_MS || d.sent === d.lastLogSent) return;
    const rate = ((d.sent - d.lastLogSent) * 1000) / (now - d.lastLogAt);
    d.lastLogAt = now;
    d.lastLogSent = d.sent;
    const remaining = left();
    const etaS = Math.round(remaining / rate);
    this.logger.info({ sent: d.sent, left: remaining, ratePerS: Math.round(rate), etaS }, `drain: sent ${d.sent}, ${remaining} left, ${Math.round(rate)}/s, ETA ${etaS} s`);
  }

  /** The outbox had nothing more: the drain is over. */
  end(): void {
    const d = this.#drain;
    this.#drain = undefined;
    if (d === undefined || !d.verbose) return;
    const seconds = (this.clock.now() - d.startedAt) / 1000;
    this.logger.info({ sent: d.sent, seconds }, `drained ${d.sent} in ${seconds.toFixed(1)} s`);
  }
}
