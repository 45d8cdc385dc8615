import { strict as assert } from "node:assert";
import { test } from "node:test";
import type { Envelope } from "../../abi/envelope.js";
import { LocalBus } from "../bus/local-bus.js";
import { ManualClock } from "../core/clock.js";
import { silentLogger } from "../core/logger.js";
import { MetricsRegistry } from "../core/metrics.js";
import { precompiledCatalog } from "../registry/precompiled.js";
import { ChangeFeed, type LinkChange } from "./change-feed.js";
import { LinkEvents } from "./link-events.js";

async function settle(): Promise<void> {
  for (let i = 0; i < 10; i++) await new Promise((r) => setImmediate(r));
}

test("link changes become link.up / link.down / link.fallback envelopes valid against the registry", async (t) => {
  const clock = new ManualClock();
  const rejected: Error[] = [];
  const bus = new LocalBus({ catalog: precompiledCatalog(), logger: silentLogger(), metrics: new MetricsRegistry(), source: "agent://member/tv", onReject: (_d, _r, err) => void rejected.push(err) });
  const seen: Envelope[] = [];
  bus.subscribe("link.>", (e) => void seen.push(e));
  const feed = new ChangeFeed();
  const at = clock.now();
  feed.push({ type: "up", transport: "nats", url: "nats://hub:4222", at });
  const events = new LinkEvents({ link: { changes: () => feed.iterate() }, bus, nodeId: "tv", logger: silentLogger(), clock });
  await events.start(AbortSignal.timeout(1000));
  t.after(async () => {
    await events.stop();
    await bus.stop();
  });
  const more: LinkChange[] = [
    { type: "down", transport: "nats", url: "nats://hub:4222", reason: "disconnected", at: at + 1 },
    { type: "fallback", transport: "mqtt", url: "mqtt://hub:1883", previous: "nats", reason: "nats://hub:4222 down for more than 2000 ms", at: at + 2 },
    { type: "up", transport: "mqtt", url: "mqtt://hub:1883", previous: "nats", at: at + 2 },
  ];
  for (const c of more) feed.push(c);
  await settle();
  assert.deepEqual(rejected, []);
  assert.deepEqual(seen.map((e) => `${e.event_name}:${(e.payload as { transport: string }).transport}`), ["link.up:nats", "link.down:nats", "link.fallback:mqtt", "link.up:mqtt"]);
  assert.ok(seen.every((e) => e.source === "agent://member/tv" && e.priority === 2));
  assert.deepEqual(seen[2]?.payload, {
    transport: "mqtt", url: "mqtt://hub:1883", node_id: "tv", at: new Date(at + 2).toISOString(), previous: "nats", reason: "nats://hub:4222 down for more than 2000 ms",
  });
});

test("a reader that joins late gets the latest change first; close() ends every reader; stop() ends the loop", async () => {
  const feed = new ChangeFeed();
  feed.push({ type: "down", transport: "nats", url: "nats://h:4222", reason: "x", at: 1 });
  feed.push({ type: "up", transport: "nats", url: "nats://h:4222", at: 2 });
  const got: string[] = [];
  const reading = (async () => {
    for await (const c of feed.iterate()) got.push(`${c.type}@${c.at}`);
  })();
  await settle();
  feed.push({ type: "down", transport: "nats", url: "nats://h:4222", reason: "y", at: 3 });
  feed.close();
  await reading;
  assert.deepEqual(got, ["up@2", "down@3"]);

  const bus = new LocalBus({ catalog: precompiledCatalog(), logger: silentLogger(), metrics: new MetricsRegistry(), source: "agent://member/tv" });
  const open = new ChangeFeed();
  const events = new LinkEvents({ link: { changes: () => open.iterate() }, bus, nodeId: "tv", logger: silentLogger() });
  await events.start(AbortSignal.timeout(1000));
  await events.stop();
  await bus.stop();
});
