/**
 * `outbox stats [--watch]`: the running agent's outbox — depth, bytes, oldest age, counters,
 * the DLQ and the relay — with rates from two samples --interval-ms apart. --watch prints one
 * line per interval (depth, rates, "left N, ~ETA") until Ctrl-C or --count lines; --json prints
 * each sample as one JSON line with its rates.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { UsageError } from "../core/errors.js";
import { formatDuration } from "../natsd/duration.js";
import { API_FLAGS, ApiClient, type OutboxStatsAnswer } from "./api-client.js";
import { intFlag, parse } from "./args.js";
import { EXIT, type CliIo, type CommandMain } from "./command.js";

const USAGE = "outbox stats [--watch [--count N]] [--interval-ms N] [--json] [--api URL] [--token T] [--data-dir DIR]";
/** Time between the two samples rates come from (and between --watch lines). */
const DEFAULT_INTERVAL_MS = 1000;
const MIB = 1024 * 1024;
/** Counters shown with a rate. */
const RATED = ["added", "sent", "retried", "expired", "overflowed", "poisoned"] as const;
type Rated = (typeof RATED)[number];

interface Sample {
  readonly stats: OutboxStatsAnswer;
  /** performance.now() when the answer arrived. */
  readonly at: number;
}

interface Delta {
  readonly seconds: number;
  readonly rates: Readonly<Record<Rated, number>>;
  /** Entries per second the depth fell by (negative: it grew). */
  readonly drain: number;
  /** Seconds until empty at that pace; undefined when not draining or empty. */
  readonly etaS: number | undefined;
}

export const main: CommandMain = async (args, io) => {
  const { values, positionals } = parse(
    args,
    { ...API_FLAGS, watch: { type: "boolean", default: false }, json: { type: "boolean", default: false }, "interval-ms": { type: "string" }, count: { type: "string" } },
    USAGE,
  );
  if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"\nusage: ${USAGE}`);
  const interval = intFlag(values["interval-ms"], "--interval-ms", 10, 3_600_000) ?? DEFAULT_INTERVAL_MS;
  const count = intFlag(values.count, "--count", 1, Number.MAX_SAFE_INTEGER);
  if (count !== undefined && !values.watch) throw new UsageError(`--count goes with --watch\nusage: ${USAGE}`);
  const client = ApiClient.fromFlags(values, io);
  const sample = async (): Promise<Sample> => ({ stats: await client.outboxStats(), at: performance.now() });

  const stop = new AbortController();
  const onSignal = (): void => stop.abort();
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  try {
    let prev = await sample();
    for (let printed = 0; count === undefined || printed < count; printed++) {
      if (!(await wait(interval, stop.signal))) break;
      const cur = await sample();
      const delta = compare(prev, cur);
      if (values.json) io.out(JSON.stringify(jsonLine(cur.stats, delta)));
      else if (values.watch) io.out(watchLine(cur.stats, delta));
      else printBlock(cur.stats, delta, io);
      if (!values.watch) break;
      prev = cur;
    }
    return EXIT.ok;
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
};

/** False when Ctrl-C came first. */
async function wait(ms: number, signal: AbortSignal): Promise<boolean> {
  try {
    await sleep(ms, undefined, { signal });
    return true;
  } catch {
    return false;
  }
}

function compare(a: Sample, b: Sample): Delta {
  const seconds = Math.max(1e-3, (b.at - a.at) / 1000);
  // A counter that went down means the agent restarted in between: count from zero.
  const rate = (k: Rated): number => (b.stats[k] >= a.stats[k] ? b.stats[k] - a.stats[k] : b.stats[k]) / seconds;
  const rates = Object.fromEntries(RATED.map((k) => [k, rate(k)])) as Record<Rated, number>;
  const drain = (a.stats.depth - b.stats.depth) / seconds;
  const etaS = b.stats.depth > 0 && drain > 0 ? b.stats.depth / drain : undefined;
  return { seconds, rates, drain, etaS };
}

function jsonLine(s: OutboxStatsAnswer, d: Delta): Record<string, unknown> {
  const rates = Object.fromEntries(RATED.map((k) => [`${k}_per_s`, round(d.rates[k])]));
  return { ...s, rates, interval_s: round(d.seconds), eta_s: d.etaS === undefined ? null : round(d.etaS) };
}

function printBlock(s: OutboxStatsAnswer, d: Delta, io: CliIo): void {
  const rows: [string, string][] = [
    ["depth", `${s.depth} (in flight ${s.in_flight})`],
    ["bytes", mib(s.bytes)],
    ["oldest", age(s.oldest_age_s)],
    ...RATED.map((k): [string, string] => [k, `${s[k]}  ${rate(d.rates[k])}`]),
    ["dlq", dlq(s)],
    ["drain", progress(s, d)],
  ];
  if (s.relay !== undefined) rows.push(["relay", Object.entries(s.relay).map(([k, v]) => `${k}=${typeof v === "string" ? v : JSON.stringify(v)}`).join(" ")]);
  const width = Math.max(...rows.map(([k]) => k.length));
  for (const [k, v] of rows) io.out(`${k.padEnd(width)}  ${v}`);
}

function watchLine(s: OutboxStatsAnswer, d: Delta): string {
  const time = new Date().toTimeString().slice(0, 8);
  return `${time}  depth ${s.depth} (${mib(s.bytes)}), oldest ${age(s.oldest_age_s)}  added ${rate(d.rates.added)}  sent ${rate(d.rates.sent)}  dlq ${s.dlq.total}  ${progress(s, d)}`;
}

/** "drained", "left N, ~ETA 12s", or "left N, not draining". */
function progress(s: OutboxStatsAnswer, d: Delta): string {
  if (s.depth === 0) return "drained";
  if (d.etaS === undefined) return `left ${s.depth}, not draining`;
  return `left ${s.depth}, ~ETA ${age(d.etaS)}`;
}

function dlq(s: OutboxStatsAnswer): string {
  const parts = Object.entries(s.dlq.by_reason).filter(([, n]) => n > 0).map(([r, n]) => `${r} ${n}`);
  return parts.length === 0 ? String(s.dlq.total) : `${s.dlq.total} (${parts.join(", ")})`;
}

function mib(bytes: number): string {
  return `${(bytes / MIB).toFixed(bytes < 10 * MIB ? 2 : 1)} MiB`;
}

/** Whole seconds as "3m12s" (rounded up, so a short wait never shows as 0s). */
function age(seconds: number): string {
  return formatDuration(Math.ceil(seconds) * 1000);
}

function rate(perS: number): string {
  return `${perS >= 10 || perS === 0 ? Math.round(perS) : perS.toFixed(1)}/s`;
}

function round(n: number): number {
  return Math.round(n * 1000) / 1000;
}
