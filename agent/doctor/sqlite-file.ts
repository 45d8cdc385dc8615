/**
 * The real SqliteFile, in its own module so the native addon is loaded only when the data-dir
 * check opens its probe database (system.ts imports this lazily).
 */
import Database from "better-sqlite3";
import type { SqliteFile } from "./system.js";

/** Another process holding the write lock gets this long before the probe gives up. */
const SQLITE_BUSY_TIMEOUT_MS = 2000;

export function openSqliteFile(path: string): SqliteFile {
  const db = new Database(path, { timeout: SQLITE_BUSY_TIMEOUT_MS });
  return {
    pragma: (source) => db.pragma(source, { simple: true }),
    run: (sql, ...params) => void db.prepare(sql).run(...params),
    value: (sql, ...params) => db.prepare(sql).pluck().get(...params),
    close: () => db.close(),
  };
}
