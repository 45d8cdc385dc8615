/**
 * Opening <data_dir>/outbox.db at start so that a corrupt file (a Pi unplugged mid-write, a dying
 * SD card) never keeps the node from starting: the file is checked (PRAGMA quick_check), and when
 * it is corrupt it is moved aside with its -wal and -shm — never deleted — a fresh one is created,
 * and whatever rows can still be read are copied over (salvage.ts). Any other failure (permission
 * denied, disk full, a file from a newer release) still throws StorageError: those need a person,
 * and moving the file would not help.
 */
import Database from "better-sqlite3";
import { existsSync, renameSync } from "node:fs";
import type { Clock } from "../core/clock.js";
import { StorageError } from "../core/errors.js";
import type { Logger } from "../core/logger.js";
import type { Db } from "../store/sqlite.js";
import { OUTBOX_DB_FILE, openOutboxDb, outboxDbPath } from "./outbox-db.js";
import { salvage, type SalvageCounts } from "./salvage.js";

export interface QuarantineReport {
  /** Where the corrupt file now is; its -wal and -shm lie beside it under the same name plus suffix. */
  readonly quarantinedAs: string;
  /** What showed it corrupt: the SQLite error, or the first quick_check findings. */
  readonly reason: string;
  /** Rows copied from the corrupt file into the fresh one. */
  readonly salvaged: SalvageCounts;
}

export interface OpenedStore {
  readonly db: Db;
  /** Present when the file was corrupt and replaced. */
  readonly quarantine?: QuarantineReport;
}

/**
 * A WAL database's sidecar files. They move before the main file: a stale -wal left beside a new
 * outbox.db could be replayed into it.
 */
const SIDECARS = ["-wal", "-shm"] as const;

/** SQLite result codes that mean the file's contents are damaged (extended codes included). */
const CORRUPTION_CODE = /^SQLITE_(CORRUPT|NOTADB)/;

/** quick_check findings quoted in the reason; the rest are counted. */
const REASON_FINDINGS = 3;

/** Open outbox.db under `dataDir`, replacing it when corrupt. Throws StorageError otherwise. */
export function openStore(dataDir: string, logger: Logger, clock: Clock): OpenedStore {
  const path = outboxDbPath(dataDir);
  const opened = openChecked(path);
  if ("db" in opened) return { db: opened.db };

  const quarantinedAs = quarantine(path, clock);
  const db = openOutboxDb(path);
  let salvaged: SalvageCounts;
  try {
    salvaged = salvage(quarantinedAs, db);
  } catch (err) {
    db.close();
    throw new StorageError(`cannot copy rows salvaged from ${quarantinedAs} into ${path}: ${(err as Error).message}`, { cause: err });
  }
  const report: QuarantineReport = { quarantinedAs, reason: opened.corrupt, salvaged };
  logger.error(
    report,
    `${OUTBOX_DB_FILE} was corrupt (${report.reason}); moved to ${quarantinedAs}; salvaged ${salvaged.outbox} outbox entries, ` +
      `${salvaged.dlq} dead letters, ${salvaged.inbox} inbox keys`,
  );
  return { db, quarantine: report };
}

/**
 * The database when it opens, or why it is corrupt. An existing file is checked first through a
 * read-only connection: closing a read-write one checkpoints and deletes the -wal, and the -wal
 * of a corrupt file must move aside with it untouched.
 */
function openChecked(path: string): { db: Db } | { corrupt: string } {
  const corrupt = existsSync(path) ? check(path) : undefined;
  if (corrupt !== undefined) return { corrupt };
  try {
    return { db: openOutboxDb(path) };
  } catch (err) {
    // A migration can still run into damage quick_check does not look for.
    const late = corruption(err);
    if (late !== undefined) return { corrupt: late };
    throw err;
  }
}

/** Why the file at `path` is corrupt, or undefined when PRAGMA quick_check finds it sound. */
function check(path: string): string | undefined {
  let db: Db | undefined;
  try {
    db = new Database(path, { readonly: true, fileMustExist: true });
    const rows = (db.pragma("quick_check") as { quick_check: string }[]).map((r) => r.quick_check);
    if (rows.length === 1 && rows[0] === "ok") return undefined;
    // One finding a line (a row may hold several), without the "*** in database main ***" heading.
    const findings = rows.flatMap((r) => r.split("\n")).filter((f) => f !== "" && !f.startsWith("***"));
    const more = findings.length > REASON_FINDINGS ? ` (+${findings.length - REASON_FINDINGS} more)` : "";
    return `quick_check: ${findings.slice(0, REASON_FINDINGS).join("; ")}${more}`;
  } catch (err) {
    const corrupt = corruption(err);
    if (corrupt !== undefined) return corrupt;
    throw new StorageError(`cannot check database ${path}: ${(err as Error).message}`, { cause: err });
  } finally {
    db?.close();
  }
}

/** "SQLITE_…: message" when `err`, or an error it wraps, reports damaged contents. */
function corruption(err: unknown): string | undefined {
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 10; e = e.cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === "string" && CORRUPTION_CODE.test(code)) return `${code}: ${e.message}`;
  }
  return undefined;
}

/** Move `path` and its sidecars to `<path>.corrupt-<timestamp>[-n]`; returns the new main path. */
function quarantine(path: string, clock: Clock): string {
  const base = `${path}.corrupt-${new Date(clock.now()).toISOString().replace(/[:.]/g, "-")}`;
  const taken = (name: string): boolean => [name, ...SIDECARS.map((s) => name + s)].some((f) => existsSync(f));
  let target = base;
  for (let n = 2; taken(target); n++) target = `${base}-${n}`;
  try {
    for (const suffix of SIDECARS) moveIfPresent(path + suffix, target + suffix);
    renameSync(path, target);
  } catch (err) {
    throw new StorageError(`${path} is corrupt and cannot be moved aside: ${(err as Error).message}`, { cause: err });
  }
  return target;
}

function moveIfPresent(from: string, to: string): void {
  try {
    renameSync(from, to);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
  }
}
