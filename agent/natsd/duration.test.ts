import { strict as assert } from "node:assert";
import { test } from "node:test";
import { formatDuration, parseDuration } from "./duration.js";

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
