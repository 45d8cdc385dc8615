import { test } from "node:test";
import { strict as assert } from "node:assert";
import { HealthState } from "./health.js";

function clock(): { now: () => number; tick(ms: number): void } {
  let t = 1_000;
  return { now: () => t, tick: (ms) => void (t += ms) };
}

test("starts stopped, with no restarts and since at construction", () => {
  const c = clock();
  assert.deepEqual(new HealthState(c.now).get(), { state: "stopped", restarts: 0, since: 1_000 });
});

test("since moves when the state or the detail changes, not when the same pair is set again", () => {
  const c = clock();
  const h = new HealthState(c.now);
  c.tick(10);
  h.set("up");
  assert.deepEqual(h.get(), { state: "up", restarts: 0, since: 1_010 });
  c.tick(10);
  h.set("up");
  assert.equal(h.get().since, 1_010);
  h.set("degraded", "aplay exited with code 1");
  assert.deepEqual(h.get(), { state: "degraded", detail: "aplay exited with code 1", restarts: 0, since: 1_020 });
  c.tick(10);
  h.set("degraded", "aplay exited with code 1");
  assert.equal(h.get().since, 1_020);
  h.set("degraded", "aplay exited with code 2");
  assert.equal(h.get().since, 1_030);
});

test("a state set without a detail drops the old detail", () => {
  const h = new HealthState(clock().now);
  h.set("down", "not found");
  h.set("up");
  assert.equal("detail" in h.get(), false);
});

test("starting(): starting while the work runs, then up; a failure is down with its message, rethrown", async () => {
  const h = new HealthState(clock().now);
  let during = "";
  await h.starting(() => {
    during = h.get().state;
    return Promise.resolve();
  });
  assert.equal(during, "starting");
  assert.equal(h.get().state, "up");
  const failed = new HealthState(clock().now);
  await assert.rejects(failed.starting(() => Promise.reject(new Error("espeak-ng was not found"))), /espeak-ng was not found/);
  assert.deepEqual({ state: failed.get().state, detail: failed.get().detail }, { state: "down", detail: "espeak-ng was not found" });
});

test("recover(): degraded becomes up; any other state stays", () => {
  const h = new HealthState(clock().now);
  h.recover();
  assert.equal(h.get().state, "stopped");
  h.set("degraded", "aplay exited with code 1");
  h.recover();
  assert.equal(h.get().state, "up");
  assert.equal("detail" in h.get(), false);
});
