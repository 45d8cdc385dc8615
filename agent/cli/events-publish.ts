/** `events publish <event_name> --data JSON`: publish one event through a running agent's API. */
import { InternalError, UsageError } from "../core/errors.js";
import { API_FLAGS, ApiClient } from "./api-client.js";
import { intFlag, parse } from "./args.js";
import { EXIT, type CommandMain } from "./command.js";

const USAGE =
  "events publish <event_name> --data JSON [--version N] [--priority 0-5] [--kind event|command|reply] [--api URL] [--token T] [--data-dir DIR]";
const KINDS = ["event", "command", "reply"];

export const main: CommandMain = async (args, io) => {
  const { values, positionals } = parse(
    args,
    { ...API_FLAGS, data: { type: "string" }, version: { type: "string" }, priority: { type: "string" }, kind: { type: "string" } },
    USAGE,
  );
  const [eventName, ...extra] = positionals;
  if (eventName === undefined || extra.length > 0) throw new UsageError(`expected exactly one event name\nusage: ${USAGE}`);
  if (values.kind !== undefined && !KINDS.includes(values.kind)) throw new UsageError(`--kind must be one of ${KINDS.join(", ")}, got "${values.kind}"`);
  const payload = parsePayload(values.data ?? "{}");
  const version = intFlag(values.version, "--version", 1, Number.MAX_SAFE_INTEGER) ?? 1;
  const priority = intFlag(values.priority, "--priority", 0, 5);

  const client = ApiClient.fromFlags(values, io);
  const answer = await client.json("POST", "/api/events/publish", {
    event_name: eventName,
    version,
    payload,
    ...(priority === undefined ? {} : { priority }),
    ...(values.kind === undefined ? {} : { kind: values.kind }),
  });
  const { id, status } = (answer ?? {}) as { id?: unknown; status?: unknown };
  if (typeof id !== "string" || (status !== "accepted" && status !== "duplicate")) {
    throw new InternalError(`unexpected answer from ${client.base}: ${JSON.stringify(answer)}`);
  }
  io.out(`${status} ${id}`);
  return EXIT.ok;
};

function parsePayload(text: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new UsageError(`--data is not valid JSON (${(err as Error).message}); e.g. --data '{"text":"hello"}'`, { cause: err });
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new UsageError(`--data must be a JSON object (the payload), e.g. --data '{"text":"hello"}'`);
  }
  return value as Record<string, unknown>;
}
