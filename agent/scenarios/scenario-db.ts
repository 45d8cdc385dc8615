/**
 * The scenario runtime's database, <data_dir>/scenarios.db, with every table on it: the schedule
 * store's `schedules`, the run store's `runs` and `run_steps`.
 *
 * Why one list: openDatabase keeps one schema version (PRAGMA user_version) per file, so the
 * components sharing the file must share one numbered migration list. The schedule store's come
 * first because a file made by ScheduleStore.open is already at their version and upgrades by
 * running only what follows; both lists create their tables idempotently (IF NOT EXISTS). Never
 * reorder or edit this list, only append: a migration's position is its version on disk.
 *
 * Once a file is upgraded here, ScheduleStore.open refuses it (its version is newer than the
 * schedule list alone knows), so the runtime opens the file here and hands the one Db to
 * `new ScheduleStore(db)` and `new RunStore(db)`, closing it itself.
 */
import { join } from "node:path";
import { openDatabase, type Db, type Migration } from "../store/sqlite.js";
import { RUN_MIGRATIONS } from "./run-store.js";
import { SCENARIOS_DB_FILE, SCHEDULE_MIGRATIONS } from "./schedule-store.js";

export const SCENARIO_DB_MIGRATIONS: readonly Migration[] = [...SCHEDULE_MIGRATIONS, ...RUN_MIGRATIONS];

/** Open (creating, migrating) <dataDir>/scenarios.db; the caller closes it. */
export function openScenarioDb(dataDir: string): Db {
  return openDatabase(join(dataDir, SCENARIOS_DB_FILE), SCENARIO_DB_MIGRATIONS);
}
