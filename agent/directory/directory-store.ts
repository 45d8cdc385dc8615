/**
 * The hub's subnet directory on disk (<data_dir>/directory.db), in the tables upstream AdaOS uses
 * (seed 003 "Subnet Directory": `subnet_nodes`, `subnet_capacity_io`, `subnet_capacity_skills`,
 * `subnet_capacity_scenarios`) so its tools can read it, plus `node_telemetry` (the latest
 * heartbeat's telemetry) and our manifest with its revision. The capacity tables are rewritten
 * only when the node's manifest revision changed (`capacityWrites` counts those).
 *
 * Heartbeats are the bulk of the traffic (500 nodes every 5 s = 100/s) and carry only volatile
 * facts, so they are kept in memory and written together by flush() — the directory calls it once
 * a second — in one transaction: one commit (one fsync) a second instead of one per heartbeat,
 * which is what an SD card lives longer with. Reads see the pending values; any other write
 * (upsert, offline, remove) flushes first so rows never go backwards. A crash loses at most the
 * last second of last_seen/telemetry, which a restarted hub does not trust anyway: opening marks
 * every node offline until its next heartbeat.
 */
import { join } from "node:path";
import type { Clock } from "../core/clock.js";
import { StorageError } from "../core/errors.js";
import type Database from "better-sqlite3";
import { openDatabase, type Db, type Migration } from "../store/sqlite.js";

type Statement = Database.Statement<unknown[]>;

interface PendingBeat {
  /** Epoch seconds. */
  readonly lastSeen: number;
  readonly telemetry: string;
}

export const DIRECTORY_DB_FILE = "directory.db";

const MIGRATIONS: readonly Migration[] = [
  (db) => {
    db.exec(`
      CREATE TABLE subnet_nodes (
        node_id TEXT PRIMARY KEY,
        subnet_id TEXT,
        hostname TEXT,
        roles TEXT NOT NULL DEFAULT '[]',
        base_url TEXT,
        node_state TEXT,
        kind TEXT NOT NULL,
        online INTEGER NOT NULL DEFAULT 0,
        last_seen REAL NOT NULL,
        revision TEXT NOT NULL,
        manifest TEXT
      );
      CREATE TABLE subnet_capacity_io (
        node_id TEXT NOT NULL REFERENCES subnet_nodes(node_id) ON DELETE CASCADE,
        io_type TEXT NOT NULL,
        capabilities TEXT NOT NULL DEFAULT '[]',
        priority INTEGER NOT NULL DEFAULT 50,
        id_hint TEXT
      );
      CREATE TABLE subnet_capacity_skills (
        node_id TEXT NOT NULL REFERENCES subnet_nodes(node_id) ON DELETE CASCADE,
        name TEXT NOT NULL, version TEXT, active INTEGER NOT NULL DEFAULT 1, dev INTEGER NOT NULL DEFAULT 0
      );
      CREATE TABLE subnet_capacity_scenarios (
        node_id TEXT NOT NULL REFERENCES subnet_nodes(node_id) ON DELETE CASCADE,
        name TEXT NOT NULL, version TEXT, active INTEGER NOT NULL DEFAULT 1, dev INTEGER NOT NULL DEFAULT 0
      );
      CREATE INDEX subnet_capacity_io_node ON subnet_capacity_io (node_id);
      CREATE INDEX subnet_capacity_skills_node ON subnet_capacity_skills (node_id);
      CREATE INDEX subnet_capacity_scenarios_node ON subnet_capacity_scenarios (node_id);
      CREATE TABLE node_telemetry (
        node_id TEXT PRIMARY KEY REFERENCES subnet_nodes(node_id) ON DELETE CASCADE,
        telemetry TEXT NOT NULL,
        updated_at REAL NOT NULL
      );
    `);
  },
];

/** The upstream capacity shape (seed 003 "Capacity Reporting"). */
export interface Capacity {
  readonly io: readonly { readonly io_type: string; readonly capabilities: readonly string[]; readonly priority: number; readonly id_hint?: string }[];
  readonly skills: readonly CapacityItem[];
  readonly scenarios: readonly CapacityItem[];
}

export interface CapacityItem {
  readonly name: string;
  readonly version?: string;
  readonly active?: boolean;
  readonly dev?: boolean;
}

export interface NodeInput {
  readonly nodeId: string;
  readonly kind: "hub" | "member" | "browser";
  readonly revision: string;
  readonly capacity: Capacity;
  readonly subnetId?: string;
  readonly hostname?: string;
  readonly roles?: readonly string[];
  readonly baseUrl?: string;
  readonly nodeState?: string;
  readonly manifest?: unknown;
}

export interface NodeRecord {
  readonly node_id: string;
  readonly kind: string;
  readonly online: boolean;
  /** Epoch seconds, as upstream keeps it. */
  readonly last_seen: number;
  readonly subnet_id: string | null;
  readonly hostname: string | null;
  readonly roles: string[];
  readonly base_url: string | null;
  readonly node_state: string | null;
  readonly revision: string;
  readonly capacity: Capacity;
  readonly telemetry: unknown;
  /** The node's manifest (announce); null for a node that registered over HTTP with capacity only. */
  readonly manifest: unknown;
}

interface NodeRow {
  node_id: string; subnet_id: string | null; hostname: string | null; roles: string; base_url: string | null;
  node_state: string | null; kind: string; online: number; last_seen: number; revision: string; manifest: string | null;
}

export class DirectoryStore {
  #capacityWrites = 0;
  #flushes = 0;
  /** Every stored node's manifest revision: a heartbeat checks and the hub compares without a query. */
  readonly #revisions = new Map<string, string>();
  /** Heartbeats not written yet, the latest per node. */
  readonly #pending = new Map<string, PendingBeat>();
  readonly #statements = new Map<string, Statement>();

  private constructor(private readonly db: Db, private readonly clock: Clock) {
    for (const r of db.prepare("SELECT node_id, revision FROM subnet_nodes").all() as { node_id: string; revision: string }[]) {
      this.#revisions.set(r.node_id, r.revision);
    }
  }

  /** Open (creating) the directory; every node it knows is marked offline until heard from. */
  static open(dataDir: string, clock: Clock): DirectoryStore {
    const db = openDatabase(join(dataDir, DIRECTORY_DB_FILE), MIGRATIONS);
    db.prepare("UPDATE subnet_nodes SET online = 0").run();
    return new DirectoryStore(db, clock);
  }

  /** Transactions that wrote pending heartbeats since open. */
  get flushes(): number {
    return this.#flushes;
  }

  /** Heartbeats taken but not written yet. */
  get pending(): number {
    return this.#pending.size;
  }

  /** The stored revision of a node's manifest; undefined when it is not registered. */
  revisionOf(nodeId: string): string | undefined {
    return this.#revisions.get(nodeId);
  }

  /** How many times a node's capacity tables were rewritten since open. */
  get capacityWrites(): number {
    return this.#capacityWrites;
  }

  /** Record a node heard from now (announce, register, heartbeat with capacity). */
  upsert(node: NodeInput): void {
    this.flush();
    this.#write(() => {
      const before = this.#revisions.get(node.nodeId);
      this.#sql(`
        INSERT INTO subnet_nodes (node_id, subnet_id, hostname, roles, base_url, node_state, kind, online, last_seen, revision, manifest)
        VALUES (@node_id, @subnet_id, @hostname, @roles, @base_url, @node_state, @kind, 1, @last_seen, @revision, @manifest)
        ON CONFLICT(node_id) DO UPDATE SET subnet_id = excluded.subnet_id, hostname = excluded.hostname, roles = excluded.roles,
          base_url = excluded.base_url, node_state = excluded.node_state, kind = excluded.kind, online = 1,
          last_seen = excluded.last_seen, revision = excluded.revision, manifest = COALESCE(excluded.manifest, manifest)
      `).run({
        node_id: node.nodeId, subnet_id: node.subnetId ?? null, hostname: node.hostname ?? null, roles: JSON.stringify(node.roles ?? []),
        base_url: node.baseUrl ?? null, node_state: node.nodeState ?? null, kind: node.kind, last_seen: this.clock.now() / 1000,
        revision: node.revision, manifest: node.manifest === undefined ? null : JSON.stringify(node.manifest),
      });
      if (before !== node.revision) this.#writeCapacity(node.nodeId, node.capacity);
    });
    this.#revisions.set(node.nodeId, node.revision);
  }

  /** A heartbeat: last seen now, online, and its telemetry (written at the next flush). False when the node is not registered. */
  heartbeat(nodeId: string, telemetry: unknown): boolean {
    if (!this.#revisions.has(nodeId)) return false;
    this.#pending.set(nodeId, { lastSeen: this.clock.now() / 1000, telemetry: JSON.stringify(telemetry) });
    return true;
  }

  /** Write the pending heartbeats in one transaction. */
  flush(): void {
    if (this.#pending.size === 0) return;
    const beats = [...this.#pending];
    this.#write(() => {
      const touch = this.#sql("UPDATE subnet_nodes SET online = 1, last_seen = ? WHERE node_id = ?");
      const telemetry = this.#sql("INSERT INTO node_telemetry (node_id, telemetry, updated_at) VALUES (?, ?, ?) ON CONFLICT(node_id) DO UPDATE SET telemetry = excluded.telemetry, updated_at = excluded.updated_at");
      for (const [nodeId, b] of beats) {
        touch.run(b.lastSeen, nodeId);
        telemetry.run(nodeId, b.telemetry, b.lastSeen);
      }
    });
    // Only once written: a failed flush keeps them for the next one (newer beats replace older).
    for (const [nodeId, b] of beats) if (this.#pending.get(nodeId) === b) this.#pending.delete(nodeId);
    this.#flushes++;
  }

  markOffline(nodeId: string): void {
    this.flush();
    this.#write(() => this.#sql("UPDATE subnet_nodes SET online = 0 WHERE node_id = ?").run(nodeId));
  }

  /** Deregister: the node and its capacity and telemetry are forgotten. */
  remove(nodeId: string): boolean {
    this.#pending.delete(nodeId);
    this.#revisions.delete(nodeId);
    return this.#write(() => this.#sql("DELETE FROM subnet_nodes WHERE node_id = ?").run(nodeId).changes > 0);
  }

  get(nodeId: string): NodeRecord | undefined {
    const row = this.#sql("SELECT * FROM subnet_nodes WHERE node_id = ?").get(nodeId) as NodeRow | undefined;
    return row === undefined ? undefined : this.#record(row);
  }

  list(): NodeRecord[] {
    return (this.#sql("SELECT * FROM subnet_nodes ORDER BY node_id").all() as NodeRow[]).map((r) => this.#record(r));
  }

  /** Flushes what is pending, then closes the database. */
  close(): void {
    try {
      this.flush();
    } finally {
      this.db.close();
    }
  }

  /** Each statement is prepared once. */
  #sql(text: string): Statement {
    let s = this.#statements.get(text);
    if (s === undefined) {
      s = this.db.prepare(text);
      this.#statements.set(text, s);
    }
    return s;
  }

  #writeCapacity(nodeId: string, capacity: Capacity): void {
    for (const table of ["subnet_capacity_io", "subnet_capacity_skills", "subnet_capacity_scenarios"]) {
      this.#sql(`DELETE FROM ${table} WHERE node_id = ?`).run(nodeId);
    }
    const io = this.#sql("INSERT INTO subnet_capacity_io (node_id, io_type, capabilities, priority, id_hint) VALUES (?, ?, ?, ?, ?)");
    for (const e of capacity.io) io.run(nodeId, e.io_type, JSON.stringify(e.capabilities), e.priority, e.id_hint ?? null);
    for (const [table, items] of [["subnet_capacity_skills", capacity.skills], ["subnet_capacity_scenarios", capacity.scenarios]] as const) {
      const insert = this.#sql(`INSERT INTO ${table} (node_id, name, version, active, dev) VALUES (?, ?, ?, ?, ?)`);
      for (const s of items) insert.run(nodeId, s.name, s.version ?? null, s.active === false ? 0 : 1, s.dev === true ? 1 : 0);
    }
    this.#capacityWrites++;
  }

  #record(row: NodeRow): NodeRecord {
    const io = (this.#sql("SELECT io_type, capabilities, priority, id_hint FROM subnet_capacity_io WHERE node_id = ? ORDER BY rowid").all(row.node_id) as
      { io_type: string; capabilities: string; priority: number; id_hint: string | null }[])
      .map((e) => ({ io_type: e.io_type, capabilities: JSON.parse(e.capabilities) as string[], priority: e.priority, ...(e.id_hint === null ? {} : { id_hint: e.id_hint }) }));
    const items = (table: string): CapacityItem[] =>
      (this.#sql(`SELECT name, version, active, dev FROM ${table} WHERE node_id = ? ORDER BY rowid`).all(row.node_id) as
        { name: string; version: string | null; active: number; dev: number }[])
        .map((s) => ({ name: s.name, ...(s.version === null ? {} : { version: s.version }), active: s.active === 1, dev: s.dev === 1 }));
    const pending = this.#pending.get(row.node_id);
    const t = pending ?? (this.#sql("SELECT telemetry FROM node_telemetry WHERE node_id = ?").get(row.node_id) as { telemetry: string } | undefined);
    return {
      node_id: row.node_id, kind: row.kind, online: pending !== undefined || row.online === 1, last_seen: pending?.lastSeen ?? row.last_seen, subnet_id: row.subnet_id,
      hostname: row.hostname, roles: JSON.parse(row.roles) as string[], base_url: row.base_url, node_state: row.node_state,
      revision: row.revision, capacity: { io, skills: items("subnet_capacity_skills"), scenarios: items("subnet_capacity_scenarios") },
      telemetry: t === undefined ? null : (JSON.parse(t.telemetry) as unknown),
      manifest: row.manifest === null ? null : (JSON.parse(row.manifest) as unknown),
    };
  }

  #write<T>(fn: () => T): T {
    try {
      return this.db.transaction(fn)();
    } catch (err) {
      throw new StorageError(`cannot write the subnet directory (${this.db.name}): ${(err as Error).message}`, { cause: err });
    }
  }
}
