/**
 * `events dlq list|show|replay|purge`: the running agent's dead-letter queue over its API.
 * list prints a table (or NDJSON with --json), show one entry as pretty JSON; replay puts
 * entries back through validation (exit 1 when any failed, with why) and purge deletes them.
 */
import { UsageError } from "../core/errors.js";
import { formatDuration } from "../natsd/duration.js";
import { DEAD_REASONS } from "../outbox/dead-letters.js";
import { API_FLAGS, ApiClient, type DlqItem, type DlqSelection } from "./api-client.js";
import { intFlag, parse } from "./args.js";
import { EXIT, type CliIo, type CommandMain } from "./command.js";

const API_USAGE = "[--api URL] [--token T] [--data-dir DIR]";
export const USAGE = {
  list: `events dlq list [--reason ${DEAD_REASONS.join("|")}] [--limit N] [--json] ${API_USAGE}`,
  show: `events dlq show <dlq_id> ${API_USAGE}`,
  replay: `events dlq replay (<dlq_id>... | --reason R | --all) ${API_USAGE}`,
  purge: `events dlq purge (<dlq_id>... | --reason R | --all) ${API_USAGE}`,
} as const;

/** Entries listed when --limit is not given. */
const DEFAULT_LIMIT = 100;
/** The API's largest page. */
const PAGE = 1000;
/** Last errors are cut to this many characters in the table (--json has them whole). */
const ERROR_WIDTH = 60;

export const list: CommandMain = async (args, io) => {
  const { values, positionals } = parse(
    args,
    { ...API_FLAGS, reason: { type: "string" }, limit: { type: "string" }, json: { type: "boolean", default: false } },
    USAGE.list,
  );
  if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"\nusage: ${USAGE.list}`);
  const reason = reasonFlag(values.reason);
  const limit = intFlag(values.limit, "--limit", 1, Number.MAX_SAFE_INTEGER) ?? DEFAULT_LIMIT;
  const client = ApiClient.fromFlags(values, io);

  const items: DlqItem[] = [];
  let after: number | undefined;
  let more = false;
  for (;;) {
    const page = await client.dlqList({ reason, limit: Math.min(PAGE, limit - items.length), ...(after === undefined ? {} : { after }) });
    for (const item of page.items) {
      items.push(item);
      if (values.json) io.out(JSON.stringify(item));
    }
    if (page.next_after === null) break;
    if (items.length >= limit) {
      more = true;
      break;
    }
    after = page.next_after;
  }
  if (!values.json) printTable(items, reason, io);
  if (more) io.err(`adaos-edge: more dead letters follow; raise --limit (now ${limit}) to see them`);
  return EXIT.ok;
};

export const show: CommandMain = async (args, io) => {
  const { values, positionals } = parse(args, API_FLAGS, USAGE.show);
  if (positionals.length !== 1) throw new UsageError(`expected exactly one dlq id\nusage: ${USAGE.show}`);
  const dlqId = idArg(positionals[0] ?? "", USAGE.show);
  io.out(JSON.stringify(await ApiClient.fromFlags(values, io).dlqShow(dlqId), null, 2));
  return EXIT.ok;
};

export const replay: CommandMain = async (args, io) => {
  const { values, positionals } = parse(args, { ...API_FLAGS, reason: { type: "string" }, all: { type: "boolean", default: false } }, USAGE.replay);
  const selection = select(positionals, values, USAGE.replay);
  const answer = await ApiClient.fromFlags(values, io).dlqReplay(selection);
  io.out(`replayed ${answer.replayed}, failed ${answer.failed_total}`);
  for (const f of answer.failed) io.err(`  dlq ${f.dlq_id}: ${f.message} (${f.code})`);
  const unlisted = answer.failed_total - answer.failed.length;
  if (unlisted > 0) io.err(`  … and ${unlisted} more`);
  if (answer.failed_total > 0) io.err("adaos-edge: the failed entries stay in the dead-letter queue; fix the cause, or purge them");
  return answer.failed_total > 0 ? EXIT.failure : EXIT.ok;
};

export const purge: CommandMain = async (args, io) => {
  const { values, positionals } = parse(args, { ...API_FLAGS, reason: { type: "string" }, all: { type: "boolean", default: false } }, USAGE.purge);
  const selection = select(positionals, values, USAGE.purge);
  const answer = await ApiClient.fromFlags(values, io).dlqPurge(selection);
  io.out(`purged ${answer.purged}`);
  return EXIT.ok;
};

/** Ids, --reason or --all: exactly one (so a bare `purge` never means everything). */
function select(positionals: readonly string[], values: { reason?: string | undefined; all?: boolean | undefined }, usage: string): DlqSelection {
  const given = [positionals.length > 0, values.reason !== undefined, values.all === true].filter(Boolean).length;
  if (given !== 1) throw new UsageError(`give dlq ids, --reason R or --all (exactly one)\nusage: ${usage}`);
  if (positionals.length > 0) return { ids: positionals.map((p) => idArg(p, usage)) };
  if (values.reason !== undefined) return { reason: reasonFlag(values.reason) as string };
  return { all: true };
}

function idArg(text: string, usage: string): number {
  const n = /^\d+$/.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(n) || n < 1) throw new UsageError(`a dlq id is a positive integer (see \`events dlq list\`), got "${text}"\nusage: ${usage}`);
  return n;
}

function reasonFlag(value: string | undefined): string | undefined {
  if (value !== undefined && !(DEAD_REASONS as readonly string[]).includes(value)) {
    throw new UsageError(`--reason must be one of ${DEAD_REASONS.join(", ")}, got "${value}"`);
  }
  return value;
}

function printTable(items: readonly DlqItem[], reason: string | undefined, io: CliIo): void {
  if (items.length === 0) {
    io.out(reason === undefined ? "the dead-letter queue is empty" : `no dead letters with reason ${reason}`);
    return;
  }
  const now = Date.now();
  const rows = [
    ["ID", "REASON", "ORIGIN", "EVENT", "ATTEMPTS", "AGE", "LAST ERROR"],
    ...items.map((i) => [
      String(i.dlq_id), i.reason, i.origin, i.event_name ?? "-", String(i.attempts), age(now - Date.parse(i.dead_at)), truncate(i.last_error ?? "-"),
    ]),
  ];
  const widths = rows[0]?.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? "").length))) ?? [];
  for (const r of rows) io.out(r.map((cell, c) => (c === r.length - 1 ? cell : cell.padEnd(widths[c] ?? 0))).join("  "));
}

/** Whole seconds: "3m12s", "0s" for under one. */
function age(ms: number): string {
  return formatDuration(Math.max(0, Math.floor(ms / 1000)) * 1000);
}

function truncate(text: string): string {
  const line = text.replace(/\s+/g, " ");
  return line.length <= ERROR_WIDTH ? line : line.slice(0, ERROR_WIDTH - 1) + "…";
}
