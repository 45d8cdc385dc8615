import { strict as assert } from "node:assert";
import { test } from "node:test";
import { ManualClock } from "../core/clock.js";
import { silentLogger } from "../core/logger.js";
import { nodesInConnz } from "./connz-source.js";
import { LinkPresence, type PresenceSource } from "./link-presence.js";

function source(name: string): PresenceSource & { set(...ids: string[]): void } {
  let cb: ((nodes: ReadonlySet<string>) => void) | undefined;
  return {
    name,
    watch(onNodes) { cb = onNodes; return { stop: () => { cb = undefined; } }; },
    set(...ids) { cb?.(new Set(ids)); },
  };
}

async function setup(t: { after(fn: () => Promise<void>): void }) {
  const clock = new ManualClock(0);
  const mqtt = source("mqtt");
  const nats = source("nats");
  const gone: string[] = [];
  const presence = new LinkPresence({ sources: [mqtt, nats], clock, logger: silentLogger(), onGone: (id) => gone.push(id), graceMs: 1500 });
  await presence.start();
  t.after(() => presence.stop());
  return { clock, mqtt, nats, gone, presence };
}

test("a node gone from its only link is reported once after the grace; one that comes back within it is not", async (t) => {
  const { clock, nats, gone } = await setup(t);
  nats.set("tv", "kitchen");
  nats.set("tv");
  clock.advance(1499);
  assert.deepEqual(gone, []);
  clock.advance(1);
  assert.deepEqual(gone, ["kitchen"]);
  nats.set("tv");
  nats.set();
  clock.advance(500);
  nats.set("tv"); // a reconnect within the grace
  clock.advance(5000);
  assert.deepEqual(gone, ["kitchen"], "tv came back in time");
});

test("failing over from NATS to MQTT is not a disappearance; gone from both is", async (t) => {
  const { clock, mqtt, nats, gone, presence } = await setup(t);
  nats.set("tv");
  nats.set();
  clock.advance(800);
  mqtt.set("tv");
  clock.advance(5000);
  assert.deepEqual(gone, []);
  assert.equal(presence.connected("tv"), true);
  mqtt.set();
  clock.advance(1500);
  assert.deepEqual(gone, ["tv"]);
  assert.equal(presence.connected("tv"), false);
});

test("nodes never seen on a link are never reported; a report is made once per disappearance", async (t) => {
  const { clock, mqtt, gone } = await setup(t);
  mqtt.set();
  clock.advance(5000);
  assert.deepEqual(gone, []);
  mqtt.set("sensor");
  mqtt.set();
  mqtt.set();
  clock.advance(3000);
  mqtt.set("sensor");
  mqtt.set();
  clock.advance(3000);
  assert.deepEqual(gone, ["sensor", "sensor"]);
});

test("connz: agent connections by name, the hub's own and foreign names left out, junk tolerated", () => {
  const body = { connections: [{ name: "tv-agent" }, { name: "hub-1-agent" }, { name: "kitchen-agent" }, { name: "NATS CLI" }, { name: "Bad Name-agent" }, {}, null, { name: 7 }] };
  assert.deepEqual([...nodesInConnz(body, "hub-1")].sort(), ["kitchen", "tv"]);
  assert.deepEqual([...nodesInConnz({}, "hub-1")], []);
  assert.deepEqual([...nodesInConnz(null, "hub-1")], []);
  assert.deepEqual([...nodesInConnz({ connections: "x" }, "hub-1")], []);
});
