/**
 * Ports: the API port must be free (or already served by a running adaos-edge, e.g. the service
 * being diagnosed); on a hub the broker ports 1883 (MQTT) and 4222 (NATS) are needed by later
 * features, so a taken one is a warning for now.
 */
import { fail, ok, warn, type Check, type Finding } from "./check.js";
import type { System } from "./system.js";

/** The embedded MQTT broker and the hub's leaf nats-server listen for members on every address. */
const BROKER_HOST = "0.0.0.0";
export const MQTT_PORT = 1883;
export const NATS_PORT = 4222;
/** A local agent answers /health/ready in milliseconds; more means something else holds the port. */
const HEALTH_PROBE_TIMEOUT_MS = 1500;

export const apiPortCheck: Check = {
  id: "api-port",
  title: "the HTTP API port is free",
  run: async ({ config, system }) => {
    const { host, port } = config.api;
    if (port === 0) return ok(`api.port 0: a free port is picked at start`);
    const where = `${host}:${port}`;
    const result = await system.tryListen(host, port);
    if (result === "free") return ok(`${where} is free`);
    if (result.code === "EADDRINUSE") {
      const agent = await runningAgent(system, host, port);
      if (agent !== null) return ok(`${where} is served by a running adaos-edge (${agent})`);
      return fail(`${where} is in use`, `stop the other process (see \`sudo ss -ltnp 'sport = :${port}'\`) or set api.port / --api-port`);
    }
    return listenProblem(result, where, "api.host / --api-host", "api.port / --api-port", fail);
  },
};

export const mqttPortCheck: Check = brokerPortCheck("mqtt-port", "MQTT", MQTT_PORT, "mosquitto", "the hub embeds its own MQTT broker");
export const natsPortCheck: Check = brokerPortCheck("nats-port", "NATS", NATS_PORT, "nats-server", "the hub runs its own nats-server as a leaf node");

function brokerPortCheck(id: string, protocol: string, port: number, service: string, why: string): Check {
  return {
    id,
    title: `the ${protocol} port ${port} is free (hub)`,
    run: async ({ system }) => {
      const where = `${BROKER_HOST}:${port} (${protocol})`;
      const result = await system.tryListen(BROKER_HOST, port);
      if (result === "free") return ok(`${where} is free`);
      if (result.code === "EADDRINUSE") {
        return warn(`${where} is in use — needed by later features`, `stop the other broker (e.g. sudo systemctl disable --now ${service}): ${why}`);
      }
      return listenProblem(result, where, "the host's addresses", `port ${port}`, warn);
    },
  };
}

function listenProblem(result: { code: string; message: string }, where: string, hostKey: string, portKey: string, severity: typeof fail): Finding {
  switch (result.code) {
    case "EACCES":
      return severity(`${where}: no permission to listen (ports below 1024 need privileges)`, `use a port from 1024 up with ${portKey}, or grant CAP_NET_BIND_SERVICE`);
    case "EADDRNOTAVAIL":
      return severity(`${where}: the address is not one of this machine's`, `set ${hostKey} to 127.0.0.1, 0.0.0.0 or an address of this machine (ip -br addr)`);
    default:
      return severity(`${where}: cannot listen: ${result.code} ${result.message}`, `check ${hostKey} and ${portKey}`);
  }
}

/** "hub pi, version 0.1.0" when an adaos-edge answers /health/ready on that address, else null. */
async function runningAgent(system: System, host: string, port: number): Promise<string | null> {
  const local = host === "0.0.0.0" ? "127.0.0.1" : host === "::" ? "[::1]" : host.includes(":") ? `[${host}]` : host;
  const answer = await system.httpGet(`http://${local}:${port}/health/ready`, HEALTH_PROBE_TIMEOUT_MS);
  if (answer === null) return null;
  try {
    const { adaos } = JSON.parse(answer.body) as { adaos?: { version?: unknown; role?: unknown; node_id?: unknown } };
    if (typeof adaos?.version !== "string") return null;
    const who = [adaos.role, adaos.node_id].filter((v): v is string => typeof v === "string").join(" ");
    return who === "" ? `version ${adaos.version}` : `${who}, version ${adaos.version}`;
  } catch {
    return null;
  }
}
