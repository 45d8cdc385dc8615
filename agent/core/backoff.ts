/**
 * Restart delays: exponential backoff with full jitter (AWS Architecture Blog, "Exponential Backoff
 * And Jitter": sleep = random(0, min(cap, base · 2^attempt))). Jitter matters less for one local
 * process than for many clients, but it costs nothing and keeps a crash loop from beating in step
 * with anything else on the box.
 */

export interface BackoffPolicy {
  /** The ceiling of the first delay. */
  readonly baseMs: number;
  /** No delay is longer than this. */
  readonly capMs: number;
}

/**
 * First restart within 0.5 s: members reconnect quickly after a one-off crash; a crash loop is
 * at most one restart per 30 s once the ceiling is reached (~6 attempts in).
 */
export const RESTART_BACKOFF: BackoffPolicy = { baseMs: 500, capMs: 30_000 };

/** The delay before retry number `attempt` (0-based); `random` returns [0, 1). */
export function fullJitter(attempt: number, policy: BackoffPolicy, random: () => number = Math.random): number {
  const ceiling = Math.min(policy.capMs, policy.baseMs * 2 ** Math.min(attempt, 30));
  return Math.floor(random() * ceiling);
}
