import { strict as assert } from "node:assert";
import { test } from "node:test";
import { ManualClock } from "./clock.js";
import { Periodic } from "./periodic.js";

const flush = async () => { for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r)); };

test("runs at start and an interval after each run; a returned delay wins; runNow brings the next run forward; stop ends it", async () => {
  const clock = new ManualClock(0);
  const runs: number[] = [];
  let next: number | undefined;
  const p = new Periodic(clock, 1000, () => { runs.push(clock.now()); return Promise.resolve(next); });
  p.start();
  await flush();
  clock.advance(999); await flush();
  assert.deepEqual(runs, [0]);
  clock.advance(1); await flush();
  assert.deepEqual(runs, [0, 1000]);
  next = 100;
  clock.advance(1000); await flush();
  clock.advance(100); await flush();
  assert.deepEqual(runs, [0, 1000, 2000, 2100]);
  next = undefined;
  clock.advance(50); await flush();
  p.runNow(); await flush();
  assert.deepEqual(runs, [0, 1000, 2000, 2100, 2150]);
  clock.advance(1000); await flush();
  assert.deepEqual(runs.at(-1), 3150, "the interval counts from the early run");
  await p.stop();
  assert.equal(p.stopped, true);
  p.runNow();
  clock.advance(10_000); await flush();
  assert.equal(runs.length, 6);
});
