/**
 * The IO router of this node and the sinks behind its /api/io/console/print and /api/say: the
 * console prints to stdout; TTS is espeak-ng and the speaker when voice.tts.enabled, else a logging sink.
 * Rules from config io.route_rules, else <data_dir>/route_rules.yaml when it exists.
 */
import { join } from "node:path";
import type { Bus } from "../bus/bus.js";
import type { Config } from "../config/config.js";
import type { Clock } from "../core/clock.js";
import { componentLogger, type Logger } from "../core/logger.js";
import type { MetricsRegistry } from "../core/metrics.js";
import type { SubnetReader } from "../directory/subnet-port.js";
import { IoRouter } from "../io/router.js";
import { LogSaySink, StreamConsoleSink, type ConsoleSink, type SaySink } from "../io/sinks.js";

export const ROUTE_RULES_FILE = "route_rules.yaml";

export interface IoDeps {
  readonly config: Config;
  readonly bus: Bus;
  readonly subnet: SubnetReader | undefined;
  readonly token: string;
  readonly logger: Logger;
  readonly metrics: MetricsRegistry;
  readonly clock: Clock;
  /** The node's TTS (voice.tts.enabled); absent: phrases are only logged. */
  readonly say?: SaySink | undefined;
}

export function ioComponents(d: IoDeps): { router: IoRouter; api: { console: ConsoleSink; say: SaySink; nodeId: string } } {
  const console = new StreamConsoleSink(d.config.node_id);
  const say = d.say ?? new LogSaySink(componentLogger(d.logger, "say"));
  const router = new IoRouter({
    bus: d.bus,
    subnet: d.subnet,
    nodeId: d.config.node_id,
    token: d.token,
    rulesPath: d.config.io.route_rules ?? join(d.config.data_dir, ROUTE_RULES_FILE),
    console,
    say,
    logger: componentLogger(d.logger, "io"),
    metrics: d.metrics,
    clock: d.clock,
  });
  return { router, api: { console, say, nodeId: d.config.node_id } };
}
