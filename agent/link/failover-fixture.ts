/**
 * Test support for the failover's unit tests: two fake brokers (nats, mqtt) on a manual clock, a
 * FailoverTransport over them, and everything it reports (changes, statuses, metrics) recorded.
 */
import { ManualClock } from "../core/clock.js";
import { silentLogger } from "../core/logger.js";
import { MetricsRegistry } from "../core/metrics.js";
import type { LinkStatus } from "../transport/transport.js";
import type { LinkChange } from "./change-feed.js";
import { FailoverTransport, type FailoverOptions } from "./failover-transport.js";
import { FakeBroker } from "./fake-transport.js";

/** Let promise chains and status iterators run. */
export async function settle(): Promise<void> {
  for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
}

/** Move the clock in steps, letting async work run (and schedule timers) between them. */
export async function advance(clock: ManualClock, ms: number, step = 100): Promise<void> {
  for (let left = ms; left > 0; left -= step) {
    clock.advance(Math.min(step, left));
    await settle();
  }
}

export function setup(extra: Partial<FailoverOptions> = {}) {
  const clock = new ManualClock();
  const nats = new FakeBroker("nats", "nats://hub:4222", clock);
  const mqtt = new FakeBroker("mqtt", "mqtt://hub:1883", clock);
  const metrics = new MetricsRegistry();
  // random() = 1: the backoff's delays are exactly 1 s, 2 s, 4 s, … (no jitter).
  const tr = new FailoverTransport({ candidates: [nats.candidate(), mqtt.candidate()], clock, random: () => 1, logger: silentLogger(), metrics, ...extra });
  const changes: LinkChange[] = [];
  const statuses: LinkStatus["type"][] = [];
  void (async () => { for await (const c of tr.changes()) changes.push(c); })();
  void (async () => { for await (const s of tr.status()) statuses.push(s.type); })();
  const connect = async (): Promise<void> => {
    const done = tr.connect(AbortSignal.timeout(60_000));
    for (let i = 0; i < 100 && tr.link === undefined; i++) await advance(clock, 100);
    await done;
  };
  const kinds = (): string[] => changes.map((c) => `${c.type}:${c.transport}${c.previous === undefined ? "" : `<${c.previous}`}`);
  const gauge = (t: string): number | undefined => metrics.gauge("adaos_link_active", "").get({ transport: t });
  const switches = (from: string, to: string): number => metrics.counter("adaos_link_switches_total", "").get({ from, to });
  return { clock, nats, mqtt, metrics, tr, changes, statuses, connect, kinds, gauge, switches };
}

