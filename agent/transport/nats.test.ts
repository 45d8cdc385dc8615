/** The transport contract against a real nats-server process per test, plus NATS-only facts. */
import type { TestContext } from "node:test";
import { connect } from "nats";
import { freePort } from "../../test/helpers.js";
import { startNatsServer } from "../../test/nats-server.js";
import { transportContract } from "./contract.js";
import { NatsTransport } from "./nats.js";

/** Fast reconnects keep the outage test short; production uses the adapter's default. */
const TEST_RECONNECT_WAIT_MS = 200;

transportContract({
  name: "nats",
  capabilities: { nativeQueueGroups: true, noResponders: true, replyAddress: "protocol" },
  broker: async (t: TestContext) => {
    const server = await startNatsServer(t);
    const nowhere = `nats://127.0.0.1:${await freePort()}`;
    const raw = await connect({ servers: server.url, reconnectTimeWait: TEST_RECONNECT_WAIT_MS, maxReconnectAttempts: -1 });
    t.after(() => raw.close());
    return {
      create: (options, target = "broker") => {
        const tr = new NatsTransport({ ...options, servers: target === "broker" ? server.url : nowhere, reconnectWaitMs: TEST_RECONNECT_WAIT_MS });
        t.after(() => tr.close());
        return tr;
      },
      rawPublish: async (subject, bytes) => {
        raw.publish(subject, bytes);
        await raw.flush();
      },
      kill: () => server.kill(),
      start: () => server.start(),
    };
  },
});
