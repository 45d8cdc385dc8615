/**
 * The timing of a member's failover link, every constant named with its reason, plus the two
 * clock helpers the link needs (an abortable sleep and a deadline signal) and the probe backoff.
 * Everything runs on an injected Clock, so the switching logic is tested without sleeping.
 */
import type { Clock } from "../core/clock.js";
import { TimeoutError } from "../core/errors.js";

/**
 * One dial on a LAN takes milliseconds and the adapters redial about every second, so 3 s gives
 * the preferred link two or three tries before the member uses the next one at start-up.
 */
export const FIRST_CONNECT_TIMEOUT_MS = 3000;
/**
 * A blip (a broker restart, a Wi-Fi hiccup) reconnects in place: the adapters redial every ~1 s,
 * so 2 s covers a redial or two. Past it the member falls back; with the 5 s the issue allows for
 * being on MQTT after NATS dies, this leaves 3 s for the fallback dial.
 */
export const DOWN_GRACE_MS = 2000;
/** A probe is one connect attempt with the same patience as the first connect. */
export const PROBE_CONNECT_TIMEOUT_MS = FIRST_CONNECT_TIMEOUT_MS;
/**
 * Probe backoff 1 s doubling to 15 s (equal jitter, so members of one hub do not probe in step):
 * a hub whose nats-server is back is noticed within 15 s, and a hub without one costs each
 * member one dial per 15 s.
 */
export const PROBE_MIN_MS = 1000;
export const PROBE_MAX_MS = 15_000;
/**
 * The preferred link must stay up this long before the member moves back to it: the hub restarts
 * a crashing nats-server with backoff, and a crash loop must not make its members flap.
 */
export const HEALTHY_PERIOD_MS = 5000;

export interface FailoverTiming {
  readonly firstConnectTimeoutMs: number;
  readonly downGraceMs: number;
  readonly probeConnectTimeoutMs: number;
  readonly probeMinMs: number;
  readonly probeMaxMs: number;
  readonly healthyPeriodMs: number;
}

export const DEFAULT_TIMING: FailoverTiming = {
  firstConnectTimeoutMs: FIRST_CONNECT_TIMEOUT_MS,
  downGraceMs: DOWN_GRACE_MS,
  probeConnectTimeoutMs: PROBE_CONNECT_TIMEOUT_MS,
  probeMinMs: PROBE_MIN_MS,
  probeMaxMs: PROBE_MAX_MS,
  healthyPeriodMs: HEALTHY_PERIOD_MS,
};

/** Exponential backoff with equal jitter: a delay in [d/2, d], d doubling from min to max. */
export class Backoff {
  #next: number;

  constructor(private readonly minMs: number, private readonly maxMs: number, private readonly random: () => number) {
    this.#next = minMs;
  }

  next(): number {
    const d = this.#next;
    this.#next = Math.min(this.maxMs, d * 2);
    return Math.round(d / 2 + (this.random() * d) / 2);
  }

  reset(): void {
    this.#next = this.minMs;
  }
}

/** Resolves after `ms` of clock time; rejects with the signal's reason as soon as it aborts. */
export function clockSleep(clock: Clock, ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason as Error);
    const onAbort = (): void => {
      timer.cancel();
      reject(signal.reason as Error);
    };
    const timer = clock.setTimer(() => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal.addEventListener("abort", onAbort, { once: true });
  });
}

/** A signal that aborts with a TimeoutError after `ms` of clock time, or when `parent` aborts. */
export function clockDeadline(clock: Clock, ms: number, what: string, parent: AbortSignal): { readonly signal: AbortSignal; cancel(): void } {
  const ctl = new AbortController();
  const timer = clock.setTimer(() => ctl.abort(new TimeoutError(`${what} did not happen within ${ms} ms`)), ms);
  return { signal: AbortSignal.any([parent, ctl.signal]), cancel: () => timer.cancel() };
}
