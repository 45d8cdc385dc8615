/**
 * Copying what can still be read out of a corrupt outbox.db (already moved aside) into a fresh one.
 * A corrupt page makes any read that touches it throw, midway through a scan included, so each
 * table is walked in key order and, past a read that fails, the walk searches for the smallest
 * key it can seek beyond: a damaged leaf page costs the rows on it, not the rest of the table.
 * Limit: rows are reached through the table's b-tree, so a damaged interior page costs every row
 * below it (the whole table when it is the root); getting those back would take a raw page scan.
 */
import Database from "better-sqlite3";
import type { Db } from "../store/sqlite.js";

export interface SalvageCounts {
  readonly outbox: number;
  readonly dlq: number;
  readonly inbox: number;
}

interface TableSpec {
  readonly name: keyof SalvageCounts;
  /** The INTEGER PRIMARY KEY (the rowid): walked in order, kept in the copy so order survives. */
  readonly key: string;
  readonly columns: readonly string[];
}

/** The tables of outbox-db.ts, every column copied. */
const TABLES: readonly TableSpec[] = [
  {
    name: "outbox",
    key: "seq",
    columns: ["seq", "id", "subject", "priority", "source", "enqueued_at", "expires_at", "attempts", "last_error", "bytes", "data"],
  },
  {
    name: "dlq",
    key: "dlq_id",
    columns: ["dlq_id", "reason", "origin", "id", "event_name", "subject", "source", "attempts", "last_error", "dead_at", "data"],
  },
  { name: "inbox", key: "seq", columns: ["seq", "key", "at"] },
];

/** Below and above every key a walk may meet (keys here come from AUTOINCREMENT: 1, 2, …). */
const FIRST_KEY = Number.MIN_SAFE_INTEGER;
const LAST_KEY = Number.MAX_SAFE_INTEGER;

type Row = Record<string, unknown>;

/**
 * Copy the readable rows of `quarantined` into `fresh` (an empty, migrated outbox.db). A file that
 * cannot be opened, or a table that cannot be read at all, salvages 0 rows; throws only when
 * `fresh` cannot be written (disk full …).
 */
export function salvage(quarantined: string, fresh: Db): SalvageCounts {
  let source: Db;
  try {
    source = new Database(quarantined, { readonly: true, fileMustExist: true });
  } catch {
    return { outbox: 0, dlq: 0, inbox: 0 };
  }
  try {
    const counts = { outbox: 0, dlq: 0, inbox: 0 };
    for (const table of TABLES) counts[table.name] = salvageTable(source, fresh, table);
    return counts;
  } finally {
    source.close();
  }
}

function salvageTable(source: Db, fresh: Db, table: TableSpec): number {
  const columns = table.columns.join(", ");
  let scan: Database.Statement<[number]>;
  let probe: Database.Statement<[number]>;
  let insert: Database.Statement<[Row]>;
  try {
    scan = source.prepare(`SELECT ${columns} FROM ${table.name} WHERE ${table.key} > ? ORDER BY ${table.key}`);
    probe = source.prepare(`SELECT ${columns} FROM ${table.name} WHERE ${table.key} >= ? ORDER BY ${table.key} LIMIT 1`);
    insert = fresh.prepare(`INSERT INTO ${table.name} (${columns}) VALUES (${table.columns.map((c) => `@${c}`).join(", ")})`);
  } catch {
    return 0; // the schema itself is unreadable, or the table was never created
  }

  let copied = 0;
  fresh.transaction(() => {
    for (const row of readableRows(scan, probe, table.key)) {
      try {
        insert.run(row);
        copied++;
      } catch (err) {
        // A row that decodes but breaks the schema's rules (type, CHECK, UNIQUE) is damage too;
        // any other failure is the fresh file's (disk full …) and ends the salvage.
        if (!String((err as { code?: unknown }).code).startsWith("SQLITE_CONSTRAINT")) throw err;
      }
    }
  })();
  return copied;
}

/** The table's rows in key order, stepping over the ones that cannot be read. */
function* readableRows(scan: Database.Statement<[number]>, probe: Database.Statement<[number]>, key: string): Generator<Row> {
  let after = FIRST_KEY;
  for (;;) {
    try {
      for (const row of scan.iterate(after) as IterableIterator<Row>) {
        after = row[key] as number;
        yield row;
      }
      return; // the scan reached the end
    } catch {
      // Only a read lands here: for-of never throws into a generator at its yield.
      const next = seekPastDamage(probe, after);
      if (next === undefined) return;
      after = next[key] as number;
      yield next;
    }
  }
}

/**
 * The first readable row with a key above `after`, given that reading the one right after it
 * failed. `probe` seeks `key >= k`: SQLite finds its way to k's own page first, so a seek for a
 * key that belongs to a damaged page fails, and the smallest k that succeeds is the first key past
 * the damage — the row with that very key included.
 */
function seekPastDamage(probe: Database.Statement<[number]>, after: number): Row | undefined {
  const read = (key: number): { row: Row | undefined } | undefined => {
    try {
      return { row: probe.get(key) as Row | undefined };
    } catch {
      return undefined;
    }
  };
  // Gallop: double the stride until a seek succeeds …
  let bad = after;
  let good = after;
  let found: { row: Row | undefined } | undefined;
  for (let stride = 1; found === undefined; stride *= 2) {
    if (bad >= LAST_KEY) return undefined;
    good = Math.min(after + stride, LAST_KEY);
    found = read(good);
    if (found === undefined) bad = good;
  }
  // … then bisect down to the smallest key that seeks past the damage, so no readable row is skipped.
  while (good - bad > 1) {
    const mid = bad + Math.floor((good - bad) / 2);
    const r = read(mid);
    if (r === undefined) bad = mid;
    else [good, found] = [mid, r];
  }
  return found.row;
}
