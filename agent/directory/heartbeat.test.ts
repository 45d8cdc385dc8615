import { strict as assert } from "node:assert";
import { test } from "node:test";
import type { Envelope } from "../../abi/envelope.js";
import { LocalBus } from "../bus/local-bus.js";
import { ManualClock } from "../core/clock.js";
import { silentLogger } from "../core/logger.js";
import { MetricsRegistry } from "../core/metrics.js";
import { precompiledCatalog } from "../registry/precompiled.js";
import { Heartbeat, type CapabilityStatus } from "./heartbeat.js";

const flush = async () => {
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
};

function setup(failing = { on: false }) {
  const clock = new ManualClock(Date.parse("2026-11-22T10:00:00Z"));
  const bus = new LocalBus({ catalog: precompiledCatalog(), logger: silentLogger(), metrics: new MetricsRegistry(), source: "agent://member/tv", clock });
  const beats: Envelope[] = [];
  bus.subscribe("telemetry.heartbeat", (e) => void beats.push(e));
  let battery = 80;
  let display: CapabilityStatus["status"] = "up";
  const heartbeat = new Heartbeat({
    nodeId: "tv", bus, clock, logger: silentLogger(), from: "agent://member/tv", intervalMs: 5000,
    source: {
      telemetry: () => (failing.on ? Promise.reject(new Error("sysfs gone")) : Promise.resolve({ load: 0.2, battery: { percent: battery--, charging: false }, rtt_to: { hub: 3 } })),
      capabilities: () => Promise.resolve([{ id: "capability://display.play", status: display }]),
      revision: () => "9f2c41d07ab3e118",
    },
  });
  return { clock, beats, heartbeat, setDisplay: (s: CapabilityStatus["status"]) => (display = s) };
}

test("a heartbeat at start and every interval, valid against the registry, with seq, telemetry and probe results", async () => {
  const { clock, beats, heartbeat, setDisplay } = setup();
  await heartbeat.start();
  await flush();
  assert.equal(beats.length, 1);
  clock.advance(4999);
  await flush();
  assert.equal(beats.length, 1);
  setDisplay("degraded");
  clock.advance(1);
  await flush();
  clock.advance(5000);
  await flush();
  assert.deepEqual(beats.map((b) => (b.payload as { seq: number }).seq), [0, 1, 2]);
  const second = beats[1]?.payload as { node_id: string; revision: string; telemetry: { battery: { percent: number } }; capabilities: CapabilityStatus[] };
  assert.equal(second.node_id, "tv");
  assert.equal(second.revision, "9f2c41d07ab3e118");
  assert.equal(second.telemetry.battery.percent, 79, "the battery follows the source");
  assert.deepEqual(second.capabilities, [{ id: "capability://display.play", status: "degraded" }]);
  assert.equal(beats[0]?.priority, 4);
  assert.equal(beats[0]?.ttl_ms, undefined, "no ttl: buffered through an outage");
  await heartbeat.stop();
  clock.advance(20_000);
  await flush();
  assert.equal(beats.length, 3, "nothing after stop");
});

test("a failing sample skips that beat and the next ones still come", async () => {
  const failing = { on: true };
  const { clock, beats, heartbeat } = setup(failing);
  await heartbeat.start();
  await flush();
  assert.equal(beats.length, 0);
  failing.on = false;
  clock.advance(5000);
  await flush();
  assert.equal(beats.length, 1);
  assert.equal((beats[0]?.payload as { seq: number }).seq, 0);
  await heartbeat.stop();
});
