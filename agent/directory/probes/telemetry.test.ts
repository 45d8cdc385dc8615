import { strict as assert } from "node:assert";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { test } from "node:test";
import { RttEstimator } from "./rtt.js";
import { TelemetrySampler } from "./telemetry.js";

interface After {
  after(fn: () => void): void;
}

/** A fake /sys and /proc in a temp dir. */
function fakeTree(t: After) {
  const root = mkdtempSync(join(tmpdir(), "adaos-sys-"));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const write = (path: string, text: string) => {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  };
  return { roots: { sys: join(root, "sys"), proc: join(root, "proc") }, write };
}

const stat = (busy: number, idle: number) => `cpu  ${busy} 0 0 ${idle} 0 0 0 0 0 0\ncpu0 1 2 3 4\n`;

test("a fake tree: the hottest zone, a discharging battery that follows the files, memory and CPU since the last sample", (t) => {
  const { roots, write } = fakeTree(t);
  write("sys/class/thermal/thermal_zone0/temp", "48500\n");
  write("sys/class/thermal/thermal_zone1/temp", "61234\n");
  write("sys/class/power_supply/AC/type", "Mains\n");
  write("sys/class/power_supply/BAT0/type", "Battery\n");
  write("sys/class/power_supply/BAT0/capacity", "80\n");
  write("sys/class/power_supply/BAT0/status", "Discharging\n");
  write("proc/meminfo", "MemTotal:        4000000 kB\nMemFree:          100000 kB\nMemAvailable:    1000000 kB\n");
  write("proc/stat", stat(100, 900));
  const sampler = new TelemetrySampler({ roots, meteredNetwork: true, load: () => ({ avg1: 1.5, cores: 4 }) });
  write("proc/stat", stat(150, 950)); // 50 busy of 100 since construction

  const first = sampler.sample();
  assert.deepEqual(first, {
    load: 0.375, cpu: 0.5, mem: { used: 0.75, available_bytes: 1_024_000_000 }, temp_c: 61.2,
    battery: { percent: 80, charging: false }, metered_network: true, rtt_to: {},
  });
  for (const percent of [79, 78, 77]) {
    write("sys/class/power_supply/BAT0/capacity", `${percent}\n`);
    assert.equal(sampler.sample().battery?.percent, percent);
  }
  write("sys/class/power_supply/BAT0/status", "Charging\n");
  assert.equal(sampler.sample().battery?.charging, true);
  sampler.rtt("hub", 10);
  sampler.rtt("hub", 18);
  assert.deepEqual(sampler.sample().rtt_to, { hub: 11 });
});

test("no battery, no thermal zones, malformed or missing files: nulls, never a throw", (t) => {
  const { roots, write } = fakeTree(t);
  write("sys/class/power_supply/AC/type", "Mains\n");
  write("proc/meminfo", "MemTotal: lots\n");
  write("proc/stat", "intr 1 2 3\n");
  const s = new TelemetrySampler({ roots, load: () => { throw new Error("no loadavg"); } }).sample();
  assert.deepEqual(s, { load: null, cpu: null, mem: null, temp_c: null, battery: null, metered_network: null, rtt_to: {} });
  write("sys/class/power_supply/BAT0/type", "Battery\n");
  write("sys/class/power_supply/BAT0/capacity", "\n");
  write("sys/class/thermal/thermal_zone0/temp", "hot\n");
  const again = new TelemetrySampler({ roots }).sample();
  assert.equal(again.battery, null);
  assert.equal(again.temp_c, null);
});

test("on this machine: sane values from the real /proc", () => {
  const sampler = new TelemetrySampler();
  const s = sampler.sample();
  assert.ok(s.load !== null && s.load >= 0);
  assert.ok(s.mem !== null && s.mem.used > 0 && s.mem.used < 1 && s.mem.available_bytes > 0);
  const cpu = sampler.sample().cpu;
  assert.ok(cpu === null || (cpu >= 0 && cpu <= 1));
});

test("RTT smoothing: the first sample as is, then 7/8 old + 1/8 new; bad samples ignored", () => {
  const e = new RttEstimator();
  assert.equal(e.value, null);
  e.add(Number.NaN);
  e.add(-1);
  assert.equal(e.value, null);
  e.add(80);
  assert.equal(e.value, 80);
  e.add(0);
  assert.equal(e.value, 70);
  for (let i = 0; i < 100; i++) e.add(10);
  assert.equal(e.value, 10);
});
