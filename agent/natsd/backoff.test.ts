import { strict as assert } from "node:assert";
import { test } from "node:test";
import { fullJitter, RESTART_BACKOFF } from "./backoff.js";
import { formatDuration, parseDuration } from "./duration.js";

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

test("durations: 2h, 90m, 1h30m, 7200s, 500ms, 7d; anything else is refused", () => {
  assert.equal(parseDuration("2h"), 7_200_000);
  assert.equal(parseDuration("1h30m"), 5_400_000);
  assert.equal(parseDuration(" 7200s "), 7_200_000);
  assert.equal(parseDuration("500ms"), 500);
  assert.equal(parseDuration("7d"), 604_800_000);
  for (const bad of ["", "2", "2 h", "h", "-1h", "1.5h", "2hours"]) assert.throws(() => parseDuration(bad), RangeError, bad);
  assert.equal(formatDuration(7_200_000), "2h");
  assert.equal(formatDuration(5_400_500), "1h30m500ms");
  assert.equal(formatDuration(0), "0s");
});
