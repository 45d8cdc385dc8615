/** Test support: a real pino logger whose NDJSON lines are kept in memory and parsed. */
import { Writable } from "node:stream";
import { createRootLogger, type Logger } from "../core/logger.js";

export interface LogLine {
  readonly level: number;
  readonly msg: string;
  readonly [field: string]: unknown;
}

export interface CapturedLog {
  readonly logger: Logger;
  readonly lines: LogLine[];
  /** Lines whose message contains `text`. */
  matching(text: string): LogLine[];
}

export const PINO_WARN = 40;

export function captureLog(): CapturedLog {
  const lines: LogLine[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const text of chunk.toString("utf8").split("\n")) if (text.trim() !== "") lines.push(JSON.parse(text) as LogLine);
      done();
    },
  });
  const logger = createRootLogger({ level: "debug", nodeId: "test", destination });
  return { logger, lines, matching: (text) => lines.filter((l) => l.msg.includes(text)) };
}
