/**
 * The data dir: it exists (or can be created), the current user can write into it, and a SQLite
 * database in it works the way the stores use it — WAL journal, a write and a read back. The probe
 * database is `.doctor-<pid>.sqlite`, removed with its -wal and -shm files afterwards.
 */
import { dirname, join } from "node:path";
import { describeError, fail, ok, warn, type Check, type Finding } from "./check.js";
import type { SqliteFile, System } from "./system.js";

/** statfs f_type of filesystems that live in RAM: what is written there is gone after a reboot. */
const RAM_FILESYSTEMS: ReadonlyMap<number, string> = new Map([
  [0x01021994, "tmpfs"],
  [0x858458f6, "ramfs"],
]);
const PROBE_SUFFIXES = ["", "-wal", "-shm"] as const;

const OTHER_DIR = "or choose another directory with --data-dir / ADAOS_EDGE_DATA_DIR";

export const dataDirCheck: Check = {
  id: "data-dir",
  title: "the data dir is writable and holds a SQLite database in WAL mode",
  run: async ({ config, system }) => {
    const dir = config.data_dir;
    const user = system.userName();
    let created: string | null;
    try {
      created = await system.ensureDir(dir);
    } catch (err) {
      return fail(`cannot create ${dir}: ${describeError(err)}`, `sudo install -d -o ${user} -m 0750 ${dir}, ${OTHER_DIR}`);
    }
    try {
      return await probeDir(system, dir, user, created !== null);
    } finally {
      // The doctor changes nothing: what it had to create for the probe goes again (rmdir: only if empty).
      if (created !== null) await removeCreated(system, dir, created);
    }
  },
};

async function probeDir(system: System, dir: string, user: string, created: boolean): Promise<Finding> {
  try {
    await system.checkWritable(dir);
  } catch (err) {
    return fail(`${dir} is not writable by ${user}: ${describeError(err)}`, `sudo chown -R ${user} ${dir}, ${OTHER_DIR}`);
  }
  const probe = await sqliteProbe(system, join(dir, `.doctor-${process.pid}.sqlite`));
  if (probe !== null) return fail(`SQLite in ${dir}: ${probe}`, `put the data dir on a local disk (ext4 on the SD card, not NFS/FUSE), ${OTHER_DIR}`);
  const space = await system.statfs(dir).catch(() => null);
  const ram = space === null ? undefined : RAM_FILESYSTEMS.get(space.type);
  const state = `${dir} ${created ? "can be created (not kept)" : "exists"}, writable by ${user}, SQLite WAL write and read back ok`;
  if (ram !== undefined) return warn(`${state}, but it is on ${ram}: the node's state is lost at every reboot`, "choose a data dir on disk, e.g. --data-dir /var/lib/adaos-edge");
  return ok(state);
}

async function removeCreated(system: System, dir: string, firstCreated: string): Promise<void> {
  for (let d = dir; ; d = dirname(d)) {
    await system.removeEmptyDir(d).catch(() => undefined);
    if (d === firstCreated || dirname(d) === d) return;
  }
}

/** null when the probe database worked, else what went wrong. */
async function sqliteProbe(system: System, path: string): Promise<string | null> {
  let problem: string | null = null;
  try {
    const db = await system.openSqlite(path);
    try {
      problem = roundTrip(db);
    } finally {
      db.close();
    }
  } catch (err) {
    problem = describeError(err);
  }
  const leftovers: string[] = [];
  for (const suffix of PROBE_SUFFIXES) {
    await system.removeFile(path + suffix).catch(() => leftovers.push(path + suffix));
  }
  if (problem === null && leftovers.length > 0) problem = `could not remove the probe files ${leftovers.join(", ")}`;
  return problem;
}

function roundTrip(db: SqliteFile): string | null {
  const mode = db.pragma("journal_mode = WAL");
  if (mode !== "wal") return `WAL journal mode is not available here (journal_mode stays ${String(mode)})`;
  const token = `doctor-${process.pid}-${Date.now()}`;
  db.run("CREATE TABLE IF NOT EXISTS probe (v TEXT NOT NULL)");
  db.run("INSERT INTO probe (v) VALUES (?)", token);
  const back = db.value("SELECT v FROM probe WHERE v = ?", token);
  return back === token ? null : `a row written was not read back (got ${String(back)})`;
}
