/**
 * `nodes add|list|revoke`: the hub's per-node credentials, written directly to
 * <data-dir>/credentials.db (a running hub's MQTT broker reads it at every CONNECT and its
 * nats-server follows it within REVOCATION_CHECK_MS, so this works whether the hub runs or not).
 * The secret is an NKey user seed: the MQTT password and the NATS login of the node.
 * Topic patterns are subjects (`sensors.>`) or MQTT filters (`sensors/#`).
 */
import { existsSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { filterToPattern, patternToFilter } from "../../abi/subjects.js";
import { BadRequestError, NotFoundError, UsageError } from "../core/errors.js";
import {
  CREDENTIALS_DB_FILE, CREDENTIAL_ROLES, CredentialsStore, REVOCATION_CHECK_MS, type CredentialRecord, type CredentialRole,
} from "../broker/credentials-store.js";
import { CLIENT_ID_SEPARATOR } from "../broker/policy.js";
import { parse } from "./args.js";
import { EXIT, type CliIo, type CommandMain } from "./command.js";

/** The agent's default data dir, relative to the working directory (agent/config/schema.json). */
const DEFAULT_DATA_DIR = "./var";
export const USAGE = {
  add: "nodes add <node-id> [--role member|client] [--publish PATTERN]... [--subscribe PATTERN]... [--data-dir DIR]",
  list: "nodes list [--json] [--data-dir DIR]",
  revoke: "nodes revoke <node-id> [--data-dir DIR]",
} as const;

export const add: CommandMain = async (args, io) => {
  const { values, positionals } = parse(args, {
    role: { type: "string", default: "member" },
    publish: { type: "string", multiple: true, default: [] },
    subscribe: { type: "string", multiple: true, default: [] },
    "data-dir": { type: "string" },
  }, USAGE.add);
  const nodeId = onePositional(positionals, USAGE.add);
  const role = values.role as CredentialRole;
  if (!CREDENTIAL_ROLES.includes(role)) throw new UsageError(`--role must be one of ${CREDENTIAL_ROLES.join(", ")}, got "${values.role}"`);
  const grants = { publish: values.publish.map(toPattern), subscribe: values.subscribe.map(toPattern) };
  const path = credentialsPath(values["data-dir"], io);
  const store = CredentialsStore.open(dirname(path));
  try {
    if (store.get(nodeId)?.revokedAt === null) {
      throw new UsageError(`node ${nodeId} already has a credential in ${path}; \`adaos-edge nodes revoke ${nodeId}\` first to issue a new one`);
    }
    const secret = await store.add(nodeId, role, grants).catch((err: unknown) => {
      throw err instanceof BadRequestError ? new UsageError(`${err.message}\nusage: ${USAGE.add}`, { cause: err }) : err;
    });
    io.out(`issued a credential for node ${nodeId} (${role}) in ${path}:`);
    io.out(`  username ${nodeId}, password ${secret}`);
    io.out(`  MQTT: client id "${nodeId}" or "${nodeId}${CLIENT_ID_SEPARATOR}<suffix>" (letters, digits, - and _), on the hub's MQTT port (default 1883)`);
    if (role === "client") {
      io.out(`  may publish:      ${describe(grants.publish)}`);
      io.out(`  may subscribe to: ${describe(grants.subscribe)}`);
    } else {
      io.out(`  NATS: the same password is the node's NKey seed (public key ${store.get(nodeId)?.publicKey ?? "?"}), on the hub's NATS port (default 4222)`);
      io.out(`  on the member: ADAOS_EDGE_HUB_PASSWORD=<the password> (hub.password)`);
    }
    io.out("The password is shown only this once (the hub keeps only its hash and public key); keep it on the node.");
    return EXIT.ok;
  } finally {
    store.close();
  }
};

export const list: CommandMain = command((args, io) => {
  const { values, positionals } = parse(args, { json: { type: "boolean", default: false }, "data-dir": { type: "string" } }, USAGE.list);
  if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"\nusage: ${USAGE.list}`);
  const path = credentialsPath(values["data-dir"], io);
  const records = withExisting(path, (store) => store.list()) ?? [];
  for (const r of records) {
    if (values.json) {
      io.out(JSON.stringify({ node_id: r.nodeId, role: r.role, created_at: r.createdAt, revoked_at: r.revokedAt, publish: r.grants.publish, subscribe: r.grants.subscribe, nkey: r.publicKey }));
    } else {
      io.out(line(r));
    }
  }
  if (records.length === 0 && !values.json) io.out(`no credentials in ${path} (add one: adaos-edge ${USAGE.add})`);
  return EXIT.ok;
});

export const revoke: CommandMain = command((args, io) => {
  const { values, positionals } = parse(args, { "data-dir": { type: "string" } }, USAGE.revoke);
  const nodeId = onePositional(positionals, USAGE.revoke);
  const path = credentialsPath(values["data-dir"], io);
  const outcome = withExisting(path, (store) => (store.revoke(nodeId) ? "revoked" : store.get(nodeId)?.revokedAt)) ?? undefined;
  if (outcome === undefined) throw new NotFoundError(`node ${nodeId} has no credential in ${path}`);
  if (outcome !== "revoked") throw new NotFoundError(`the credential of node ${nodeId} is already revoked (${outcome ?? "?"})`);
  io.out(`revoked the credential of node ${nodeId}; a running hub closes its MQTT and NATS connections within ${REVOCATION_CHECK_MS / 1000} s`);
  return EXIT.ok;
});

/** A synchronous command as a CommandMain: what it throws becomes the rejection. */
function command(fn: (args: readonly string[], io: CliIo) => number): CommandMain {
  return (args, io) => new Promise((resolve) => resolve(fn(args, io)));
}

/** <data-dir>/credentials.db: --data-dir, else ADAOS_EDGE_DATA_DIR, else ./var. */
function credentialsPath(dataDir: string | undefined, io: CliIo): string {
  return resolve(io.cwd, dataDir ?? nonEmpty(io.env.ADAOS_EDGE_DATA_DIR) ?? DEFAULT_DATA_DIR, CREDENTIALS_DB_FILE);
}

/** Run `fn` on the store when its file exists (reading creates nothing); undefined when it does not. */
function withExisting<T>(path: string, fn: (store: CredentialsStore) => T): T | undefined {
  if (!existsSync(path)) return undefined;
  const store = CredentialsStore.open(dirname(path));
  try {
    return fn(store);
  } finally {
    store.close();
  }
}

function onePositional(positionals: readonly string[], usage: string): string {
  const [nodeId, ...extra] = positionals;
  if (nodeId === undefined || extra.length > 0) throw new UsageError(`expected exactly one node id\nusage: ${usage}`);
  return nodeId;
}

/** `sensors/#` → `sensors.>`; a subject pattern is kept as it is (the store validates it). */
function toPattern(text: string): string {
  if (!/[/+#]/.test(text)) return text;
  try {
    return filterToPattern(text);
  } catch (err) {
    throw new UsageError(`"${text}" is not an MQTT topic filter we can map to a subject: ${(err as Error).message}`, { cause: err });
  }
}

function describe(patterns: readonly string[]): string {
  return patterns.length === 0 ? "(nothing)" : patterns.map((p) => `${p} (MQTT ${patternToFilter(p)})`).join(", ");
}

function line(r: CredentialRecord): string {
  const status = r.revokedAt === null ? "active" : `revoked ${r.revokedAt}`;
  const grants = r.role === "client" ? `  publish: ${r.grants.publish.join(" ") || "-"}  subscribe: ${r.grants.subscribe.join(" ") || "-"}` : "";
  return `${r.nodeId}  ${r.role}  ${status}  created ${r.createdAt}${grants}`;
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === "" ? undefined : value;
}
