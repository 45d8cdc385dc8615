/**
 * One pino root logger writing NDJSON to stdout (journald picks it up); a child per component.
 * No worker-thread transports: they do not survive packaging into one binary.
 */
import { pino, type Logger, type LevelWithSilent } from "pino";

export type { Logger };

export interface LoggerOptions {
  readonly level: LevelWithSilent;
  readonly nodeId: string;
  /** Where lines go; stdout by default. Tests pass a stream to read them. */
  readonly destination?: NodeJS.WritableStream;
}

export function createRootLogger(opts: LoggerOptions): Logger {
  return pino(
    { level: opts.level, base: { node: opts.nodeId }, timestamp: pino.stdTimeFunctions.isoTime },
    opts.destination ?? pino.destination({ dest: 1, sync: true }),
  );
}

export function componentLogger(root: Logger, component: string): Logger {
  return root.child({ component });
}

/** A logger that drops everything (unit tests, CLI commands). */
export function silentLogger(): Logger {
  return pino({ level: "silent" });
}
