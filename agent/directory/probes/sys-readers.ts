/**
 * Reading the kernel's numbers from /proc and /sys under configurable roots, so tests run on a fake
 * tree (a battery discharging over time, a box with no thermal zones). Each reader returns null
 * when its file is missing or not what it should be — a probe that cannot measure says so with
 * null, it never throws.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

export interface SysRoots {
  /** Default `/sys`. */
  readonly sys: string;
  /** Default `/proc`. */
  readonly proc: string;
}

export const REAL_ROOTS: SysRoots = { sys: "/sys", proc: "/proc" };

function read(path: string): string | null {
  try {
    return readFileSync(path, "utf8").trim();
  } catch {
    return null;
  }
}

function list(dir: string): string[] {
  try {
    return readdirSync(dir).sort();
  } catch {
    return [];
  }
}

function number(text: string | null): number | null {
  if (text === null || text === "") return null;
  const n = Number(text);
  return Number.isFinite(n) ? n : null;
}

/** The hottest thermal zone in °C (the kernel gives millidegrees); null when there is none. */
export function readTempC(roots: SysRoots): number | null {
  const base = join(roots.sys, "class/thermal");
  const temps = list(base)
    .filter((z) => z.startsWith("thermal_zone"))
    .map((z) => number(read(join(base, z, "temp"))))
    .filter((t): t is number => t !== null);
  return temps.length === 0 ? null : Math.round(Math.max(...temps) / 100) / 10;
}

export interface Battery {
  readonly percent: number;
  readonly charging: boolean;
}

/**
 * The first power supply (by name) whose `type` is Battery: `capacity` in percent and `status`
 * (Charging and Full count as charging: the node is on external power). Null when there is none.
 */
export function readBattery(roots: SysRoots): Battery | null {
  const base = join(roots.sys, "class/power_supply");
  for (const name of list(base)) {
    if (read(join(base, name, "type")) !== "Battery") continue;
    const percent = number(read(join(base, name, "capacity")));
    if (percent === null || percent < 0 || percent > 100) return null;
    const status = read(join(base, name, "status")) ?? "";
    return { percent, charging: status === "Charging" || status === "Full" };
  }
  return null;
}

export interface Memory {
  /** Used fraction, 0..1. */
  readonly used: number;
  readonly available_bytes: number;
}

/** From /proc/meminfo: MemAvailable against MemTotal (kB). */
export function readMemory(roots: SysRoots): Memory | null {
  const text = read(join(roots.proc, "meminfo"));
  if (text === null) return null;
  const field = (name: string): number | null => number(new RegExp(`^${name}:\\s+(\\d+) kB$`, "m").exec(text)?.[1] ?? null);
  const total = field("MemTotal");
  const available = field("MemAvailable");
  if (total === null || available === null || total <= 0 || available > total) return null;
  return { used: Math.round((1 - available / total) * 1000) / 1000, available_bytes: available * 1024 };
}

export interface CpuTimes {
  readonly busy: number;
  readonly total: number;
}

/** The aggregate `cpu` line of /proc/stat: busy (everything but idle and iowait) and total jiffies. */
export function readCpuTimes(roots: SysRoots): CpuTimes | null {
  const line = read(join(roots.proc, "stat"))?.split("\n").find((l) => l.startsWith("cpu "));
  if (line === undefined) return null;
  const fields = line.trim().split(/\s+/).slice(1).map(Number);
  if (fields.length < 4 || fields.some((f) => !Number.isFinite(f))) return null;
  const total = fields.reduce((a, b) => a + b, 0);
  const idle = (fields[3] ?? 0) + (fields[4] ?? 0);
  return { busy: total - idle, total };
}
