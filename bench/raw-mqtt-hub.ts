/**
 * The raw limit of directory.bench: the least a hub on MQTT must do with its members' heartbeats,
 * as its own process so its CPU is measured the same way. An aedes broker (no authentication, no
 * policy) and one mqtt.js client on it, subscribed to what the hub's link subscribes to
 * (`telemetry/#`, `ada/agent/+/evt`) at QoS 1, doing JSON.parse of each message and nothing else.
 * Prints `ready <port>` on stdout; SIGTERM ends it.
 *
 *   node dist/bench/raw-mqtt-hub.js
 */
import { createServer } from "node:net";
import { Aedes } from "aedes";
import { connectAsync } from "mqtt";

const broker = await Aedes.createBroker();
const server = createServer({ noDelay: true }, (socket) => broker.handle(socket));
await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
const addr = server.address();
const port = typeof addr === "object" && addr !== null ? addr.port : 0;

const client = await connectAsync(`mqtt://127.0.0.1:${port}`, { clientId: "raw-hub", protocolVersion: 4, reconnectPeriod: 0 });
let parsed = 0;
client.on("message", (_topic, payload) => {
  JSON.parse(payload.toString("utf8"));
  parsed++;
});
await client.subscribeAsync(["telemetry/#", "ada/agent/+/evt"], { qos: 1 });
process.stdout.write(`ready ${port}\n`);

process.once("SIGTERM", () => {
  process.stderr.write(`raw hub: ${parsed} messages parsed\n`);
  void client.endAsync(true).then(() => {
    server.close();
    broker.close(() => process.exit(0));
  });
});
