/**
 * Per-node credentials in their own database, <data_dir>/credentials.db (mode 0600): the hub's
 * MQTT broker reads it at every authentication, its nats-server users follow it
 * (natsd/users-watch.ts), and `adaos-edge nodes add|list|revoke` writes it directly, whether the
 * hub runs or not. A secret is an NKey user seed (node-key.ts); only a salted scrypt hash of it
 * (for MQTT) and its public key (for nats-server) are kept; the seed itself is returned once, by add().
 * Records from before NKeys have no public key: they still work on MQTT, and on NATS the node
 * falls back to the subnet token.
 *
 * A node id has at most one record. Revoking keeps it (so the shared subnet token cannot stand in
 * for a revoked node); adding again replaces it with a new `serial`, which tells the broker that
 * connections made with the older secret must go.
 */
import { closeSync, mkdirSync, openSync } from "node:fs";
import { join } from "node:path";
import { patternTokens } from "../../abi/subjects.js";
import { systemClock, type Clock } from "../core/clock.js";
import { BadRequestError, StorageError } from "../core/errors.js";
import { openDatabase, type Db, type Migration } from "../store/sqlite.js";
import { NODE_ID, NO_GRANTS, type Grants, type Identity } from "./policy.js";
import { newNodeKey } from "./node-key.js";
import { hashSecret, verifySecret } from "./secret-hash.js";

export const CREDENTIALS_DB_FILE = "credentials.db";
/** How soon a running broker closes the connections of a node revoked (or re-issued) here. */
export const REVOCATION_CHECK_MS = 5_000;

export type CredentialRole = "member" | "client";
export const CREDENTIAL_ROLES: readonly CredentialRole[] = ["member", "client"];

export interface CredentialRecord {
  readonly nodeId: string;
  readonly role: CredentialRole;
  readonly grants: Grants;
  readonly createdAt: string;
  readonly revokedAt: string | null;
  /** New for every issued secret. */
  readonly serial: number;
  /** The NKey public key (`U…`) of the secret; null for a credential issued before NKeys. */
  readonly publicKey: string | null;
}

/** An active member and what the hub's nats-server lists for it. */
export interface ActiveMember {
  readonly nodeId: string;
  readonly publicKey: string | null;
}

export type CheckResult =
  | { readonly ok: true; readonly identity: Identity; readonly serial: number }
  | { readonly ok: false; readonly reason: "unknown_node" | "revoked" | "bad_password" };

interface Row {
  serial: number;
  node_id: string;
  role: CredentialRole;
  secret_hash: string;
  publish: string;
  subscribe: string;
  created_at: string;
  revoked_at: string | null;
  public_key: string | null;
}

const MIGRATIONS: readonly Migration[] = [
  (db) => {
    db.exec(`CREATE TABLE credentials (
      serial INTEGER PRIMARY KEY AUTOINCREMENT,
      node_id TEXT NOT NULL UNIQUE,
      role TEXT NOT NULL CHECK (role IN ('member', 'client')),
      secret_hash TEXT NOT NULL,
      publish TEXT NOT NULL,
      subscribe TEXT NOT NULL,
      created_at TEXT NOT NULL,
      revoked_at TEXT
    ) STRICT`);
  },
  (db) => {
    db.exec("ALTER TABLE credentials ADD COLUMN public_key TEXT");
  },
];

export class CredentialsStore {
  private constructor(private readonly db: Db, private readonly clock: Clock) {}

  /** Opens (creating, mode 0600) <dataDir>/credentials.db. */
  static open(dataDir: string, clock: Clock = systemClock): CredentialsStore {
    const path = join(dataDir, CREDENTIALS_DB_FILE);
    try {
      mkdirSync(dataDir, { recursive: true, mode: 0o750 });
      // Created before SQLite opens it, so it (and the -wal/-shm files SQLite gives the same mode) is never world-readable.
      closeSync(openSync(path, "a", 0o600));
    } catch (err) {
      throw new StorageError(`cannot create ${path}: ${(err as Error).message}`, { cause: err });
    }
    return new CredentialsStore(openDatabase(path, MIGRATIONS), clock);
  }

  close(): void {
    this.db.close();
  }

  /** Issue a secret (an NKey user seed) for `nodeId` and return it; this is the only time it is readable. */
  async add(nodeId: string, role: CredentialRole, grants: Grants = NO_GRANTS): Promise<string> {
    checkRequest(nodeId, role, grants);
    if (this.get(nodeId)?.revokedAt === null) throw new BadRequestError(`node ${nodeId} already has a credential; revoke it first to issue a new one`);
    const { seed: secret, publicKey } = newNodeKey();
    const hash = await hashSecret(secret);
    const at = new Date(this.clock.now()).toISOString();
    this.db.transaction(() => {
      const row = this.#row(nodeId);
      if (row !== undefined && row.revoked_at === null) throw new BadRequestError(`node ${nodeId} already has a credential`);
      this.db.prepare("DELETE FROM credentials WHERE node_id = ?").run(nodeId);
      this.db
        .prepare("INSERT INTO credentials (node_id, role, secret_hash, publish, subscribe, created_at, public_key) VALUES (?, ?, ?, ?, ?, ?, ?)")
        .run(nodeId, role, hash, JSON.stringify(grants.publish), JSON.stringify(grants.subscribe), at, publicKey);
    })();
    return secret;
  }

  /** Who `username`/`password` is, or why not. */
  async check(username: string, password: string): Promise<CheckResult> {
    const row = this.#row(username);
    if (row === undefined) return { ok: false, reason: "unknown_node" };
    if (row.revoked_at !== null) return { ok: false, reason: "revoked" };
    if (!(await verifySecret(password, row.secret_hash))) return { ok: false, reason: "bad_password" };
    const record = toRecord(row);
    return { ok: true, identity: { nodeId: record.nodeId, role: record.role, via: "credential", grants: record.grants }, serial: record.serial };
  }

  async verify(username: string, password: string): Promise<Identity | null> {
    const result = await this.check(username, password);
    return result.ok ? result.identity : null;
  }

  get(nodeId: string): CredentialRecord | undefined {
    const row = this.#row(nodeId);
    return row === undefined ? undefined : toRecord(row);
  }

  list(): CredentialRecord[] {
    return (this.db.prepare("SELECT * FROM credentials ORDER BY node_id").all() as Row[]).map(toRecord);
  }

  /** Marks the credential revoked; false when there is none or it already is. */
  revoke(nodeId: string): boolean {
    const at = new Date(this.clock.now()).toISOString();
    return this.db.prepare("UPDATE credentials SET revoked_at = ? WHERE node_id = ? AND revoked_at IS NULL").run(at, nodeId).changes > 0;
  }

  /** Every node id with a record (revoked or not) → the serial of its active secret, or null when revoked. */
  serials(): Map<string, number | null> {
    const rows = this.db.prepare("SELECT node_id, serial, revoked_at FROM credentials").all() as Pick<Row, "node_id" | "serial" | "revoked_at">[];
    return new Map(rows.map((r) => [r.node_id, r.revoked_at === null ? r.serial : null]));
  }

  /** Members whose credential is active, by node id, with their NKey public key. */
  activeMembers(): ActiveMember[] {
    const rows = this.db
      .prepare("SELECT node_id, public_key FROM credentials WHERE role = 'member' AND revoked_at IS NULL ORDER BY node_id")
      .all() as Pick<Row, "node_id" | "public_key">[];
    return rows.map((r) => ({ nodeId: r.node_id, publicKey: r.public_key }));
  }

  #row(nodeId: string): Row | undefined {
    return this.db.prepare("SELECT * FROM credentials WHERE node_id = ?").get(nodeId) as Row | undefined;
  }
}

function checkRequest(nodeId: string, role: CredentialRole, grants: Grants): void {
  if (!NODE_ID.test(nodeId)) throw new BadRequestError(`"${nodeId}" is not a node id (lower-case letters, digits, '-' and '_', at most 63)`);
  if (!CREDENTIAL_ROLES.includes(role)) throw new BadRequestError(`role must be one of ${CREDENTIAL_ROLES.join(", ")}, got "${role}"`);
  const patterns = [...grants.publish, ...grants.subscribe];
  if (role === "member" && patterns.length > 0) throw new BadRequestError("topic patterns are for the client role; a member's topics follow from its node id");
  if (role === "client" && patterns.length === 0) throw new BadRequestError("a client needs at least one publish or subscribe pattern");
  for (const p of patterns) {
    try {
      patternTokens(p);
    } catch (err) {
      throw new BadRequestError(`pattern "${p}": ${(err as Error).message}`, { cause: err });
    }
  }
}

function toRecord(row: Row): CredentialRecord {
  return {
    nodeId: row.node_id,
    role: row.role,
    grants: { publish: JSON.parse(row.publish) as string[], subscribe: JSON.parse(row.subscribe) as string[] },
    createdAt: row.created_at,
    revokedAt: row.revoked_at,
    serial: row.serial,
    publicKey: row.public_key,
  };
}
