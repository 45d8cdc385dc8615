/**
 * The bridge between in-process buses and a real broker: a hub and two members, each with its own
 * LocalBus and transport, over a real aedes (MQTT) and a real nats-server (NATS). What leaves a
 * node, where it arrives, that nothing echoes back to its origin, and request/reply across it.
 */
import { strict as assert } from "node:assert";
import { test } from "node:test";
import type { Envelope } from "../abi/envelope.js";
import { Bridge } from "../agent/bridge/bridge.js";
import { hubRoutes, memberRoutes, originNode } from "../agent/bridge/routes.js";
import { LocalBus } from "../agent/bus/local-bus.js";
import { createEnvelope } from "../agent/core/envelope.js";
import { silentLogger } from "../agent/core/logger.js";
import { TimeoutError } from "../agent/core/errors.js";
import { MetricsRegistry } from "../agent/core/metrics.js";
import { precompiledCatalog } from "../agent/registry/precompiled.js";
import { MqttTransport } from "../agent/transport/mqtt.js";
import { NatsTransport } from "../agent/transport/nats.js";
import type { Transport } from "../agent/transport/transport.js";
import { startAedes } from "./aedes-broker.js";
import { waitFor } from "./helpers.js";
import { startNatsServer } from "./nats-server.js";

interface After {
  after(fn: () => void | Promise<void>): void;
}

const catalog = precompiledCatalog();

interface Node {
  readonly id: string;
  readonly bus: LocalBus;
  readonly seen: Envelope[];
}

async function node(t: After, id: string, role: "hub" | "member", makeTransport: (m: MetricsRegistry) => Transport, requestTimeoutMs?: number): Promise<Node> {
  const metrics = new MetricsRegistry();
  const logger = silentLogger();
  const bus = new LocalBus({ catalog, logger, metrics, source: `agent://${role}/${id}` });
  const transport = makeTransport(metrics);
  await transport.connect(AbortSignal.timeout(5000));
  const routes = role === "hub" ? hubRoutes(id, ["ui.say"]) : memberRoutes(id, "hub1");
  const bridge = new Bridge({ bus, transport, nodeId: id, routes, logger, metrics, catalog, ...(requestTimeoutMs === undefined ? {} : { requestTimeoutMs }) });
  await bridge.start();
  const seen: Envelope[] = [];
  bus.subscribe(">", (e) => void seen.push(e));
  t.after(async () => {
    await bridge.stop();
    await transport.close();
    await bus.stop();
  });
  return { id, bus, seen };
}

const names = (n: Node): string[] => n.seen.map((e) => `${e.event_name}@${originNode(e.source) ?? "?"}`);

const transports = {
  mqtt: async (t: After) => {
    const broker = await startAedes(t);
    return (m: MetricsRegistry) => new MqttTransport({ url: broker.url, catalog, logger: silentLogger(), metrics: m });
  },
  nats: async (t: After) => {
    const server = await startNatsServer(t);
    return (m: MetricsRegistry) => new NatsTransport({ servers: server.url, catalog, logger: silentLogger(), metrics: m });
  },
};

for (const [name, setup] of Object.entries(transports)) {
  test(`bridge over ${name}: member events reach the hub, addressed commands reach one member, broadcasts reach all, nothing echoes`, async (t) => {
    const make = await setup(t);
    const hub = await node(t, "hub1", "hub", make);
    const tv = await node(t, "tv", "member", make);
    const speaker = await node(t, "speaker", "member", make);

    // A member's event goes to the hub, and only once to the member itself.
    tv.bus.publish(createEnvelope({ event_name: "ui.notify", version: 1, source: "agent://member/tv", payload: { text: "film started" } }));
    await waitFor("the hub to get the tv's event", () => hub.seen.some((e) => e.event_name === "ui.notify") || undefined);

    // A command addressed to the tv reaches the tv and not the speaker.
    const cmd = createEnvelope({
      event_name: "scenario.run", version: 1, kind: "command", source: "agent://hub/hub1",
      payload: { id: "play-film" }, headers: { target: "tv" },
    });
    hub.bus.publish(cmd);
    await waitFor("the tv to get its command", () => tv.seen.some((e) => e.id === cmd.id) || undefined);

    // A broadcast from the hub reaches every member.
    hub.bus.publish(createEnvelope({ event_name: "ui.say", version: 1, source: "agent://hub/hub1", payload: { text: "dinner is ready" } }));
    await waitFor("both members to get the broadcast", () =>
      (tv.seen.some((e) => e.event_name === "ui.say") && speaker.seen.some((e) => e.event_name === "ui.say")) || undefined);

    // Link events stay on their node.
    tv.bus.publish(createEnvelope({ event_name: "link.up", version: 1, source: "agent://member/tv", payload: { transport: name, url: "x://h", node_id: "tv", at: new Date().toISOString() } }));

    await new Promise((r) => setTimeout(r, 300)); // room for any echo or stray delivery to show up
    assert.deepEqual(names(hub).sort(), ["scenario.run@hub1", "ui.notify@tv", "ui.say@hub1"]);
    assert.deepEqual(names(tv).sort(), ["link.up@tv", "scenario.run@hub1", "ui.notify@tv", "ui.say@hub1"]);
    assert.deepEqual(names(speaker).sort(), ["ui.say@hub1"], "the speaker got neither the tv's command nor its event");
  });
}

/** Answer scenario.run on `n`'s bus, but only when it is addressed to `n` (the bridge reads target; other handlers must too). */
function answerScenarios(n: Node): void {
  n.bus.subscribe("scenario.run", (e) => {
    if (e.headers.target !== n.id) return;
    n.bus.reply(e, { event_name: "scenario.run.result", version: 1, payload: { ok: true, scenario_id: e.payload.id, run_id: `run@${n.id}`, status: "running" } });
  });
}

const run = (source: string, target: string, id: string) =>
  createEnvelope({ event_name: "scenario.run", version: 1, kind: "command", source, payload: { id }, headers: { target } });

for (const [name, setup] of Object.entries(transports)) {
  test(`bridge over ${name}: a bus request crosses to the other node's bus and back, both ways; unanswered, it times out and nothing breaks`, async (t) => {
    const make = await setup(t);
    const hub = await node(t, "hub1", "hub", make, 300);
    const tv = await node(t, "tv", "member", make, 300);

    // Nothing on the hub answers scenario.run yet (its reply cannot carry an error): the member's request times out.
    await assert.rejects(tv.bus.request(run("api@tv", "hub1", "nobody-home"), { timeoutMs: 800 }), TimeoutError);
    assert.ok(hub.seen.some((e) => e.payload.id === "nobody-home"), "the request did reach the hub's bus");

    answerScenarios(hub);
    answerScenarios(tv);
    for (const target of ["hub1", "hub"]) {
      const request = run("api@tv", target, "play-film");
      const reply = await tv.bus.request(request, { timeoutMs: 5000 });
      assert.equal(reply.kind, "reply");
      assert.equal(reply.causation_id, request.id);
      assert.equal(originNode(reply.source), "hub1");
      assert.deepEqual(reply.payload, { ok: true, scenario_id: "play-film", run_id: "run@hub1", status: "running" });
    }

    // Hub → member over the same bridge: the command goes on ada.agent.tv.cmd as a request.
    const request = run("api@hub1", "tv", "dim-lights");
    const reply = await hub.bus.request(request, { timeoutMs: 5000 });
    assert.equal(reply.causation_id, request.id);
    assert.equal(reply.payload.run_id, "run@tv");
  });
}

test("originNode reads both source forms", () => {
  assert.equal(originNode("agent://member/tv-1"), "tv-1");
  assert.equal(originNode("api@hub1"), "hub1");
  assert.equal(originNode("mic"), undefined);
  assert.equal(originNode("x@"), undefined);
});
