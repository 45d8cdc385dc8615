/** Helpers of the transport benchmark: windowed publishing and latency percentiles. */

/** Counts received messages; the benchmark's handlers bump it. */
export interface Sink {
  got: number;
}

/**
 * At most this many messages in flight: keeps the broker's per-client buffer (nats-server cuts a
 * slow consumer at 64 MB pending) and the publisher's queue bounded, the same for raw and ours.
 */
const WINDOW = 10_000;
/** Give up on a run that stalls (a lost message would otherwise hang the benchmark). */
const STALL_MS = 10_000;

/** Publish `n` messages with `send`, keeping at most WINDOW unreceived; resolve when all arrived. */
export async function pump(n: number, sink: Sink, send: () => void): Promise<void> {
  const start = sink.got;
  let sent = 0;
  let last = Date.now();
  let seen = start;
  while (sink.got - start < n) {
    while (sent < n && sent - (sink.got - start) < WINDOW) {
      send();
      sent++;
    }
    await new Promise((r) => setImmediate(r));
    if (sink.got !== seen) {
      seen = sink.got;
      last = Date.now();
    } else if (Date.now() - last > STALL_MS) {
      throw new Error(`stalled: ${sink.got - start} of ${n} received`);
    }
  }
}

export interface Latency {
  readonly p50: number;
  readonly p99: number;
}

/** Run `once` sequentially `n` times (after n/10 warm-up runs); percentiles in microseconds. */
export async function latency(n: number, once: () => Promise<void>): Promise<Latency> {
  for (let i = 0; i < n / 10; i++) await once();
  const us: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = process.hrtime.bigint();
    await once();
    us.push(Number(process.hrtime.bigint() - t0) / 1000);
  }
  us.sort((a, z) => a - z);
  const at = (q: number): number => us[Math.min(us.length - 1, Math.floor(q * us.length))] ?? NaN;
  return { p50: at(0.5), p99: at(0.99) };
}

/** Latency ratios are ours / raw: 1.0 is no overhead, 2.0 takes twice as long. */
export function latencyReport(title: string, rawName: string, raw: Latency, oursName: string, ours: Latency): void {
  const us = (v: number): string => `${v.toFixed(0)} µs`.padStart(9);
  console.log(`\n${title}`);
  console.log(`  raw limit  ${rawName.padEnd(52)} p50 ${us(raw.p50)}  p99 ${us(raw.p99)}`);
  console.log(
    `  ours       ${oursName.padEnd(52)} p50 ${us(ours.p50)}  p99 ${us(ours.p99)}` +
      `   ratio p50 ${(ours.p50 / raw.p50).toFixed(2)}× p99 ${(ours.p99 / raw.p99).toFixed(2)}× (of raw time)`,
  );
}
