/**
 * The node's own small state database (<data_dir>/agent.db): key/value facts about the node that
 * survive restarts — how many times it has booted and when. Opening it at start also proves the
 * data dir is writable and the SQLite addon loads, before anything else depends on them.
 */
import { join } from "node:path";
import type { Clock } from "../core/clock.js";
import type { Component } from "../core/component.js";
import { StorageError } from "../core/errors.js";
import { openDatabase, type Db, type Migration } from "./sqlite.js";

export const STATE_DB_FILE = "agent.db";

const MIGRATIONS: readonly Migration[] = [
  (db) => {
    db.exec("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL, updated_at TEXT NOT NULL) STRICT");
  },
];

export interface BootRecord {
  readonly count: number;
  readonly at: string;
}

export class NodeState implements Component {
  readonly name = "state";
  #db: Db | undefined;
  #boot: BootRecord | undefined;

  constructor(private readonly dataDir: string, private readonly clock: Clock) {}

  get path(): string {
    return join(this.dataDir, STATE_DB_FILE);
  }

  /** This process's boot: the count includes it. */
  get boot(): BootRecord {
    if (this.#boot === undefined) throw new StorageError("node state is not open");
    return this.#boot;
  }

  start(): Promise<void> {
    try {
      this.#open();
      return Promise.resolve();
    } catch (err) {
      return Promise.reject(err instanceof Error ? err : new StorageError(String(err)));
    }
  }

  #open(): void {
    const db = openDatabase(this.path, MIGRATIONS);
    this.#db = db;
    const at = new Date(this.clock.now()).toISOString();
    try {
      this.#boot = db.transaction((): BootRecord => {
        const previous = Number(this.#get(db, "boot_count") ?? "0");
        const count = previous + 1;
        this.#set(db, "boot_count", String(count), at);
        this.#set(db, "last_boot_at", at, at);
        return { count, at };
      })();
    } catch (err) {
      throw new StorageError(`cannot write ${this.path}: ${(err as Error).message}`, { cause: err });
    }
  }

  stop(): Promise<void> {
    this.#db?.close();
    this.#db = undefined;
    return Promise.resolve();
  }

  #get(db: Db, key: string): string | undefined {
    const row = db.prepare("SELECT value FROM meta WHERE key = ?").get(key) as { value: string } | undefined;
    return row?.value;
  }

  #set(db: Db, key: string, value: string, at: string): void {
    db.prepare("INSERT INTO meta (key, value, updated_at) VALUES (?, ?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at").run(key, value, at);
  }
}
