/** Which link the failover uses and when it switches: fake transports, an injected clock, no sleeping. */
import { strict as assert } from "node:assert";
import { test } from "node:test";
import { ping } from "../transport/contract-support.js";
import { advance, settle, setup } from "./failover-fixture.js";
import { DEFAULT_TIMING } from "./timing.js";

const T = DEFAULT_TIMING;

test("connects to the preferred link when it is up", async () => {
  const s = setup();
  await s.connect();
  assert.deepEqual(s.tr.link, { transport: "nats", url: "nats://hub:4222", up: true });
  assert.equal(s.tr.name, "nats");
  assert.equal(s.tr.capabilities.noResponders, true);
  assert.equal(s.mqtt.made.length, 0, "the fallback is not dialled while the preferred link works");
  await settle();
  assert.deepEqual(s.kinds(), ["up:nats"]);
  assert.deepEqual([s.gauge("nats"), s.gauge("mqtt")], [1, 0]);
  await s.tr.close();
});

test("falls back when the preferred link does not connect within the first-connect timeout", async () => {
  const s = setup();
  s.nats.reachable = false;
  const t0 = s.clock.now();
  await s.connect();
  assert.equal(s.tr.link?.transport, "mqtt");
  assert.ok(s.clock.now() - t0 >= T.firstConnectTimeoutMs, "the preferred link had its full timeout");
  assert.equal(s.nats.live.length, 0, "the adapter that did not connect was closed");
  await settle();
  assert.deepEqual(s.kinds(), ["fallback:mqtt<nats", "up:mqtt<nats"]);
  assert.equal(s.tr.capabilities.noResponders, false, "capabilities are the active link's");
  await s.tr.close();
});

test("a blip shorter than the grace reconnects in place: no switch, no flapping", async () => {
  const s = setup();
  await s.connect();
  s.nats.down();
  await advance(s.clock, T.downGraceMs - 500);
  s.nats.up();
  await advance(s.clock, 30_000);
  assert.equal(s.tr.link?.transport, "nats");
  assert.equal(s.mqtt.made.length, 0, "the fallback was never dialled");
  assert.equal(s.switches("nats", "mqtt"), 0);
  assert.deepEqual(s.kinds(), ["up:nats", "down:nats", "up:nats"]);
  assert.equal(s.changes[2]?.reason, "reconnected in place");
  assert.deepEqual(s.statuses.filter((t) => t !== "reconnecting"), ["connecting", "up", "down", "up"]);
  await s.tr.close();
});

test("down past the grace: falls back, replays subscriptions (queue groups too), sends what was buffered in order", async () => {
  const s = setup();
  await s.connect();
  const got: number[] = [];
  await s.tr.subscribe("ev.>", (m) => void got.push((m.envelope.payload as { n: number }).n));
  await s.tr.subscribe("jobs.*", () => undefined, { queue: "workers" });
  s.nats.down();
  await settle(); // the adapter's "down" reaches the failover (publishes before that go to the old adapter)
  for (let n = 1; n <= 3; n++) s.tr.publish("ev.x", ping(n));
  await advance(s.clock, T.downGraceMs - 100);
  assert.equal(s.tr.link?.transport, "nats", "not before the grace is over");
  await advance(s.clock, 200);
  assert.equal(s.tr.link?.transport, "mqtt");
  const adapter = s.mqtt.live[0];
  assert.deepEqual(adapter?.subs.map((x) => [x.pattern, x.queue]), [["ev.>", undefined], ["jobs.*", "workers"]]);
  assert.deepEqual(s.mqtt.published.map((p) => (p.envelope.payload as { n: number }).n), [1, 2, 3], "buffered publishes, in order");
  assert.equal(s.nats.live.length, 0, "the old link was closed");
  s.mqtt.deliver("ev.y", ping(7));
  await settle();
  assert.deepEqual(got, [7]);
  assert.deepEqual(s.kinds(), ["up:nats", "down:nats", "fallback:mqtt<nats", "up:mqtt<nats"]);
  assert.match(s.changes[2]?.reason ?? "", /down for more than 2000 ms/);
  assert.equal(s.switches("nats", "mqtt"), 1);
  assert.deepEqual([s.gauge("nats"), s.gauge("mqtt")], [0, 1]);
  await s.tr.close();
});

test("switches back once the preferred link has been up for the healthy period; probes with backoff meanwhile", async () => {
  const s = setup();
  s.nats.reachable = false;
  await s.connect();
  const dialsAfterConnect = s.nats.made.length;
  // Probes 1 s, 2 s, 4 s, 8 s apart, each a dial that fails after its connect timeout.
  const threeProbes = 1000 + 2000 + 4000 + 3 * T.probeConnectTimeoutMs;
  await advance(s.clock, threeProbes + 100);
  assert.equal(s.nats.made.length - dialsAfterConnect, 3, "three probes, with growing pauses");
  s.nats.up();
  await advance(s.clock, 8000 - 200);
  assert.equal(s.nats.made.length - dialsAfterConnect, 3, "the next probe waits its 8 s");
  await advance(s.clock, 200);
  assert.equal(s.nats.live.length, 1, "the probe connected");
  await advance(s.clock, T.healthyPeriodMs - 200);
  assert.equal(s.tr.link?.transport, "mqtt", "still on the fallback while the preferred link proves itself");
  await advance(s.clock, 200);
  assert.equal(s.tr.link?.transport, "nats");
  assert.equal(s.mqtt.live.length, 0, "the fallback was closed");
  assert.deepEqual(s.kinds().slice(-2), ["fallback:nats<mqtt", "up:nats<mqtt"]);
  assert.equal(s.switches("mqtt", "nats"), 1);
  await s.tr.close();
});

test("a preferred link that drops during its healthy period is not taken (no flapping)", async () => {
  const s = setup();
  s.nats.reachable = false;
  await s.connect();
  s.nats.up();
  await advance(s.clock, 1100);
  assert.equal(s.nats.live.length, 1, "the probe connected; the link is kept warm");
  await advance(s.clock, T.healthyPeriodMs - 1000);
  s.nats.down();
  await advance(s.clock, 2000);
  assert.equal(s.tr.link?.transport, "mqtt");
  assert.equal(s.switches("mqtt", "nats"), 0);
  assert.equal(s.nats.live.length, 0, "the warm link was dropped");
  s.nats.up();
  await advance(s.clock, T.probeMaxMs + T.healthyPeriodMs);
  assert.equal(s.tr.link?.transport, "nats", "taken once it stays up");
  await s.tr.close();
});

test("an adapter that closes on its own is replaced at once, without waiting for the grace", async () => {
  const s = setup();
  await s.connect();
  s.nats.made[0]?.die(new Error("authorization violation"));
  await advance(s.clock, 100);
  assert.equal(s.tr.link?.transport, "nats", "a fresh adapter to the preferred address first");
  assert.equal(s.nats.made.length, 2);
  assert.deepEqual(s.kinds(), ["up:nats", "down:nats", "up:nats"]);
  assert.match(s.changes[1]?.reason ?? "", /authorization violation/);
  await s.tr.close();
});

test("with every link down, the active one keeps reconnecting in place and is used when it is back", async () => {
  const s = setup();
  await s.connect();
  s.mqtt.reachable = false;
  s.nats.down();
  await advance(s.clock, 20_000);
  assert.equal(s.tr.link?.up, false);
  assert.ok(s.mqtt.made.length >= 2, "the fallback was probed more than once");
  s.nats.up();
  await advance(s.clock, 100);
  assert.deepEqual(s.tr.link, { transport: "nats", url: "nats://hub:4222", up: true });
  const probes = s.mqtt.made.length;
  await advance(s.clock, 60_000);
  assert.equal(s.mqtt.made.length, probes, "no more probing once the preferred link is back");
  await s.tr.close();
});

test("a link that refuses the subscriptions does not take over; a later probe tries again", async () => {
  const s = setup();
  await s.connect();
  await s.tr.subscribe("ev.>", () => undefined);
  s.mqtt.refuseSubscriptions = new Error("permissions violation");
  s.nats.down();
  await advance(s.clock, T.downGraceMs + 100);
  assert.equal(s.tr.link?.transport, "nats", "still on the link that is down");
  assert.equal(s.mqtt.live.length, 0, "the refusing link was closed");
  s.mqtt.refuseSubscriptions = undefined;
  await advance(s.clock, T.probeMinMs + 100);
  assert.deepEqual(s.tr.link, { transport: "mqtt", url: "mqtt://hub:1883", up: true });
  assert.equal(s.mqtt.made.length, 2);
  await s.tr.close();
});
