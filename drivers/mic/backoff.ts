/**
 * Exponential backoff for restarting a dead recorder: initial, 2×, 4×, … capped at max; reset()
 * once a run has proved healthy so the next failure is retried quickly again.
 * Rules: pure (no timers, no clock); delays never exceed max.
 */
export interface BackoffOptions {
  /** First delay in ms. */
  readonly initialMs: number;
  /** Largest delay in ms. */
  readonly maxMs: number;
}

export class Backoff {
  private attempt = 0;

  constructor(private readonly opts: BackoffOptions) {}

  /** The delay before the next try; each call doubles the following one up to maxMs. */
  next(): number {
    const delay = Math.min(this.opts.maxMs, this.opts.initialMs * 2 ** this.attempt);
    if (delay < this.opts.maxMs) this.attempt += 1;
    return delay;
  }

  reset(): void {
    this.attempt = 0;
  }
}
