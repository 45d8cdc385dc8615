/**
 * The hub's leases on bound steps (seed 000 "lease(best, step)"): which node holds which step of
 * which run, until when. A lease is granted with the step's exec_token and released when the step
 * fails over, the run ends or its ttl passes. They are in memory: a run does not outlive the hub
 * process, so neither do its leases. adaos_plan_leases shows how many are held.
 */
import type { Clock } from "../core/clock.js";
import type { MetricsRegistry } from "../core/metrics.js";

export interface Lease {
  readonly run_id: string;
  readonly step_id: string;
  readonly node_id: string;
  readonly granted_at: number;
  readonly expires_at: number;
}

export class Leases {
  readonly #held = new Map<string, Lease>();

  constructor(private readonly clock: Clock, metrics?: MetricsRegistry) {
    metrics?.gauge("adaos_plan_leases", "Leases the hub holds on bound plan steps.", () => [[{}, this.held().length]]);
  }

  grant(run_id: string, step_id: string, node_id: string, ttlMs: number): Lease {
    const now = this.clock.now();
    const lease = { run_id, step_id, node_id, granted_at: now, expires_at: now + ttlMs };
    this.#held.set(`${run_id}/${step_id}`, lease);
    return lease;
  }

  release(run_id: string, step_id: string): void {
    this.#held.delete(`${run_id}/${step_id}`);
  }

  releaseRun(run_id: string): void {
    for (const [k, l] of this.#held) if (l.run_id === run_id) this.#held.delete(k);
  }

  /** Leases still valid (expired ones are dropped as they are seen). */
  held(): Lease[] {
    const now = this.clock.now();
    for (const [k, l] of this.#held) if (l.expires_at <= now) this.#held.delete(k);
    return [...this.#held.values()];
  }
}
