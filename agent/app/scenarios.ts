/**
 * The scenario runtime for this node, from config's `scenarios` section: scenario files from
 * `dirs` (default <data_dir>/scenarios), the run store and schedules in <data_dir>/scenarios.db.
 * Absent when `scenarios.enabled` is false (the API's scenario routes then answer 404).
 */
import { join, resolve } from "node:path";
import type { Bus } from "../bus/bus.js";
import type { Config } from "../config/config.js";
import type { Clock } from "../core/clock.js";
import { componentLogger, type Logger } from "../core/logger.js";
import type { MetricsRegistry } from "../core/metrics.js";
import type { EventCatalog } from "../registry/catalog.js";
import { ScenarioRuntime } from "../scenarios/runtime.js";

export interface ScenarioDeps {
  readonly config: Config;
  readonly bus: Bus;
  readonly catalog: EventCatalog;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly metrics: MetricsRegistry;
  readonly source: string;
}

/** The directory scenario files are read from when config does not say. */
export const DEFAULT_SCENARIOS_DIR = "scenarios";

export function scenarioRuntime(deps: ScenarioDeps): ScenarioRuntime | undefined {
  const c = deps.config;
  if (!c.scenarios.enabled) return undefined;
  return new ScenarioRuntime({
    dataDir: c.data_dir,
    dirs: (c.scenarios.dirs ?? [join(c.data_dir, DEFAULT_SCENARIOS_DIR)]).map((d) => resolve(d)),
    maxConcurrentPerNode: c.scenarios.max_concurrent_per_node,
    runsKept: c.scenarios.runs_kept,
    bus: deps.bus,
    catalog: deps.catalog,
    clock: deps.clock,
    logger: componentLogger(deps.logger, "scenarios"),
    metrics: deps.metrics,
    source: deps.source,
    tenant: c.tenant,
  });
}
