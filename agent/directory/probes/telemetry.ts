/**
 * A node's telemetry at one moment (the `telemetry` of telemetry.heartbeat): load per core, CPU
 * busy fraction since the previous sample, memory, the hottest thermal zone, the battery, whether
 * the network is metered (config), and smoothed round-trip times to peers. A field the node cannot
 * measure is null; a sample never throws.
 */
import { availableParallelism, loadavg } from "node:os";
import { readBattery, readCpuTimes, readMemory, readTempC, REAL_ROOTS, type Battery, type CpuTimes, type Memory, type SysRoots } from "./sys-readers.js";
import { RttEstimator } from "./rtt.js";

export interface Telemetry {
  readonly load: number | null;
  readonly cpu: number | null;
  readonly mem: Memory | null;
  readonly temp_c: number | null;
  readonly battery: Battery | null;
  readonly metered_network: boolean | null;
  readonly rtt_to: Readonly<Record<string, number>>;
}

export interface TelemetryOptions {
  readonly roots?: SysRoots;
  readonly meteredNetwork?: boolean | null;
  /** 1-minute load average and core count; default: node:os. */
  readonly load?: () => { readonly avg1: number; readonly cores: number };
}

const osLoad = (): { avg1: number; cores: number } => ({ avg1: loadavg()[0] ?? 0, cores: availableParallelism() });

export class TelemetrySampler {
  readonly #roots: SysRoots;
  readonly #rtt = new Map<string, RttEstimator>();
  #lastCpu: CpuTimes | null = null;

  constructor(private readonly opts: TelemetryOptions = {}) {
    this.#roots = opts.roots ?? REAL_ROOTS;
    this.#lastCpu = readCpuTimes(this.#roots);
  }

  /** A measured round trip to `peer` (e.g. `hub`), from a request/reply ping on the live link. */
  rtt(peer: string, sampleMs: number): void {
    let e = this.#rtt.get(peer);
    if (e === undefined) this.#rtt.set(peer, (e = new RttEstimator()));
    e.add(sampleMs);
  }

  sample(): Telemetry {
    const rtt_to: Record<string, number> = {};
    for (const [peer, e] of this.#rtt) if (e.value !== null) rtt_to[peer] = e.value;
    return {
      load: this.#load(),
      cpu: this.#cpu(),
      mem: readMemory(this.#roots),
      temp_c: readTempC(this.#roots),
      battery: readBattery(this.#roots),
      metered_network: this.opts.meteredNetwork ?? null,
      rtt_to,
    };
  }

  #load(): number | null {
    try {
      const { avg1, cores } = (this.opts.load ?? osLoad)();
      return cores > 0 && Number.isFinite(avg1) ? Math.round((avg1 / cores) * 1000) / 1000 : null;
    } catch {
      return null;
    }
  }

  /** Busy fraction since the previous sample (or since construction for the first). */
  #cpu(): number | null {
    const now = readCpuTimes(this.#roots);
    const before = this.#lastCpu;
    this.#lastCpu = now;
    if (now === null || before === null || now.total <= before.total) return null;
    return Math.round(((now.busy - before.busy) / (now.total - before.total)) * 1000) / 1000;
  }
}
