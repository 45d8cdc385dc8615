/**
 * The hub's nats-server config: client listener for members, JetStream (domain = hub id, store
 * under <data_dir>/nats/jetstream), per-node users with role permissions, a leafnode remote to the
 * root, and HTTP monitoring on loopback for readiness. Pure text from plain inputs (so a test can
 * read it and `nats-server -t` can judge it). Members with a credential appear only by their NKey
 * public key; the file is still mode 0600 because it holds the hub's own password, the subnet
 * token (members from before NKeys) and the root login.
 */
import { mkdirSync, renameSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import type { Config } from "../config/config.js";
import { renderConf, section, type ConfBlock } from "./conf-text.js";
import { permissionsFor, type Permissions } from "./permissions.js";
import { isNkeyUser, type NatsUser } from "./users.js";

/** A leaf link is re-dialled every second (2.9 takes whole seconds): back 0–1 s after the root. */
export const LEAF_RECONNECT_S = 1;
/**
 * With reconnects every second, a root outage would log an error line per second; one line per
 * minute of outage is enough to see it in the journal.
 */
export const RECONNECT_ERROR_REPORTS = 60;
/**
 * Server-wide pings (clients and leaf links): a stalled link (not closed, e.g. a Wi-Fi drop) is
 * noticed after PING_MAX missed pings, ~30–45 s instead of nats-server's default 2 min × 2.
 */
export const PING_INTERVAL = "15s";
export const PING_MAX = 2;

export interface LeafRemote {
  readonly urls: readonly string[];
  /** The hub's user at the root; put into each URL that has no userinfo of its own. */
  readonly user: string | null;
  readonly password: string | null;
}

export interface HubNatsConfig {
  /** server_name and JetStream domain. */
  readonly nodeId: string;
  readonly host: string;
  readonly port: number;
  readonly monitorPort: number;
  readonly maxPayload: number;
  /** <data_dir>/nats: config, pid file, and JetStream's store (nats-server adds `jetstream/`). */
  readonly dir: string;
  readonly users: readonly NatsUser[];
  readonly leaf?: LeafRemote | undefined;
}

export function natsPaths(dir: string): { conf: string; pid: string } {
  return { conf: join(dir, "nats-server.conf"), pid: join(dir, "nats-server.pid") };
}

/** The hub's server settings from the agent config; a leaf remote only when enabled and configured. */
export function hubNatsConfig(config: Config, users: readonly NatsUser[]): HubNatsConfig {
  const leafOn = config.nats.leaf && config.root.leaf_urls.length > 0;
  return {
    nodeId: config.node_id,
    host: config.nats.host,
    port: config.nats.port,
    monitorPort: config.nats.monitor_port,
    maxPayload: config.nats.max_payload,
    dir: join(config.data_dir, "nats"),
    users,
    leaf: leafOn ? { urls: config.root.leaf_urls, user: config.root.user, password: config.root.password } : undefined,
  };
}

/** `nats-leaf://h:7422` + user/password → `nats-leaf://user:pass@h:7422` (percent-encoded). */
export function withCredentials(url: string, user: string | null, password: string | null): string {
  const m = /^([a-z][a-z0-9+.-]*:\/\/)([^/?#]*)(.*)$/i.exec(url);
  if (m === null || user === null || m[2]?.includes("@")) return url;
  const info = encodeURIComponent(user) + (password === null ? "" : `:${encodeURIComponent(password)}`);
  return `${m[1] ?? ""}${info}@${m[2] ?? ""}${m[3] ?? ""}`;
}

function permissionsBlock(p: Permissions): ConfBlock {
  const rule = (r: Permissions["publish"]): ConfBlock => ({ allow: r.allow, deny: r.deny });
  return { publish: rule(p.publish), subscribe: rule(p.subscribe) };
}

export function renderHubConfig(c: HubNatsConfig): string {
  if (!c.users.some((u) => u.role === "hub")) throw new RangeError("the hub's nats-server needs a hub user");
  const users = c.users.map((u): ConfBlock => {
    const p = permissionsFor(u, c.nodeId);
    const permissions = p === undefined ? undefined : permissionsBlock(p);
    return isNkeyUser(u) ? { nkey: u.nkey, permissions } : { user: u.user, password: u.password, permissions };
  });
  const paths = natsPaths(c.dir);
  return renderConf([
    [`# Written by adaos-edge for hub ${c.nodeId} at every start and when its nodes change; edits are overwritten.`],
    section("Members connect here. Timestamps come from the agent's logger, so nats-server adds none.", {
      server_name: c.nodeId,
      host: c.host,
      port: c.port,
      max_payload: c.maxPayload,
      pid_file: paths.pid,
      logtime: false,
      ping_interval: PING_INTERVAL,
      ping_max: PING_MAX,
      reconnect_error_reports: RECONNECT_ERROR_REPORTS,
    }),
    section("Readiness: the agent polls /healthz here. Loopback only.", { http: `127.0.0.1:${c.monitorPort}` }),
    section(["Local JetStream: buffers and serves the subnet while the root is away.", "Its domain is the hub id; the root's is its own, so $JS.<domain>.API reaches either side."], {
      jetstream: { domain: c.nodeId, store_dir: c.dir },
    }),
    section(["One user per node: a member by its NKey public key, or its node id (subnet token);", "it may touch only its own subjects (agent/natsd/permissions.ts)."], {
      authorization: { users },
    }),
    c.leaf === undefined
      ? []
      : section(`Leafnode link to the root cluster: any of the URLs, re-dialled every ${LEAF_RECONNECT_S} s.`, {
          leafnodes: {
            reconnect: LEAF_RECONNECT_S,
            remotes: [{ urls: c.leaf.urls.map((u) => withCredentials(u, c.leaf?.user ?? null, c.leaf?.password ?? null)) }],
          },
        }),
  ]);
}

/** Write atomically (temp file + rename) with mode 0600 in a 0700 directory. */
export function writeConfigFile(path: string, text: string): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, text, { mode: 0o600 });
  renameSync(tmp, path);
}
