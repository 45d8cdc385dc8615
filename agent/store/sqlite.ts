/**
 * Opening a SQLite database under the data dir the one way every store here does: WAL journal,
 * synchronous=FULL (a Pi gets unplugged: with WAL + NORMAL, commits since the last checkpoint can
 * roll back on power loss; stores batch writes to keep the rate), a busy timeout, foreign keys,
 * and numbered migrations tracked in PRAGMA user_version.
 */
import Database from "better-sqlite3";
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { StorageError } from "../core/errors.js";

export type Db = Database.Database;

/** Another process (a CLI command, a backup) may hold the write lock briefly. */
const BUSY_TIMEOUT_MS = 5000;

/** Migration N (1-based) turns schema version N-1 into N; each runs in its own transaction. */
export type Migration = (db: Db) => void;

export function openDatabase(path: string, migrations: readonly Migration[]): Db {
  let db: Db | undefined;
  try {
    mkdirSync(dirname(path), { recursive: true, mode: 0o750 });
    db = new Database(path);
    db.pragma("journal_mode = WAL");
    db.pragma("synchronous = FULL");
    db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
    db.pragma("foreign_keys = ON");
    migrate(db, migrations);
    return db;
  } catch (err) {
    db?.close();
    if (err instanceof StorageError) throw err;
    throw new StorageError(`cannot open database ${path}: ${(err as Error).message}`, { cause: err });
  }
}

function migrate(db: Db, migrations: readonly Migration[]): void {
  const current = db.pragma("user_version", { simple: true }) as number;
  if (current > migrations.length) {
    throw new StorageError(
      `database ${db.name} has schema version ${current}, newer than this adaos-edge knows (${migrations.length}); ` +
        "it was written by a newer release — upgrade adaos-edge or restore a backup",
    );
  }
  for (let v = current; v < migrations.length; v++) {
    const step = migrations[v] as Migration;
    db.transaction(() => {
      step(db);
      db.pragma(`user_version = ${v + 1}`);
    })();
  }
}
