/**
 * A driver as a component of the agent (started and stopped with the others, in order) and as
 * the `internal` probe of the capabilities it provides, so the directory shows a display whose
 * page is gone or a microphone whose recorder died as not up, and the resolver skips it.
 */
import type { Driver } from "../../abi/driver.js";
import type { Component } from "../core/component.js";
import type { InternalCheck } from "../directory/probes/capability-probe.js";

export function driverComponent(driver: Driver): Component {
  return {
    name: `driver.${driver.name}`,
    start: (signal) => {
      signal.throwIfAborted();
      return driver.start();
    },
    stop: () => driver.stop(),
  };
}

/** up stays up, degraded is degraded, anything else (stopped, starting, down) is down. */
export function driverCheck(driver: Driver): InternalCheck {
  return () => {
    const state = driver.health().state;
    return state === "up" ? "up" : state === "degraded" ? "degraded" : "down";
  };
}
