/**
 * Configs for the root: a cluster of N nats-servers with JetStream (domain `root`), routes between
 * all of them, and a leafnode listener where hubs attach. Hubs (leaf links and direct clients)
 * authenticate as users of one account, ADAOS, which has JetStream; routes have their own secret.
 *
 * One host: every node on it, ports base+0 … base+N-1. N hosts: node i on host i, listening on
 * all interfaces with the base ports, advertising its host. Monitoring is always on loopback.
 */
import { join } from "node:path";
import { renderConf, section } from "./conf-text.js";

export const ROOT_ACCOUNT = "ADAOS";
export const ROOT_CLUSTER = "adaos-root";
export const ROUTE_USER = "route";

export interface RootSpec {
  readonly nodes: number;
  /** One host for all nodes, or one per node. */
  readonly hosts: readonly string[];
  readonly clientPortBase: number;
  readonly clusterPortBase: number;
  readonly leafPortBase: number;
  readonly monitorPortBase: number;
  /** Store dirs are <dir>/root-<i>. */
  readonly dir: string;
  readonly domain: string;
  readonly hubUser: string;
  readonly hubPassword: string;
  readonly routePassword: string;
}

export interface RootNode {
  readonly name: string;
  readonly host: string;
  readonly listen: string;
  readonly clientPort: number;
  readonly clusterPort: number;
  readonly leafPort: number;
  readonly monitorPort: number;
  readonly storeDir: string;
  readonly clientUrl: string;
  readonly leafUrl: string;
  readonly monitorUrl: string;
}

function hostPort(host: string, port: number): string {
  return `${host.includes(":") ? `[${host}]` : host}:${port}`;
}

/** The nodes of a spec; RangeError when ports collide or overflow. */
export function planRoot(spec: RootSpec): RootNode[] {
  if (!Number.isInteger(spec.nodes) || spec.nodes < 1) throw new RangeError("--nodes must be at least 1");
  if (spec.hosts.length !== 1 && spec.hosts.length !== spec.nodes) throw new RangeError(`give one host, or one per node (${spec.nodes}); got ${spec.hosts.length}`);
  const shared = spec.hosts.length === 1;
  const nodes = Array.from({ length: spec.nodes }, (_, i): RootNode => {
    const host = spec.hosts[shared ? 0 : i] as string;
    const off = shared ? i : 0;
    const n = { clientPort: spec.clientPortBase + off, clusterPort: spec.clusterPortBase + off, leafPort: spec.leafPortBase + off, monitorPort: spec.monitorPortBase + off };
    for (const [k, p] of Object.entries(n)) if (p < 1 || p > 65535) throw new RangeError(`root-${i + 1}: ${k} ${p} is not a TCP port`);
    return {
      name: `root-${i + 1}`,
      host,
      listen: shared ? host : "0.0.0.0",
      ...n,
      storeDir: join(spec.dir, `root-${i + 1}`),
      clientUrl: `nats://${hostPort(host, n.clientPort)}`,
      leafUrl: `nats-leaf://${hostPort(host, n.leafPort)}`,
      monitorUrl: `http://127.0.0.1:${n.monitorPort}`,
    };
  });
  const seen = new Map<string, string>();
  for (const node of nodes) {
    for (const [kind, port] of [["client", node.clientPort], ["cluster", node.clusterPort], ["leaf", node.leafPort], ["monitor", node.monitorPort]] as const) {
      const key = `${node.host}:${port}`; // one machine per host: all its ports (loopback included) must differ
      const other = seen.get(key);
      if (other !== undefined) throw new RangeError(`${node.name} ${kind} port ${port} collides with ${other}; choose other port bases`);
      seen.set(key, `${node.name} ${kind}`);
    }
  }
  return nodes;
}

export function renderRootNode(spec: RootSpec, nodes: readonly RootNode[], index: number): string {
  const node = nodes[index];
  if (node === undefined) throw new RangeError(`no node ${index}`);
  const routeAuth = `${ROUTE_USER}:${encodeURIComponent(spec.routePassword)}@`;
  return renderConf([
    [`# ${node.name} of ${nodes.length}: written by \`adaos-edge root config\`. Start: nats-server -c <this file>`],
    section("Clients: hubs' direct links, operators, services of the root.", {
      server_name: node.name,
      host: node.listen,
      port: node.clientPort,
      client_advertise: hostPort(node.host, node.clientPort),
    }),
    section("Monitoring (/healthz, /jsz, /leafz) on loopback only.", { http: `127.0.0.1:${node.monitorPort}` }),
    section(`JetStream, replicated across the cluster. Hubs reach it as $JS.${spec.domain}.API.`, {
      jetstream: { domain: spec.domain, store_dir: node.storeDir },
    }),
    section("Routes to every node (a node skips itself); nodes authenticate with the route secret.", {
      cluster: {
        name: ROOT_CLUSTER,
        host: node.listen,
        port: node.clusterPort,
        advertise: hostPort(node.host, node.clusterPort),
        authorization: { user: ROUTE_USER, password: spec.routePassword },
        routes: nodes.map((n) => `nats-route://${routeAuth}${hostPort(n.host, n.clusterPort)}`),
      },
    }),
    section(["Hubs attach here as leafnodes, authenticating as a user of the ADAOS account.", "advertise: the address hubs are told to reconnect to (set it to the public one behind NAT)."], {
      leafnodes: { host: node.listen, port: node.leafPort, advertise: hostPort(node.host, node.leafPort) },
    }),
    section("Hubs' account: their leaf links and direct clients share its subjects and JetStream.", {
      accounts: { [ROOT_ACCOUNT]: { jetstream: "enabled", users: [{ user: spec.hubUser, password: spec.hubPassword }] } },
    }),
  ]);
}
