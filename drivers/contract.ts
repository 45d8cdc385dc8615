/**
 * The shared contract test of abi/driver.ts: every driver's own test file calls
 * driverContract("mic", () => …) with a factory that builds a working instance (fakes of the
 * programs it spawns are allowed here: this tests the driver's promises, not the device), and
 * gets the same checks: declared capabilities well-formed, health() shaped and cheap before start,
 * after start and after stop, start → up (or degraded), stop idempotent and never rejecting,
 * stop before start harmless, and no child process of ours left after stop.
 */
import { strict as assert } from "node:assert";
import { readdirSync, readFileSync } from "node:fs";
import { test, type TestContext } from "node:test";
import type { Driver, DriverHealth, DriverLogger } from "../abi/driver.js";

const CAPABILITY = /^capability:\/\/[a-z0-9][a-z0-9_-]*(\.[a-z0-9][a-z0-9_-]*)+$/;
const STATES = new Set(["stopped", "starting", "up", "degraded", "down"]);

/** A logger that keeps what it was told, for tests. */
export function memoryLogger(): DriverLogger & { readonly lines: { level: string; obj: object; msg?: string }[] } {
  const lines: { level: string; obj: object; msg?: string }[] = [];
  const at = (level: string) => (obj: object, msg?: string) => void lines.push({ level, obj, ...(msg === undefined ? {} : { msg }) });
  return { lines, debug: at("debug"), info: at("info"), warn: at("warn"), error: at("error") };
}

function checkHealth(h: DriverHealth, when: string): void {
  assert.ok(STATES.has(h.state), `${when}: health().state ${String(h.state)} is not a DriverState`);
  assert.ok(Number.isInteger(h.restarts) && h.restarts >= 0, `${when}: restarts must be a count`);
  assert.ok(Number.isFinite(h.since), `${when}: since must be epoch ms`);
}

/** Pids of this process's live children (Linux /proc); zombies do not count. */
export function childPids(): number[] {
  const out: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (Number(fields[1]) === process.pid && fields[0] !== "Z") out.push(Number(entry));
    } catch {
      // the process ended while we looked
    }
  }
  return out;
}

async function noChildrenLeft(before: readonly number[], what: string): Promise<void> {
  const deadline = Date.now() + 3000;
  for (;;) {
    const left = childPids().filter((p) => !before.includes(p));
    if (left.length === 0) return;
    if (Date.now() > deadline) assert.fail(`${what}: child processes left after stop(): ${left.join(", ")}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

export interface ContractOptions {
  /** The state start() must reach; default "up". */
  readonly startedState?: "up" | "degraded";
  /** How long start() may take; default 10 s. */
  readonly startTimeoutMs?: number;
}

/** Registers the contract's tests for one driver. `make` is called once per test. */
export function driverContract(label: string, make: (t: TestContext) => Driver | Promise<Driver>, opts: ContractOptions = {}): void {
  test(`${label}: driver contract — name, declared capabilities and health before start`, async (t) => {
    const d = await make(t);
    assert.equal(typeof d.name, "string");
    assert.ok(d.name.length > 0, "a driver has a registry name");
    for (const c of d.capabilities) {
      assert.match(c.id, CAPABILITY, `capability id ${c.id}`);
      for (const f of [...(c.inputs ?? []), ...(c.outputs ?? [])]) assert.ok(typeof f === "string" && f.length > 0, `format ${String(f)}`);
    }
    checkHealth(d.health(), "before start");
    assert.equal(d.health().state, "stopped", "a driver not started is stopped");
    await d.stop(); // stop before start is harmless
    checkHealth(d.health(), "after stop before start");
  });

  test(`${label}: driver contract — start reaches ${opts.startedState ?? "up"}, stop is idempotent and leaves no child process`, async (t) => {
    const before = childPids();
    const d = await make(t);
    t.after(() => d.stop());
    const started = d.start();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([started, new Promise((_, reject) => (timer = setTimeout(() => reject(new Error("start() took too long")), opts.startTimeoutMs ?? 10_000)))]).finally(() => clearTimeout(timer));
    checkHealth(d.health(), "after start");
    assert.equal(d.health().state, opts.startedState ?? "up", JSON.stringify(d.health()));
    await d.stop();
    await d.stop();
    checkHealth(d.health(), "after stop");
    assert.equal(d.health().state, "stopped");
    await noChildrenLeft(before, label);
  });
}
