/**
 * The store-and-forward database (<data_dir>/outbox.db): the outbox, the dead-letter queue and the
 * inbox in one SQLite file, opened the one way every store here is (store/sqlite.ts: WAL,
 * synchronous=FULL, migrations in user_version). One file so that moving an entry from the outbox
 * to the DLQ is one transaction.
 */
import { join } from "node:path";
import { openDatabase, type Db, type Migration } from "../store/sqlite.js";

export const OUTBOX_DB_FILE = "outbox.db";

export const OUTBOX_MIGRATIONS: readonly Migration[] = [
  (db) => {
    db.exec(`
      CREATE TABLE outbox (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        id TEXT NOT NULL UNIQUE,
        subject TEXT NOT NULL,
        priority INTEGER NOT NULL,
        source TEXT NOT NULL,
        enqueued_at INTEGER NOT NULL,
        expires_at INTEGER NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        last_error TEXT,
        bytes INTEGER NOT NULL,
        data BLOB NOT NULL
      ) STRICT;
      CREATE INDEX outbox_drain ON outbox (priority, seq);
      CREATE INDEX outbox_expiry ON outbox (expires_at);
      CREATE TABLE dlq (
        dlq_id INTEGER PRIMARY KEY AUTOINCREMENT,
        reason TEXT NOT NULL CHECK (reason IN ('poison', 'expired', 'invalid', 'overflow')),
        origin TEXT NOT NULL CHECK (origin IN ('outbox', 'inbound')),
        id TEXT,
        event_name TEXT,
        subject TEXT,
        source TEXT,
        attempts INTEGER NOT NULL DEFAULT 0,
        last_error TEXT,
        dead_at INTEGER NOT NULL,
        data BLOB NOT NULL
      ) STRICT;
      CREATE INDEX dlq_reason ON dlq (reason, dlq_id);
      CREATE TABLE inbox (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        key TEXT NOT NULL UNIQUE,
        at INTEGER NOT NULL
      ) STRICT;
    `);
  },
];

export function outboxDbPath(dataDir: string): string {
  return join(dataDir, OUTBOX_DB_FILE);
}

/** Open (creating and migrating) the store-and-forward database at `path`. Throws StorageError. */
export function openOutboxDb(path: string): Db {
  return openDatabase(path, OUTBOX_MIGRATIONS);
}
