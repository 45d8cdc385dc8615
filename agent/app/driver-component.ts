/**
 * A driver as a component of the agent (started and stopped with the others, in order) and as
 * the `internal` probe of the capabilities it provides, so the directory shows a display whose
 * page is gone or a microphone whose recorder died as not up, and the resolver skips it.
 */
import type { Driver } from "../../abi/driver.js";
import type { Clock, TimerHandle } from "../core/clock.js";
import type { Component } from "../core/component.js";
import type { Logger } from "../core/logger.js";
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

/**
 * A driver whose device may be absent at boot (a USB microphone not plugged in yet): a failed
 * start() is logged and retried every `retryMs` instead of stopping the agent, so a hub on a
 * shelf comes up and starts listening when the device appears. Its health says what is wrong.
 */
export function retryingDriverComponent(driver: Driver, logger: Logger, clock: Clock, retryMs = 10_000): Component {
  let timer: TimerHandle | undefined;
  let stopped = false;
  const attempt = async (): Promise<void> => {
    timer = undefined;
    try {
      await driver.start();
      logger.info({ driver: driver.name }, "driver started");
    } catch (err) {
      if (stopped) return;
      logger.error({ err, driver: driver.name, retry_ms: retryMs }, `the ${driver.name} driver could not start; retrying`);
      timer = clock.setTimer(() => void attempt(), retryMs);
    }
  };
  return {
    name: `driver.${driver.name}`,
    start: async (signal) => {
      signal.throwIfAborted();
      stopped = false;
      await attempt();
    },
    stop: async () => {
      stopped = true;
      timer?.cancel();
      timer = undefined;
      await driver.stop();
    },
  };
}
