import { test } from "node:test";
import { strict as assert } from "node:assert";
import { spawnSync } from "node:child_process";
import { stderrTail } from "./stderr-tail.js";

test("the last three non-empty lines, trimmed, joined with ' | '", () => {
  assert.equal(stderrTail("one\n  two  \n\nthree\r\nfour\n\n"), "two | three | four");
});

test("fewer lines than asked: all of them; a count of its own", () => {
  assert.equal(stderrTail("only\n"), "only");
  assert.equal(stderrTail("a\nb\nc\nd\ne", 5), "a | b | c | d | e");
  assert.equal(stderrTail("a\nb\nc", 1), "c");
});

test("nothing written, or only blank lines: (no stderr)", () => {
  assert.equal(stderrTail(""), "(no stderr)");
  assert.equal(stderrTail(" \n\t\n"), "(no stderr)");
  assert.equal(stderrTail("a\nb", 0), "(no stderr)");
});

test("a real program's stderr", () => {
  const run = spawnSync("aplay", ["-D", "no-such-device-here", "/dev/null"], { encoding: "utf8" });
  assert.notEqual(run.status, 0);
  const tail = stderrTail(run.stderr);
  assert.ok(tail.length > 0 && tail !== "(no stderr)", tail);
  assert.ok(!tail.includes("\n"), tail);
});
