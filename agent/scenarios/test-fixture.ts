/**
 * Shared by the scenario runtime's tests and benchmark: the real catalog plus a few test events
 * (a `test.flaky` command with its reply, `test.effect`, `test.undo`, `test.answer`), scenarios
 * built in code with the loader's defaults, and a runner on a real bus and a real SQLite file.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Envelope } from "../../abi/envelope.js";
import { LocalBus } from "../bus/local-bus.js";
import { systemClock, type Clock } from "../core/clock.js";
import { silentLogger } from "../core/logger.js";
import { MetricsRegistry } from "../core/metrics.js";
import type { EventCatalog } from "../registry/catalog.js";
import { MemoryCatalog, entry } from "../registry/memory-catalog.js";
import { precompiledCatalog } from "../registry/precompiled.js";
import { RunStore } from "./run-store.js";
import { ScenarioRunner, type RunnerOptions } from "./runner.js";
import type { Action, Scenario, Step } from "./scenario.js";
import { openScenarioDb } from "./scenario-db.js";

export const SOURCE = "agent://hub/hub-1";
const ANY_OBJECT = { type: "object" };

/** The agent's catalog plus the test events. */
export function testCatalog(): EventCatalog {
  const real = precompiledCatalog();
  const extra = new MemoryCatalog([
    { entry: entry("test.flaky", "command", { reply: "test.flaky.result@1" }), schema: ANY_OBJECT },
    { entry: entry("test.flaky.result", "reply"), schema: ANY_OBJECT },
    { entry: entry("test.effect"), schema: ANY_OBJECT },
    { entry: entry("test.undo"), schema: ANY_OBJECT },
    { entry: entry("test.answer"), schema: ANY_OBJECT },
  ]);
  return {
    get: (fqdn, version) => extra.get(fqdn, version) ?? real.get(fqdn, version),
    list: () => [...real.list(), ...extra.list()],
    validateEnvelope: real.validateEnvelope,
  };
}

/** A step with the loader's defaults. */
export function step(name: string, action: Action, extra: Partial<Omit<Step, "name" | "action">> = {}): Step {
  return { name, action, retries: { max: 0, backoff_ms: 1000 }, locks: [], ...extra };
}

/** A scenario with the loader's defaults. */
export function scenario(id: string, steps: readonly Step[], extra: Partial<Omit<Scenario, "id" | "steps">> = {}): Scenario {
  return { id, steps, triggers: [], ctx: {}, effects: [], priority: "NORM", max_concurrent: 1, timeout_ms: 300_000, on_restart: "interrupt", ...extra };
}

export const publish = (event: string, payload: unknown = {}): Action => ({ kind: "publish", event, version: 1, payload });
export const call = (command: string, payload: unknown = {}): Action => ({ kind: "call", command, version: 1, payload });
export const sleepFor = (ms: number): Action => ({ kind: "sleep", ms });

type TestContext = { after(fn: () => Promise<void> | void): void };

export interface Rig {
  readonly dir: string;
  readonly bus: LocalBus;
  readonly store: RunStore;
  readonly metrics: MetricsRegistry;
  /** Every envelope on the bus, in order. */
  readonly events: Envelope[];
  readonly scenarios: Map<string, Scenario>;
  /** A new runner on the rig's store (call start yourself); stopped in t.after. */
  runner(extra?: Partial<RunnerOptions>): ScenarioRunner;
  /** Close the store and open the same file again (a restart). */
  reopen(): RunStore;
}

export function rig(t: TestContext, scenarios: readonly Scenario[], clock: Clock = systemClock): Rig {
  const dir = mkdtempSync(join(tmpdir(), "adaos-runner-"));
  const metrics = new MetricsRegistry();
  const bus = new LocalBus({ catalog: testCatalog(), logger: silentLogger(), metrics, source: SOURCE, clock });
  const events: Envelope[] = [];
  bus.subscribe(">", (e) => void events.push(e));
  let db = openScenarioDb(dir);
  let store = new RunStore(db);
  const byId = new Map(scenarios.map((s) => [s.id, s]));
  const runners: ScenarioRunner[] = [];
  t.after(async () => {
    for (const r of runners) await r.stop();
    store.close();
    db.close();
    await bus.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  const r: Rig = {
    dir, bus, metrics, events, scenarios: byId,
    get store() { return store; },
    runner: (extra = {}) => {
      const runner = new ScenarioRunner({
        scenario: (id) => byId.get(id), store, bus, clock, logger: silentLogger(), metrics, source: SOURCE, tenant: "default", ...extra,
      });
      runners.push(runner);
      return runner;
    },
    reopen: () => {
      store.close();
      db.close();
      db = openScenarioDb(dir);
      store = new RunStore(db);
      return store;
    },
  };
  return r;
}

/** Resolve when the predicate holds, polling every 5 ms; reject after ms. */
export async function until(predicate: () => boolean, ms = 5000, what = "condition"): Promise<void> {
  const end = Date.now() + ms;
  while (!predicate()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((res) => setTimeout(res, 5));
  }
}
