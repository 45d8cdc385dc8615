/**
 * `adaos-edge root config --out DIR`: configs for a root cluster of N nats-servers (JetStream,
 * routes, a leafnode listener and an account for hubs), the uplink and downlink streams' configs
 * with a duplicate window that covers the outbox TTL, a manifest, and how to start it all.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { UsageError } from "../core/errors.js";
import { formatDuration, parseDuration } from "../natsd/duration.js";
import { planRoot, renderRootNode, ROOT_ACCOUNT, type RootSpec } from "../natsd/root-conf.js";
import { DOWNLINK_STREAM, downlinkStreamConfig, OUTBOX_TTL_MS, UPLINK_STREAM, uplinkStreamConfig } from "../natsd/root-stream.js";
import { randomSecret } from "../natsd/users.js";
import { intFlag, parse } from "./args.js";
import { EXIT, type CommandMain } from "./command.js";

const USAGE =
  "root config --out DIR [--nodes 3] [--host H[,H2,…]] [--client-port-base 4222] [--cluster-port-base 6222] [--leaf-port-base 7422] [--monitor-port-base 8222] [--hub-user U --hub-password P] [--route-password P] [--duplicate-window 2h]";

const OPTIONS = {
  out: { type: "string" },
  nodes: { type: "string" },
  host: { type: "string" },
  "client-port-base": { type: "string" },
  "cluster-port-base": { type: "string" },
  "leaf-port-base": { type: "string" },
  "monitor-port-base": { type: "string" },
  "hub-user": { type: "string" },
  "hub-password": { type: "string" },
  "route-password": { type: "string" },
  "duplicate-window": { type: "string" },
} as const;

export const STREAM_FILE = "root-stream-uplink.json";
export const DOWNLINK_STREAM_FILE = "root-stream-downlink.json";
export const MANIFEST_FILE = "root-cluster.json";

export const main: CommandMain = (args, io) => {
  const { values: v, positionals } = parse(args, OPTIONS, USAGE);
  if (positionals.length > 0) throw new UsageError(`unexpected arguments: ${positionals.join(" ")}\nusage: ${USAGE}`);
  if (v.out === undefined) throw new UsageError(`--out DIR is required\nusage: ${USAGE}`);
  const port = (flag: keyof typeof OPTIONS, dflt: number): number => intFlag(v[flag], `--${flag}`, 1, 65535) ?? dflt;
  let windowMs: number;
  try {
    windowMs = parseDuration(v["duplicate-window"] ?? "2h");
  } catch (err) {
    throw new UsageError(`--duplicate-window: ${(err as Error).message}`);
  }
  const dir = resolve(io.cwd, v.out);
  const hubPassword = v["hub-password"] ?? randomSecret();
  const spec: RootSpec = {
    nodes: intFlag(v.nodes, "--nodes", 1, 99) ?? 3,
    hosts: (v.host ?? "127.0.0.1").split(",").map((h) => h.trim()).filter((h) => h !== ""),
    clientPortBase: port("client-port-base", 4222),
    clusterPortBase: port("cluster-port-base", 6222),
    leafPortBase: port("leaf-port-base", 7422),
    monitorPortBase: port("monitor-port-base", 8222),
    dir,
    domain: "root",
    hubUser: v["hub-user"] ?? "hub",
    hubPassword,
    routePassword: v["route-password"] ?? randomSecret(),
  };
  let nodes;
  let stream;
  let downlink;
  try {
    nodes = planRoot(spec);
    stream = uplinkStreamConfig({ duplicateWindowMs: windowMs, replicas: spec.nodes });
    downlink = downlinkStreamConfig({ duplicateWindowMs: windowMs, replicas: spec.nodes });
  } catch (err) {
    throw new UsageError((err as Error).message, { cause: err });
  }

  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const confs = nodes.map((n, i) => {
    const file = join(dir, `${n.name}.conf`);
    writeFileSync(file, renderRootNode(spec, nodes, i), { mode: 0o600 });
    return file;
  });
  const streamFile = join(dir, STREAM_FILE);
  writeFileSync(streamFile, JSON.stringify(stream, null, 2) + "\n");
  const downlinkFile = join(dir, DOWNLINK_STREAM_FILE);
  writeFileSync(downlinkFile, JSON.stringify(downlink, null, 2) + "\n");
  const manifest = {
    domain: spec.domain,
    account: ROOT_ACCOUNT,
    hub_user: spec.hubUser,
    stream: UPLINK_STREAM,
    downlink_stream: DOWNLINK_STREAM,
    nodes: nodes.map((n, i) => ({ ...n, conf: confs[i] })),
  };
  writeFileSync(join(dir, MANIFEST_FILE), JSON.stringify(manifest, null, 2) + "\n", { mode: 0o600 });

  io.out(`wrote ${nodes.length} nats-server configs, ${STREAM_FILE}, ${DOWNLINK_STREAM_FILE} and ${MANIFEST_FILE} to ${dir}`);
  if (windowMs < OUTBOX_TTL_MS) {
    io.err(`warning: duplicate window ${formatDuration(windowMs)} is shorter than the outbox TTL (${formatDuration(OUTBOX_TTL_MS)}): a replay after a longer outage can be stored twice`);
  }
  io.out("");
  io.out("start each node (on its host):");
  for (const f of confs) io.out(`  nats-server -c ${f}`);
  io.out("");
  io.out(`create the uplink and downlink streams once the cluster is up (duplicate window ${formatDuration(windowMs)}):`);
  for (const file of [streamFile, downlinkFile]) {
    io.out(`  nats --server ${nodes[0]?.clientUrl ?? ""} --user ${spec.hubUser} --password '<hub password>' stream add --config ${file}`);
  }
  io.out("");
  io.out("run each hub with:");
  io.out(`  --root ${nodes.map((n) => n.clientUrl).join(",")} --root-leaf ${nodes.map((n) => n.leafUrl).join(",")}`);
  io.out(`  ADAOS_EDGE_ROOT_USER=${spec.hubUser} ADAOS_EDGE_ROOT_PASSWORD=${v["hub-password"] === undefined ? hubPassword : "<hub password>"}`);
  return Promise.resolve(EXIT.ok);
};
