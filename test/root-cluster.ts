/**
 * A real root for tests: `adaos-edge root config` writes a 3-node cluster (JetStream domain root,
 * routes, leafnode listener, ADAOS account) on free loopback ports, the three nats-servers start
 * from those files, and the helper returns once every node answers /healthz and the JetStream meta
 * group has a leader. Every node is SIGKILLed in t.after; kill(i)/start(i) simulate a node outage.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { main as rootConfig, MANIFEST_FILE, STREAM_FILE } from "../agent/cli/root-config.js";
import type { RootNode } from "../agent/natsd/root-conf.js";
import type { StreamConfigJson } from "../agent/natsd/root-stream.js";
import { GiveUp, killChild, tempDir, waitFor } from "./helpers.js";
import { natsServerBinary } from "./nats-server.js";

interface After {
  after(fn: () => void | Promise<void>): void;
}

/** Three servers route to each other and elect a meta leader in ~1–2 s here; 20 s means they will not. */
const CLUSTER_READY_MS = 20_000;
/** Four listeners per node, nodes on consecutive ports: client, cluster, leaf, monitor blocks of NODES. */
const NODES = 3;
const PORT_BLOCK = 4 * NODES;
const PORT_RANGE = { low: 20_000, high: 60_000 };
const PORT_TRIES = 30;

export const HUB_USER = "hub";
export const HUB_PASSWORD = "hub-secret-$\"'"; // quoting and URL-encoding are part of the test

export interface RootServer extends RootNode {
  readonly conf: string;
  readonly alive: boolean;
  log(): string;
  kill(): Promise<void>;
  start(): Promise<void>;
}

export interface RootCluster {
  readonly dir: string;
  readonly nodes: readonly RootServer[];
  readonly clientUrls: readonly string[];
  readonly leafUrls: readonly string[];
  readonly user: string;
  readonly password: string;
  readonly stream: StreamConfigJson;
  /** What `root config` printed. */
  readonly output: string;
}

function canBind(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once("error", () => resolve(false));
    srv.listen(port, "127.0.0.1", () => srv.close(() => resolve(true)));
  });
}

/** A run of PORT_BLOCK consecutive ports that were all free a moment ago. */
async function freePortBlock(): Promise<number> {
  for (let i = 0; i < PORT_TRIES; i++) {
    const base = PORT_RANGE.low + Math.floor(Math.random() * (PORT_RANGE.high - PORT_RANGE.low - PORT_BLOCK));
    const free = await Promise.all(Array.from({ length: PORT_BLOCK }, (_, k) => canBind(base + k)));
    if (free.every(Boolean)) return base;
  }
  throw new Error(`no ${PORT_BLOCK} consecutive free ports found in ${PORT_TRIES} tries`);
}

async function getJson(url: string): Promise<unknown> {
  const res = await fetch(url);
  return res.ok ? res.json() : undefined;
}

export async function startRootCluster(t: After): Promise<RootCluster> {
  const bin = natsServerBinary();
  const dir = tempDir(t, "adaos-root-");
  const base = await freePortBlock();
  const lines: string[] = [];
  const io = { out: (l: string) => lines.push(l), err: (l: string) => lines.push(l), env: {}, cwd: dir };
  const args = ["--out", dir, "--nodes", String(NODES), "--host", "127.0.0.1", "--hub-user", HUB_USER, "--hub-password", HUB_PASSWORD];
  const ports = ["--client-port-base", base, "--cluster-port-base", base + NODES, "--leaf-port-base", base + 2 * NODES, "--monitor-port-base", base + 3 * NODES];
  const status = await rootConfig([...args, ...ports.map(String)], io);
  if (status !== 0) throw new Error(`root config failed (${status}): ${lines.join("\n")}`);
  const manifest = JSON.parse(readFileSync(join(dir, MANIFEST_FILE), "utf8")) as { nodes: (RootNode & { conf: string })[] };

  const nodes = manifest.nodes.map((node): RootServer => {
    let child: ChildProcess | undefined;
    let stderr = "";
    const kill = async (): Promise<void> => {
      const c = child;
      child = undefined;
      await killChild(c);
    };
    const start = (): Promise<void> => {
      if (child !== undefined) throw new Error(`${node.name} is already running`);
      stderr = "";
      const c = spawn(bin, ["-c", node.conf], { cwd: dir, stdio: ["ignore", "ignore", "pipe"] });
      child = c;
      c.stderr?.setEncoding("utf8").on("data", (d: string) => (stderr += d));
      return Promise.resolve();
    };
    t.after(kill);
    return {
      ...node,
      get alive() {
        return child !== undefined && child.exitCode === null && child.signalCode === null;
      },
      log: () => stderr,
      kill,
      start,
    };
  });

  await Promise.all(nodes.map((n) => n.start()));
  await waitFor(`root cluster ready with a JetStream meta leader (${dir})`, async () => {
    for (const n of nodes) {
      if (!n.alive) throw new GiveUp(`${n.name} exited: ${n.log()}`);
      const jsz = (await getJson(`${n.monitorUrl}/jsz`)) as { meta_cluster?: { leader?: string; cluster_size?: number } } | undefined;
      if (jsz?.meta_cluster?.leader === undefined || jsz.meta_cluster.leader === "") return undefined;
      if ((await fetch(`${n.monitorUrl}/healthz`)).status !== 200) return undefined;
    }
    return true;
  }, CLUSTER_READY_MS, 100);

  return {
    dir,
    nodes,
    clientUrls: nodes.map((n) => n.clientUrl),
    leafUrls: nodes.map((n) => n.leafUrl),
    user: HUB_USER,
    password: HUB_PASSWORD,
    stream: JSON.parse(readFileSync(join(dir, STREAM_FILE), "utf8")) as StreamConfigJson,
    output: lines.join("\n"),
  };
}

/** The root node the given hub's leaf link is attached to (from /leafz), if any. */
export async function leafHost(cluster: RootCluster): Promise<RootServer | undefined> {
  for (const n of cluster.nodes) {
    if (!n.alive) continue;
    const leafz = (await getJson(`${n.monitorUrl}/leafz`)) as { leafnodes?: number } | undefined;
    if ((leafz?.leafnodes ?? 0) > 0) return n;
  }
  return undefined;
}
