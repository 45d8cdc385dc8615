/**
 * A driver's health as one small record that changes as a whole: state, detail, restarts and
 * since. Drivers keep one and answer health() with get().
 *
 * Rules of this file:
 * - get() never throws and allocates nothing (health() is read on every heartbeat).
 * - `since` moves when set() changes the state or the detail; setting the same pair again keeps it.
 * - starting() is the usual start(): starting while the work runs, then up; or down with the
 *   error's message, and the error rethrown. recover() is the usual end of a call that worked:
 *   a degraded driver is up again, any other state stays.
 * - restarts stays 0: the drivers that use this class never restart a device on their own.
 */
import type { DriverHealth, DriverState } from "../../abi/driver.js";

export class HealthState {
  #health: DriverHealth;

  constructor(private readonly now: () => number) {
    this.#health = { state: "stopped", restarts: 0, since: now() };
  }

  get(): DriverHealth {
    return this.#health;
  }

  set(state: DriverState, detail?: string): void {
    const was = this.#health;
    const since = state === was.state && detail === was.detail ? was.since : this.now();
    this.#health = { state, restarts: was.restarts, since, ...(detail === undefined ? {} : { detail }) };
  }

  /** Runs a driver's start-up work with its health: starting, then up, or down with why (rethrown). */
  async starting(work: () => Promise<void>): Promise<void> {
    this.set("starting");
    try {
      await work();
      this.set("up");
    } catch (err) {
      this.set("down", err instanceof Error ? err.message : String(err));
      throw err;
    }
  }

  /** A call worked: a degraded driver is up again. */
  recover(): void {
    if (this.#health.state === "degraded") this.set("up");
  }
}
