import { strict as assert } from "node:assert";
import { test } from "node:test";
import { fullJitter, RESTART_BACKOFF } from "./backoff.js";

test("full jitter: uniform below min(cap, base·2^attempt)", () => {
  const top = () => 0.999999;
  assert.deepEqual([0, 1, 2, 3, 4, 5, 6, 7].map((a) => fullJitter(a, RESTART_BACKOFF, top)), [499, 999, 1999, 3999, 7999, 15999, 29999, 29999]);
  assert.equal(fullJitter(3, RESTART_BACKOFF, () => 0), 0);
  assert.equal(fullJitter(1, RESTART_BACKOFF, () => 0.5), 500);
  assert.equal(fullJitter(10_000, RESTART_BACKOFF, top), 29999, "huge attempt numbers do not overflow");
  for (let i = 0; i < 1000; i++) {
    const d = fullJitter(i % 12, RESTART_BACKOFF);
    assert.ok(d >= 0 && d < RESTART_BACKOFF.capMs);
  }
});
