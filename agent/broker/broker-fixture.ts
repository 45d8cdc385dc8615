/**
 * Test support: the real hub broker on 127.0.0.1 port 0 with a fresh data dir, its credentials
 * store opened a second time (as `adaos-edge nodes` does), captured logs and metrics, and mqtt.js
 * clients that are always closed after the test.
 */
import { connectAsync, type IClientOptions, type MqttClient } from "mqtt";
import { tempDir } from "../../test/helpers.js";
import { MetricsRegistry } from "../core/metrics.js";
import { CredentialsStore } from "./credentials-store.js";
import { captureLog, type CapturedLog } from "./log-capture.js";
import { MqttBroker, type MqttBrokerOptions } from "./mqtt-broker.js";

export const HUB_ID = "hub-1";
export const SUBNET_TOKEN = "subnet-token-for-tests-0123456789";
/** Things that happen on loopback happen within this; waiting longer means they will not. */
export const SETTLE_MS = 5000;

interface TestContextLike {
  after(fn: () => void | Promise<void>): void;
}

export interface BrokerFixture {
  readonly broker: MqttBroker;
  readonly store: CredentialsStore;
  readonly metrics: MetricsRegistry;
  readonly log: CapturedLog;
  readonly dataDir: string;
  readonly port: number;
  /** An mqtt.js client (protocol 3.1.1, no reconnects, TCP_NODELAY); rejects when CONNACK refuses. */
  client(options: IClientOptions): Promise<MqttClient>;
  /** The agent's own client (role hub). */
  hubClient(): Promise<MqttClient>;
  /** A member with a fresh per-node credential. */
  member(nodeId: string, clientId?: string): Promise<MqttClient>;
  count(metric: "auth_failures" | "denied" | "dropped" | "client_errors", labels: Record<string, string>): number;
}

export async function startBroker(t: TestContextLike, extra: Partial<MqttBrokerOptions> = {}): Promise<BrokerFixture> {
  const dataDir = tempDir(t, "adaos-broker-");
  const log = captureLog();
  const metrics = new MetricsRegistry();
  const broker = new MqttBroker({
    host: "127.0.0.1", port: 0, hubId: HUB_ID, dataDir, subnetToken: SUBNET_TOKEN, logger: log.logger, metrics, ...extra,
  });
  await broker.start(AbortSignal.timeout(SETTLE_MS));
  t.after(() => broker.stop());
  const store = CredentialsStore.open(dataDir);
  t.after(() => store.close());
  const url = broker.url;
  const port = Number(new URL(url).port);

  const client = async (options: IClientOptions): Promise<MqttClient> => {
    const c = await connectAsync(url, { protocolVersion: 4, reconnectPeriod: 0, connectTimeout: SETTLE_MS, ...options });
    (c.stream as unknown as { setNoDelay?: (on: boolean) => void }).setNoDelay?.(true);
    t.after(() => c.endAsync(true));
    return c;
  };
  return {
    broker, store, metrics, log, dataDir, port, client,
    hubClient: () => client({ ...broker.hubLogin, clientId: `${HUB_ID}@agent` }),
    member: async (nodeId, clientId = `${nodeId}@t`) => client({ username: nodeId, password: await store.add(nodeId, "member"), clientId }),
    count: (metric, labels) => metrics.counter(`adaos_broker_${metric}_total`, "").get(labels),
  };
}

/** Resolves with the next message on `topic` a client receives; rejects after SETTLE_MS. */
export function nextMessage(client: MqttClient, topic: string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      client.off("message", onMessage);
      reject(new Error(`no message on ${topic} within ${SETTLE_MS} ms`));
    }, SETTLE_MS);
    const onMessage = (t: string, payload: Buffer): void => {
      if (t !== topic) return;
      clearTimeout(timer);
      client.off("message", onMessage);
      resolve(payload);
    };
    client.on("message", onMessage);
  });
}

/**
 * SUBACK's return codes for `filters` (1 granted at QoS 1, 128 refused). mqtt.js 5 rejects the
 * whole subscribe when any filter is refused; the SUBACK is on the error.
 */
export async function subscribeCodes(client: MqttClient, filters: string | string[]): Promise<number[]> {
  try {
    return (await client.subscribeAsync(filters, { qos: 1 })).map((g) => g.qos);
  } catch (err) {
    const granted = (err as { packet?: { granted?: unknown } }).packet?.granted;
    if (!Array.isArray(granted)) throw err;
    return granted.map(Number);
  }
}

/** Every topic a client receives, in order. */
export function received(client: MqttClient): string[] {
  const topics: string[] = [];
  client.on("message", (topic) => topics.push(topic));
  return topics;
}
