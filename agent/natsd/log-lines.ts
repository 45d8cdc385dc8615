/**
 * nats-server's log lines into our pino logger. With `logtime: false` a line reads
 * `[1234] [INF] Server is ready`; the level tag picks the pino level, the pid becomes a field, and
 * lines without a tag (a panic's stack trace) are kept at error so they are never lost.
 */
import { createInterface } from "node:readline";
import type { Readable } from "node:stream";
import type { Logger } from "../core/logger.js";

export type PinoLevel = "fatal" | "error" | "warn" | "info" | "debug" | "trace";

/** nats-server's level tags (server/log/log.go). */
export const LEVELS: Readonly<Record<string, PinoLevel>> = {
  FTL: "fatal",
  ERR: "error",
  WRN: "warn",
  INF: "info",
  DBG: "debug",
  TRC: "trace",
};

/** Lines longer than this are cut (a traced protocol dump can be megabytes). */
export const MAX_LINE_CHARS = 4096;

export interface NatsLogLine {
  readonly level: PinoLevel;
  readonly msg: string;
  readonly pid?: number;
}

// "[pid] " then, when logtime is on, "2006/01/02 15:04:05.000000 ", then "[LVL] ".
const LINE = /^(?:\[(\d+)\] )?(?:\d{4}\/\d\d\/\d\d \d\d:\d\d:\d\d\.\d+ )?\[([A-Z]{3})\] ?(.*)$/s;

export function parseLogLine(line: string): NatsLogLine {
  const text = line.length > MAX_LINE_CHARS ? `${line.slice(0, MAX_LINE_CHARS)}…` : line;
  const m = LINE.exec(text);
  const level = m === null ? undefined : LEVELS[m[2] ?? ""];
  if (m === null || level === undefined) return { level: "error", msg: text };
  return m[1] === undefined ? { level, msg: m[3] ?? "" } : { level, msg: m[3] ?? "", pid: Number(m[1]) };
}

/** Forward every line of `stream` to `logger` until the stream ends. */
export function forwardLog(stream: Readable, logger: Logger): void {
  const rl = createInterface({ input: stream, crlfDelay: Infinity });
  rl.on("line", (line) => {
    if (line.trim() === "") return;
    const { level, msg, pid } = parseLogLine(line);
    if (pid === undefined) logger[level](msg);
    else logger[level]({ pid }, msg);
  });
}
