import { strict as assert } from "node:assert";
import { test } from "node:test";
import { ManualClock } from "../core/clock.js";
import { Liveness } from "./liveness.js";

test("up at the first heartbeat, down once after the TTL, up again at the next heartbeat with how long it was down", () => {
  const clock = new ManualClock(1_000_000);
  const l = new Liveness(clock, 15_000);
  assert.deepEqual(l.seen("tv"), { nodeId: "tv", state: "up", reason: "heartbeat", lastSeen: 1_000_000 });
  clock.advance(5000);
  assert.equal(l.seen("tv"), undefined, "already up: no change");
  assert.equal(l.nextDeadline(), 1_020_000);
  clock.advance(14_999);
  assert.deepEqual(l.check(), []);
  clock.advance(1);
  assert.deepEqual(l.check(), [{ nodeId: "tv", state: "down", reason: "ttl", lastSeen: 1_005_000 }]);
  clock.advance(30_000);
  assert.deepEqual(l.check(), [], "reported once");
  assert.equal(l.nextDeadline(), undefined);
  assert.deepEqual(l.seen("tv"), { nodeId: "tv", state: "up", reason: "heartbeat", lastSeen: 1_050_000, downForMs: 30_000 });
});

test("link-level loss is immediate; deregister forgets the node; restored nodes are down until heard from", () => {
  const clock = new ManualClock(0);
  const l = new Liveness(clock);
  l.seen("tv", "announce");
  clock.advance(1200);
  assert.deepEqual(l.gone("tv", "link"), { nodeId: "tv", state: "down", reason: "link", lastSeen: 0 });
  assert.equal(l.gone("tv", "link"), undefined);
  assert.equal(l.seen("tv")?.state, "up");
  assert.equal(l.gone("tv", "deregister")?.reason, "deregister");
  assert.equal(l.state("tv"), undefined);

  l.restore("speaker", -60_000);
  assert.equal(l.state("speaker"), "down");
  assert.deepEqual(l.check(), []);
  assert.equal(l.seen("speaker", "register")?.downForMs, 61_200);
});
