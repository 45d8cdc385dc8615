/**
 * Scenario runtime benchmark, two figures, each beside its raw limit measured in the same run:
 *
 * 1. Runs per second of a 3-step no-op scenario (three `set` steps) through the real runner,
 *    journal and run store on a SQLite file (WAL, synchronous=FULL like the agent), with
 *    the default 4 runs at once. Raw limit: better-sqlite3 alone doing the same number of
 *    commits a run costs, one after the other, on the same kind of file.
 * 2. Scheduler overhead with 1,000 schedules: 1,000 interval schedules of 10 s (100 ticks/s) on the
 *    real scheduler (timer.tick on the bus, progress written to SQLite), CPU per tick over the
 *    window. Raw limit: 1,000 bare re-armed timers that each do one SQLite UPDATE per tick.
 *
 * Usage: node dist/bench/scenarios.bench.js [runs=2000] [window_s=20]
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { systemClock } from "../agent/core/clock.js";
import { silentLogger } from "../agent/core/logger.js";
import { openDatabase } from "../agent/store/sqlite.js";
import { ScheduleStore } from "../agent/scenarios/schedule-store.js";
import { Scheduler } from "../agent/scenarios/scheduler.js";
import { openScenarioDb } from "../agent/scenarios/scenario-db.js";
import { rig, scenario, SOURCE, step } from "../agent/scenarios/test-fixture.js";

const RUNS = Number(process.argv[2] ?? 2000);
const WINDOW_S = Number(process.argv[3] ?? 20);
const SCHEDULES = 1000;
const EVERY_MS = 10_000;

interface Cleanups { after(fn: () => Promise<void> | void): void; run(): Promise<void> }
function cleanups(): Cleanups {
  const fns: (() => Promise<void> | void)[] = [];
  return { after: (fn) => void fns.push(fn), run: async () => { for (const fn of fns.reverse()) await fn(); } };
}

async function runsPerSecond(): Promise<{ perSecond: number; commitsPerRun: number }> {
  const c = cleanups();
  const noop = scenario("noop", [1, 2, 3].map((i) => step(`s${i}`, { kind: "set", values: { [`v${i}`]: i } })), { max_concurrent: 64 });
  const r = rig(c, [noop]);
  // Count the store's writes: each is one commit (the store's rule outside batch()).
  let writes = 0;
  const WRITES = new Set(["insert", "update", "stepStarted", "stepFinished", "batch"]);
  let depth = 0;
  const store = new Proxy(r.store, {
    get(target, prop, receiver) {
      const v: unknown = Reflect.get(target, prop, receiver);
      if (typeof v !== "function") return v;
      return (...args: unknown[]) => {
        // A batch is one commit whatever it holds.
        if (WRITES.has(String(prop)) && depth === 0) writes++;
        if (prop === "batch") depth++;
        try {
          return (v as (...a: unknown[]) => unknown).apply(target, args);
        } finally {
          if (prop === "batch") depth--;
        }
      };
    },
  });
  const runner = r.runner({ store });
  await runner.start(new AbortController().signal);
  // Warm-up, then the measured batch: keep the queue full, wait for every run to finish.
  const batch = async (n: number): Promise<void> => {
    const ids: string[] = [];
    for (let i = 0; i < n; i++) ids.push(runner.submit({ id: "noop", trigger: "api", force: true }).run_id);
    for (const id of ids) await runner.settled(id);
    while (runner.activeRuns > 0) await new Promise((res) => setImmediate(res));
  };
  await batch(50);
  const writesBefore = writes;
  const t0 = process.hrtime.bigint();
  await batch(RUNS);
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  const commitsPerRun = (writes - writesBefore) / RUNS;
  await c.run();
  return { perSecond: RUNS / s, commitsPerRun };
}

/** better-sqlite3 alone: `commits` single-statement transactions per simulated run. */
function rawRunsPerSecond(commitsPerRun: number): number {
  const dir = mkdtempSync(join(tmpdir(), "adaos-bench-raw-"));
  const db = openDatabase(join(dir, "raw.db"), [(d) => d.exec("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)")]);
  const insert = db.prepare("INSERT INTO t (v) VALUES (?)");
  const n = Math.max(200, Math.round(RUNS / 4));
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) for (let k = 0; k < commitsPerRun; k++) insert.run(`{"run":${i},"k":${k}}`);
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  db.close();
  rmSync(dir, { recursive: true, force: true });
  return n / s;
}

function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

async function schedulerOverhead(): Promise<{ usPerTick: number; ticks: number; startMs: number }> {
  const c = cleanups();
  const r = rig(c, []);
  const sdb = openScenarioDb(r.dir);
  const store = new ScheduleStore(sdb);
  let ticks = 0;
  const scheduler = new Scheduler({ store, bus: r.bus, clock: systemClock, logger: silentLogger(), source: SOURCE, onTick: () => void ticks++ });
  for (let i = 0; i < SCHEDULES; i++) store.create({ id: `s${i}`, scenario_id: null, spec: { type: "interval", every_ms: EVERY_MS }, ctx: {}, event: "timer.tick", catch_up: false, created_at: Date.now() - Math.floor((i / SCHEDULES) * EVERY_MS) });
  const t0 = performance.now();
  await scheduler.start(new AbortController().signal);
  const startMs = performance.now() - t0;
  const { used, n } = await measureWindow(() => ticks);
  await scheduler.stop();
  store.close();
  sdb.close();
  await c.run();
  return { usPerTick: (used * 1000) / Math.max(1, n), ticks: n, startMs };
}

/** CPU used and ticks counted over the window, after a second of settling. */
async function measureWindow(count: () => number): Promise<{ used: number; n: number }> {
  await new Promise((res) => setTimeout(res, 1000));
  const c0 = cpuMs();
  const n0 = count();
  await new Promise((res) => setTimeout(res, WINDOW_S * 1000));
  return { used: cpuMs() - c0, n: count() - n0 };
}

async function rawTimers(): Promise<{ usPerTick: number; ticks: number }> {
  const dir = mkdtempSync(join(tmpdir(), "adaos-bench-raw-"));
  const db = openDatabase(join(dir, "raw.db"), [(d) => d.exec("CREATE TABLE s (id TEXT PRIMARY KEY, last INTEGER, seq INTEGER)")]);
  const ins = db.prepare("INSERT INTO s VALUES (?, 0, 0)");
  for (let i = 0; i < SCHEDULES; i++) ins.run(`s${i}`);
  const upd = db.prepare("UPDATE s SET last = ?, seq = seq + 1 WHERE id = ?");
  let ticks = 0;
  let live = true;
  const arm = (i: number, at: number): void => {
    setTimeout(() => {
      if (!live) return;
      ticks++;
      upd.run(at, `s${i}`);
      arm(i, at + EVERY_MS);
    }, Math.max(0, at - Date.now()));
  };
  const now = Date.now();
  for (let i = 0; i < SCHEDULES; i++) arm(i, now + Math.floor((i / SCHEDULES) * EVERY_MS));
  const { used, n } = await measureWindow(() => ticks);
  live = false;
  db.close();
  rmSync(dir, { recursive: true, force: true });
  return { usPerTick: (used * 1000) / Math.max(1, n), ticks: n };
}

const ours = await runsPerSecond();
const raw = rawRunsPerSecond(Math.round(ours.commitsPerRun));
console.log(`\nscenario runs: 3-step no-op scenario, ${RUNS} runs, 4 at once (commits per run: ${ours.commitsPerRun.toFixed(1)})`);
console.log(`  raw limit  better-sqlite3, ${Math.round(ours.commitsPerRun)} commits per "run"             ${raw.toFixed(0).padStart(8)} runs/s`);
console.log(`  ours       runs through runner + journal + bus           ${ours.perSecond.toFixed(0).padStart(8)} runs/s   ratio ${(ours.perSecond / raw).toFixed(3)}`);

console.log(`\nscheduler: ${SCHEDULES} interval schedules of ${EVERY_MS / 1000} s (${SCHEDULES / (EVERY_MS / 1000)} ticks/s), ${WINDOW_S} s window`);
const bare = await rawTimers();
console.log(`  raw limit  bare timers + one SQLite UPDATE per tick      ${bare.usPerTick.toFixed(1).padStart(8)} µs CPU/tick (${bare.ticks} ticks)`);
const sched = await schedulerOverhead();
console.log(`  ours       scheduler (timer.tick on the bus, progress in SQLite) ${sched.usPerTick.toFixed(1).padStart(8)} µs CPU/tick (${sched.ticks} ticks), ratio ${(sched.usPerTick / bare.usPerTick).toFixed(2)}×`);
console.log(`  ours       start with ${SCHEDULES} stored schedules           ${sched.startMs.toFixed(0).padStart(8)} ms`);
console.log(`  CPU share at ${SCHEDULES / (EVERY_MS / 1000)} ticks/s: ours ${((sched.usPerTick * SCHEDULES) / EVERY_MS / 10).toFixed(2)}% of a core, raw ${((bare.usPerTick * SCHEDULES) / EVERY_MS / 10).toFixed(2)}%`);
