import { strict as assert } from "node:assert";
import { test } from "node:test";
import { DedupWindow } from "./dedup.js";
import { PriorityQueue } from "./priority-queue.js";

test("dedup window drops repeats and forgets the oldest id when full", () => {
  const w = new DedupWindow(3);
  assert.equal(w.seen("a"), false);
  assert.equal(w.seen("a"), true);
  w.seen("b");
  w.seen("c");
  w.seen("d"); // evicts a
  assert.equal(w.size, 3);
  assert.equal(w.seen("a"), false, "a fell out of the window");
  assert.equal(w.seen("d"), true);
});

test("a zero-size window remembers nothing", () => {
  const w = new DedupWindow(0);
  assert.equal(w.seen("a"), false);
  assert.equal(w.seen("a"), false);
});

test("priority queue serves 0 first and keeps FIFO within a priority", () => {
  const q = new PriorityQueue<string>();
  q.push("5a", 5);
  q.push("3a", 3);
  q.push("0a", 0);
  q.push("3b", 3);
  q.push("0b", 0);
  assert.equal(q.length, 5);
  const out: string[] = [];
  for (let x = q.shift(); x !== undefined; x = q.shift()) out.push(x);
  assert.deepEqual(out, ["0a", "0b", "3a", "3b", "5a"]);
  assert.equal(q.length, 0);
});

test("priority queue stays correct across compaction", () => {
  const q = new PriorityQueue<number>();
  for (let i = 0; i < 5000; i++) q.push(i, 2);
  for (let i = 0; i < 4000; i++) assert.equal(q.shift(), i);
  for (let i = 5000; i < 6000; i++) q.push(i, 2);
  const rest = q.drain();
  assert.equal(rest.length, 2000);
  assert.equal(rest[0], 4000);
  assert.equal(rest[1999], 5999);
});
