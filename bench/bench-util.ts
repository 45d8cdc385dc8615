/** Shared bits of the benchmarks: timing a run, the median of repeats, one printed report, a process's memory. */
import { readFileSync } from "node:fs";

export interface Figure {
  readonly name: string;
  readonly perSecond: number;
}

/** Run `fn` (which processes `n` items) `repeats` times and return the median rate per second. */
export async function rate(n: number, repeats: number, fn: () => Promise<void> | void): Promise<number> {
  const rates: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const t0 = process.hrtime.bigint();
    await fn();
    const ns = Number(process.hrtime.bigint() - t0);
    rates.push(n / (ns / 1e9));
  }
  rates.sort((a, b) => a - b);
  return rates[Math.floor(rates.length / 2)] ?? 0;
}

export function fmt(perSecond: number): string {
  return perSecond >= 1e6 ? `${(perSecond / 1e6).toFixed(2)}M/s` : `${(perSecond / 1e3).toFixed(1)}k/s`;
}

/** Print each figure with its ratio to the raw limit measured in the same run. */
export function report(title: string, raw: Figure, ours: readonly Figure[]): void {
  console.log(`\n${title}`);
  console.log(`  raw limit  ${raw.name.padEnd(44)} ${fmt(raw.perSecond).padStart(10)}`);
  for (const f of ours) {
    const ratio = f.perSecond / raw.perSecond;
    console.log(`  ours       ${f.name.padEnd(44)} ${fmt(f.perSecond).padStart(10)}   ratio ${ratio.toFixed(3)} (${(ratio * 100).toFixed(1)}% of raw)`);
  }
}

/** Resident memory of a process (VmRSS from /proc/<pid>/status), in bytes. */
export function rssBytes(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, "utf8").split("\n").find((l) => l.startsWith("VmRSS:")) ?? "VmRSS: 0 kB";
  return Number(/(\d+)/.exec(line)?.[1] ?? "0") * 1024;
}
