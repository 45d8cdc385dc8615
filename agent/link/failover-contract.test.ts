/**
 * The transport contract, run against the failover transport over a real nats-server and a real
 * aedes per test: a link that fails over is still a Transport. The broker's kill()/start() take
 * both down and up (the contract's outage), so the link must come back on either. While NATS is
 * up the failover uses it, so the capabilities and name it declares are NATS's.
 */
import type { TestContext } from "node:test";
import { connect } from "nats";
import { freePort } from "../../test/helpers.js";
import { startAedes } from "../../test/aedes-broker.js";
import { startNatsServer } from "../../test/nats-server.js";
import { transportContract } from "../transport/contract.js";
import { MqttTransport } from "../transport/mqtt.js";
import { NatsTransport } from "../transport/nats.js";
import { FailoverTransport } from "./failover-transport.js";
import type { FailoverTiming } from "./timing.js";

/** Fast reconnects keep the outage test short; production uses the adapters' defaults. */
const TEST_RECONNECT_WAIT_MS = 200;
/** Shorter than production so the contract's outage and connect tests stay within their bounds. */
const TEST_TIMING: Partial<FailoverTiming> = { firstConnectTimeoutMs: 1000, downGraceMs: 500, probeConnectTimeoutMs: 500, probeMinMs: 200, probeMaxMs: 1000, healthyPeriodMs: 500 };

transportContract({
  name: "nats",
  capabilities: { nativeQueueGroups: true, noResponders: true, replyAddress: "protocol" },
  broker: async (t: TestContext) => {
    const nats = await startNatsServer(t);
    const mqtt = await startAedes(t);
    const nowhere = { nats: `nats://127.0.0.1:${await freePort()}`, mqtt: `mqtt://127.0.0.1:${await freePort()}` };
    const raw = await connect({ servers: nats.url, reconnectTimeWait: TEST_RECONNECT_WAIT_MS, maxReconnectAttempts: -1 });
    t.after(() => raw.close());
    return {
      create: (options, target = "broker") => {
        const natsUrl = target === "broker" ? nats.url : nowhere.nats;
        const mqttUrl = target === "broker" ? mqtt.url : nowhere.mqtt;
        const tr = new FailoverTransport({
          ...options,
          timing: TEST_TIMING,
          candidates: [
            { transport: "nats", url: natsUrl, create: () => new NatsTransport({ ...options, servers: natsUrl, reconnectWaitMs: TEST_RECONNECT_WAIT_MS }) },
            { transport: "mqtt", url: mqttUrl, create: () => new MqttTransport({ ...options, url: mqttUrl, reconnectWaitMs: TEST_RECONNECT_WAIT_MS }) },
          ],
        });
        t.after(() => tr.close());
        return tr;
      },
      rawPublish: async (subject, bytes) => {
        raw.publish(subject, bytes);
        await raw.flush();
      },
      kill: async () => {
        await nats.kill();
        await mqtt.kill();
      },
      start: async () => {
        await nats.start();
        await mqtt.start();
      },
    };
  },
});
