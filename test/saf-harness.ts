/**
 * Store-and-forward end-to-end pieces: a hub process that is a leafnode of a real root cluster
 * (restartable on the same data dir and ports, for kill -9), a member on it, producing numbered
 * telemetry.reading events in ordered batches, the agents' outbox stats, and reading the root's
 * uplink stream back.
 */
import { connect, type NatsConnection } from "nats";
import type { Envelope } from "../abi/envelope.js";
import { UPLINK_STREAM } from "../agent/natsd/root-stream.js";
import { freePort, GiveUp, runCli, startAgent, tempDir, TOKEN, waitFor, type Proc, type RunningAgent } from "./helpers.js";
import { startRootCluster, type RootCluster } from "./root-cluster.js";

interface After {
  after(fn: () => void | Promise<void>): void;
}

export const HUB_ID = "hub-1";
export { TOKEN } from "./helpers.js";
const BATCH = 500;

export interface OutboxStatsBody {
  readonly depth: number;
  readonly in_flight: number;
  readonly sent: number;
  readonly dlq: { readonly total: number; readonly by_reason: Record<string, number> };
}

export interface HubProcess {
  readonly url: string;
  /** The secret `nodes add` printed for each member given to makeHub. */
  readonly secrets: ReadonlyMap<string, string>;
  readonly dataDir: string;
  readonly natsPort: number;
  readonly mqttPort: number;
  readonly proc: () => Proc;
  /** Start (again) on the same data dir and ports; resolves when /health/ready answers. */
  start(): Promise<void>;
}

/** A hub whose nats-server is a leafnode of `root`; `nodes add` for the members first. */
export async function makeHub(t: After, root: RootCluster | undefined, members: readonly string[], env: Record<string, string> = {}): Promise<HubProcess> {
  const dataDir = tempDir(t, "adaos-saf-hub-");
  const secrets = new Map<string, string>();
  for (const m of members) {
    const add = runCli(t, ["nodes", "add", m, "--data-dir", dataDir]);
    if ((await add.exited) !== 0) throw new Error(`nodes add ${m}: ${add.stderr()}`);
    const secret = /password (\S+)/.exec(add.stdout())?.[1];
    if (secret === undefined) throw new Error(`nodes add ${m} printed no secret: ${add.stdout()}`);
    secrets.set(m, secret);
  }
  const [apiPort, natsPort, mqttPort, monitorPort] = [await freePort(), await freePort(), await freePort(), await freePort()];
  const url = `http://127.0.0.1:${apiPort}`;
  let proc: Proc | undefined;
  const hub: HubProcess = {
    url, dataDir, natsPort, mqttPort, secrets,
    proc: () => {
      if (proc === undefined) throw new Error("the hub was never started");
      return proc;
    },
    async start() {
      const args = ["run", "--role", "hub", "--node-id", HUB_ID, "--data-dir", dataDir, "--api-port", String(apiPort), "--nats-port", String(natsPort), "--mqtt-port", String(mqttPort)];
      if (root !== undefined) args.push("--root-leaf", root.leafUrls.join(","));
      const p = runCli(t, args, {
        env: {
          ADAOS_EDGE_TOKEN: TOKEN,
          ADAOS_EDGE_NATS_SERVER_BIN: "nats-server",
          ADAOS_EDGE_NATS_MONITOR_PORT: String(monitorPort),
          ...(root === undefined ? {} : { ADAOS_EDGE_ROOT_USER: root.user, ADAOS_EDGE_ROOT_PASSWORD: root.password }),
          ADAOS_EDGE_LOG_LEVEL: "info",
          // Only the readings the tests count go up (not heartbeats, not the agents' own system.* events).
          ADAOS_EDGE_OUTBOX_UPLINK: "telemetry.reading",
          ...env,
        },
      });
      proc = p;
      await waitFor(`the hub ready (stderr: ${p.stderr().slice(-2000)})`, async () => {
        if (p.child.exitCode !== null) throw new GiveUp(`hub exited ${p.child.exitCode}: ${p.stderr().slice(-2000)}`);
        return (await fetch(`${url}/health/ready`).then((r) => r.ok, () => false)) || undefined;
      }, 30_000);
    },
  };
  return hub;
}

/** A member of `hub`, logging in with the secret `nodes add` issued it, else (first-setup mode) the subnet token. */
export function startMember(t: After, hub: HubProcess, nodeId: string, env: Record<string, string> = {}, apiPort?: number): Promise<RunningAgent> {
  const secret = hub.secrets.get(nodeId);
  return startAgent(t, ["--role", "member", "--node-id", nodeId, "--hub", `nats://127.0.0.1:${hub.natsPort},mqtt://127.0.0.1:${hub.mqttPort}`], {
    ADAOS_EDGE_TOKEN: TOKEN, ADAOS_EDGE_LOG_LEVEL: "info", ...(secret === undefined ? {} : { ADAOS_EDGE_HUB_PASSWORD: secret }), ...env,
  }, apiPort);
}

async function api(url: string, path: string, body?: unknown): Promise<unknown> {
  const res = await fetch(`${url}${path}`, {
    method: body === undefined ? "GET" : "POST",
    headers: { "content-type": "application/json", "x-adaos-token": TOKEN },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${path}: ${res.status} ${text}`);
  return JSON.parse(text) as unknown;
}

export async function outboxStats(url: string): Promise<OutboxStatsBody> {
  return (await api(url, "/api/outbox/stats")) as OutboxStatsBody;
}

export interface DeadLetterItem { dlq_id: number; reason: string; last_error: string | null; id: string | null; event_name: string | null }

export async function deadLetters(url: string, reason: string): Promise<{ items: DeadLetterItem[] }> {
  return (await api(url, `/api/dlq?reason=${reason}&limit=1000`)) as { items: DeadLetterItem[] };
}

/** Publish `count` numbered readings (seq 0…count-1) in ordered batches through the agent's API. */
export async function produce(url: string, count: number, name = "test.count"): Promise<void> {
  for (let from = 0; from < count; from += BATCH) {
    const items = Array.from({ length: Math.min(BATCH, count - from) }, (_, k) => ({
      event_name: "telemetry.reading", version: 1, payload: { name, value: from + k, seq: from + k },
    }));
    const { results } = (await api(url, "/api/events/publish", items)) as { results: { status: string }[] };
    const bad = results.filter((r) => r.status !== "accepted");
    if (bad.length > 0) throw new Error(`${bad.length} readings not accepted: ${JSON.stringify(bad[0])}`);
  }
}

export async function rootConnection(t: After, root: RootCluster): Promise<NatsConnection> {
  const nc = await connect({ servers: [...root.clientUrls], user: root.user, pass: root.password, maxReconnectAttempts: -1, reconnectTimeWait: 100 });
  t.after(() => nc.close());
  return nc;
}

/** A 3-node root cluster with the uplink stream, and a client connection to it. */
export async function rootWithUplink(t: After): Promise<{ root: RootCluster; rootNc: NatsConnection; jsm: Awaited<ReturnType<NatsConnection["jetstreamManager"]>> }> {
  const root = await startRootCluster(t);
  const rootNc = await rootConnection(t, root);
  const jsm = await rootNc.jetstreamManager();
  await jsm.streams.add(root.stream as unknown as Parameters<typeof jsm.streams.add>[0]);
  return { root, rootNc, jsm };
}

/** Messages in the uplink stream now (undefined while the root cannot answer). */
export async function uplinkCount(nc: NatsConnection): Promise<number | undefined> {
  try {
    const jsm = await nc.jetstreamManager({ timeout: 1000 });
    return (await jsm.streams.info(UPLINK_STREAM)).state.messages;
  } catch {
    return undefined;
  }
}

/** Every envelope in the uplink stream, in stream order. */
export async function readUplink(nc: NatsConnection, expected: number): Promise<Envelope[]> {
  const jsm = await nc.jetstreamManager();
  const out: Envelope[] = [];
  for (let seq = 1; out.length < expected; seq++) {
    const m = await jsm.streams.getMessage(UPLINK_STREAM, { seq });
    out.push(JSON.parse(new TextDecoder().decode(m.data)) as Envelope);
  }
  return out;
}

/** Per source: the readings' seq values in stream order must be 0…n-1 exactly, in order. */
export function checkOrder(envelopes: readonly Envelope[]): Map<string, number> {
  const bySource = new Map<string, number[]>();
  for (const e of envelopes) {
    const list = bySource.get(e.source) ?? [];
    list.push((e.payload as { seq: number }).seq);
    bySource.set(e.source, list);
  }
  const counts = new Map<string, number>();
  for (const [source, seqs] of bySource) {
    seqs.forEach((s, i) => {
      if (s !== i) throw new Error(`${source}: position ${i} holds seq ${s} (order or completeness broken)`);
    });
    counts.set(source, seqs.length);
  }
  return counts;
}

export async function startRoot(root: RootCluster): Promise<void> {
  await Promise.all(root.nodes.map((n) => n.start()));
  await waitFor("the root back with a JetStream leader", async () => {
    for (const n of root.nodes) {
      const jsz = (await fetch(`${n.monitorUrl}/jsz`).then((r) => (r.ok ? r.json() : undefined), () => undefined)) as { meta_cluster?: { leader?: string } } | undefined;
      if (jsz?.meta_cluster?.leader === undefined || jsz.meta_cluster.leader === "") return undefined;
    }
    return true;
  }, 30_000, 25);
}

export async function stopRoot(root: RootCluster): Promise<void> {
  await Promise.all(root.nodes.map((n) => n.kill()));
}
