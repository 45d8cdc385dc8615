/**
 * The bridge's store-and-forward seams, on the in-memory fake transport: outbound envelopes go to
 * `send` (a member's outbox) instead of the transport, and its outbound side can start before any
 * link is up; inbound envelopes already in the inbox — a redelivery, even after a restart — are
 * dropped, and what is taken in is recorded there.
 */
import { strict as assert } from "node:assert";
import { test } from "node:test";
import type { Envelope } from "../../abi/envelope.js";
import { LocalBus } from "../bus/local-bus.js";
import { ManualClock } from "../core/clock.js";
import { createEnvelope } from "../core/envelope.js";
import { silentLogger } from "../core/logger.js";
import { MetricsRegistry } from "../core/metrics.js";
import { FakeBroker, FakeTransport } from "../link/fake-transport.js";
import { MemoryInbox } from "../outbox/memory-inbox.js";
import { precompiledCatalog } from "../registry/precompiled.js";
import { Bridge } from "./bridge.js";
import { memberRoutes } from "./routes.js";

const catalog = precompiledCatalog();
const tick = () => new Promise((r) => setImmediate(r));

function setup(extra: { send?: (subject: string, e: Envelope) => Promise<unknown>; inbox?: MemoryInbox } = {}) {
  const metrics = new MetricsRegistry();
  const bus = new LocalBus({ catalog, logger: silentLogger(), metrics, source: "agent://member/tv" });
  const broker = new FakeBroker("mqtt", "mqtt://hub:1883", new ManualClock());
  const transport = new FakeTransport(broker);
  const bridge = new Bridge({ bus, transport, nodeId: "tv", routes: memberRoutes("tv"), logger: silentLogger(), metrics, ...extra });
  return { bus, broker, transport, bridge, metrics };
}

const reading = (n: number) => createEnvelope({ event_name: "telemetry.reading", version: 1, source: "api@tv", payload: { name: "t", value: n } });
const command = () => createEnvelope({ event_name: "scenario.run", version: 1, kind: "command", source: "agent://hub/hub-1", payload: { id: "play" }, headers: { target: "tv" } });

test("with `send`, outbound envelopes go there (not to the transport), from before the link is up; a failing send is counted", async () => {
  const sent: [string, string][] = [];
  let fail = false;
  const { bus, broker, bridge, metrics } = setup({
    send: (subject, e) => (fail ? Promise.reject(new Error("disk full")) : Promise.resolve(void sent.push([subject, e.id]))),
  });
  bridge.startOutbound();
  const first = reading(1);
  bus.publish(first);
  await tick();
  assert.deepEqual(sent, [["telemetry.tv.reading", first.id]]);
  assert.equal(broker.published.length, 0, "nothing went to the transport directly");
  fail = true;
  bus.publish(reading(2));
  await tick();
  await tick();
  assert.equal(metrics.counter("adaos_bridge_dropped_total", "").get({ reason: "publish_failed" }), 1);
});

test("with an inbox, a redelivered envelope is dropped — also by a new bridge and bus after a restart", async () => {
  const inbox = new MemoryInbox({ window: 100 });
  const first = setup({ inbox });
  const got: string[] = [];
  first.bus.subscribe("scenario.run", (e) => void got.push(e.id));
  await first.transport.connect(AbortSignal.timeout(1000));
  await first.bridge.startInbound();
  const cmd = command();
  first.transport.receive({ subject: "ada.agent.tv.cmd", envelope: cmd, replyTo: undefined });
  await tick();
  assert.deepEqual(got, [cmd.id]);
  assert.equal(inbox.has(cmd.id), true);

  // The same command again to a fresh bus (its in-memory dedup window is empty): the inbox drops it.
  const second = setup({ inbox });
  second.bus.subscribe("scenario.run", (e) => void got.push(e.id));
  await second.transport.connect(AbortSignal.timeout(1000));
  await second.bridge.startInbound();
  second.transport.receive({ subject: "ada.agent.tv.cmd", envelope: cmd, replyTo: undefined });
  await tick();
  assert.deepEqual(got, [cmd.id]);
  assert.equal(second.metrics.counter("adaos_bridge_dropped_total", "").get({ reason: "duplicate" }), 1);
});
