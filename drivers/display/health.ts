/**
 * A display driver's health as one small mutable record: state, detail and since change together,
 * and reading it never throws (it is read on every heartbeat).
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
    const since = state === this.#health.state ? this.#health.since : this.now();
    this.#health = { state, restarts: this.#health.restarts, since, ...(detail === undefined ? {} : { detail }) };
  }
}
