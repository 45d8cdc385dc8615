/**
 * `events tail [pattern]`: print the running agent's envelopes as NDJSON (one per line) from
 * its event stream, until SIGINT/SIGTERM, --count envelopes, or the stream drops (exit 1).
 */
import { ApiUnreachableError, UsageError } from "../core/errors.js";
import { API_FLAGS, ApiClient } from "./api-client.js";
import { intFlag, parse } from "./args.js";
import { EXIT, type CommandMain, type CliIo } from "./command.js";

const USAGE = "events tail [pattern] [--count N] [--api URL] [--token T] [--data-dir DIR]";
const DROPPED_NOTE = /^dropped (\d+)$/;

export const main: CommandMain = async (args, io) => {
  const { values, positionals } = parse(args, { ...API_FLAGS, count: { type: "string" } }, USAGE);
  if (positionals.length > 1) throw new UsageError(`expected at most one pattern\nusage: ${USAGE}`);
  const pattern = positionals[0] ?? ">";
  const count = intFlag(values.count, "--count", 1, Number.MAX_SAFE_INTEGER);
  const client = ApiClient.fromFlags(values, io);

  const stop = new AbortController();
  const onSignal = (): void => stop.abort();
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  try {
    let printed = 0;
    for await (const msg of client.events(`/api/events/stream?pattern=${encodeURIComponent(pattern)}`, stop.signal)) {
      if (msg.type === "comment") {
        noteDrops(msg.text, io);
        continue;
      }
      io.out(oneLine(msg.data));
      printed++;
      if (count !== undefined && printed >= count) return EXIT.ok;
    }
    if (stop.signal.aborted) return EXIT.ok;
    throw new ApiUnreachableError(`the event stream from ${client.base} ended: the agent stopped or closed the connection`);
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
};

/** The agent skips envelopes for a reader that falls behind and says how many once it catches up. */
function noteDrops(comment: string, io: CliIo): void {
  const m = DROPPED_NOTE.exec(comment);
  if (m !== null) io.err(`adaos-edge: the agent dropped ${m[1]} envelopes because this reader fell behind`);
}

/** Envelope JSON normalised to one line (the agent sends one line already). */
function oneLine(data: string): string {
  try {
    return JSON.stringify(JSON.parse(data));
  } catch {
    return data.replace(/\n/g, " ");
  }
}
