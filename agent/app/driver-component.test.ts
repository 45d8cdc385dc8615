import { strict as assert } from "node:assert";
import { test } from "node:test";
import type { Driver, DriverHealth } from "../../abi/driver.js";
import { ManualClock } from "../core/clock.js";
import { silentLogger } from "../core/logger.js";
import { driverCheck, driverComponent, retryingDriverComponent } from "./driver-component.js";

/** A driver whose start() fails `failures` times, then succeeds. */
function flaky(failures: number): Driver & { starts: number; stops: number; state: DriverHealth["state"] } {
  const d = {
    name: "mic", capabilities: [], starts: 0, stops: 0, state: "stopped" as DriverHealth["state"],
    start(): Promise<void> {
      d.starts++;
      if (d.starts <= failures) {
        d.state = "down";
        return Promise.reject(new Error("arecord exited with code 1: audio open error"));
      }
      d.state = "up";
      return Promise.resolve();
    },
    stop(): Promise<void> {
      d.stops++;
      d.state = "stopped";
      return Promise.resolve();
    },
    health: (): DriverHealth => ({ state: d.state, restarts: 0, since: 0 }),
  };
  return d;
}

const settle = () => new Promise((r) => setImmediate(r));

test("a retrying driver: a failed start does not stop the agent, it is retried until the device is there", async () => {
  const clock = new ManualClock();
  const d = flaky(2);
  const c = retryingDriverComponent(d, silentLogger(), clock, 10_000);
  await c.start(new AbortController().signal);
  assert.equal(d.starts, 1);
  assert.equal(driverCheck(d)(), "down");
  clock.advance(10_000);
  await settle();
  assert.equal(d.starts, 2);
  clock.advance(10_000);
  await settle();
  assert.equal(d.starts, 3);
  assert.equal(driverCheck(d)(), "up");
  clock.advance(60_000);
  await settle();
  assert.equal(d.starts, 3, "no more attempts once started");
  await c.stop();
  assert.equal(d.stops, 1);
});

test("a retrying driver stopped while waiting to retry never starts again", async () => {
  const clock = new ManualClock();
  const d = flaky(5);
  const c = retryingDriverComponent(d, silentLogger(), clock, 1000);
  await c.start(new AbortController().signal);
  await c.stop();
  clock.advance(10_000);
  await settle();
  assert.equal(d.starts, 1);
});

test("a plain driver component fails the start; the check maps states to probe statuses", async () => {
  const d = flaky(1);
  await assert.rejects(driverComponent(d).start(new AbortController().signal), /audio open error/);
  assert.equal(driverComponent(d).name, "driver.mic");
  d.state = "degraded";
  assert.equal(driverCheck(d)(), "degraded");
  d.state = "starting";
  assert.equal(driverCheck(d)(), "down");
});
