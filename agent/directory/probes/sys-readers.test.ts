/**
 * Each /proc and /sys reader on its own, on a fake tree in a temp dir: the edge cases the sampler's
 * tests do not reach (several batteries, every status, half-valid thermal zones, old kernels
 * without MemAvailable, odd /proc/stat lines). Malformed input gives null, never a throw.
 */
import { strict as assert } from "node:assert";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { test } from "node:test";
import { readBattery, readCpuTimes, readMemory, readTempC, type SysRoots } from "./sys-readers.js";
import { TelemetrySampler } from "./telemetry.js";

interface After {
  after(fn: () => void): void;
}

function fakeTree(t: After): { roots: SysRoots; write: (path: string, text: string) => void } {
  const root = mkdtempSync(join(tmpdir(), "adaos-readers-"));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const write = (path: string, text: string): void => {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  };
  return { roots: { sys: join(root, "sys"), proc: join(root, "proc") }, write };
}

const MEMINFO = "MemTotal:        2000000 kB\nMemFree:          300000 kB\nMemAvailable:     500000 kB\n";

test("temp: the hottest valid zone wins; malformed zones and non-zone entries are skipped", (t) => {
  const { roots, write } = fakeTree(t);
  assert.equal(readTempC(roots), null, "no /sys/class/thermal at all");
  write("sys/class/thermal/cooling_device0/temp", "99000\n");
  assert.equal(readTempC(roots), null, "a cooling device is not a thermal zone");
  write("sys/class/thermal/thermal_zone0/temp", "");
  write("sys/class/thermal/thermal_zone1/temp", "warm\n");
  assert.equal(readTempC(roots), null, "only malformed zones");
  write("sys/class/thermal/thermal_zone2/temp", "-5000\n");
  write("sys/class/thermal/thermal_zone3/temp", "42049\n");
  assert.equal(readTempC(roots), 42, "millidegrees to °C, one decimal");
});

test("battery: the first Battery by name, every status, bad capacity gives null", (t) => {
  const { roots, write } = fakeTree(t);
  write("sys/class/power_supply/AC/type", "Mains\n");
  write("sys/class/power_supply/AC/online", "1\n");
  write("sys/class/power_supply/usb/type", "USB\n");
  assert.equal(readBattery(roots), null, "mains and USB only");

  write("sys/class/power_supply/BAT1/type", "Battery\n");
  write("sys/class/power_supply/BAT1/capacity", "90\n");
  write("sys/class/power_supply/BAT1/status", "Charging\n");
  write("sys/class/power_supply/BAT0/type", "Battery\n");
  write("sys/class/power_supply/BAT0/capacity", "35\n");
  write("sys/class/power_supply/BAT0/status", "Discharging\n");
  assert.deepEqual(readBattery(roots), { percent: 35, charging: false }, "BAT0 sorts before BAT1");

  const cases: ReadonlyArray<readonly [string, boolean]> = [
    ["Charging", true], ["Full", true], ["Discharging", false], ["Not charging", false], ["Unknown", false],
  ];
  for (const [status, charging] of cases) {
    write("sys/class/power_supply/BAT0/status", `${status}\n`);
    assert.equal(readBattery(roots)?.charging, charging, status);
  }

  for (const capacity of ["", "lots\n", "101\n", "-1\n"]) {
    write("sys/class/power_supply/BAT0/capacity", capacity);
    assert.equal(readBattery(roots), null, `capacity ${JSON.stringify(capacity)}`);
  }
});

test("mem: used fraction and available bytes; missing or inconsistent fields give null", (t) => {
  const { roots, write } = fakeTree(t);
  assert.equal(readMemory(roots), null, "no meminfo");
  write("proc/meminfo", MEMINFO);
  assert.deepEqual(readMemory(roots), { used: 0.75, available_bytes: 512_000_000 });
  for (const text of [
    "",
    "MemTotal:        2000000 kB\nMemFree:          300000 kB\n", // kernels before 3.14 have no MemAvailable
    "MemTotal:        0 kB\nMemAvailable:     0 kB\n",
    "MemTotal:        1000 kB\nMemAvailable:     2000 kB\n",
  ]) {
    write("proc/meminfo", text);
    assert.equal(readMemory(roots), null, JSON.stringify(text));
  }
});

test("cpu: busy and total jiffies from the aggregate line; malformed lines give null", (t) => {
  const { roots, write } = fakeTree(t);
  // user nice system idle iowait irq softirq steal guest guest_nice
  write("proc/stat", "cpu  10 20 30 400 40 5 5 0 0 0\ncpu0 10 20 30 400 40 5 5 0 0 0\n");
  assert.deepEqual(readCpuTimes(roots), { busy: 70, total: 510 }, "idle and iowait are not busy");
  for (const text of ["", "cpu0 1 2 3 4\n", "cpu  1 2\n", "cpu  1 2 x 4\n"]) {
    write("proc/stat", text);
    assert.equal(readCpuTimes(roots), null, JSON.stringify(text));
  }
});

test("cpu sampler: the fraction between two snapshots; a counter that does not advance gives null", (t) => {
  const { roots, write } = fakeTree(t);
  write("proc/stat", "cpu  100 0 0 900 0 0 0 0 0 0\n");
  const sampler = new TelemetrySampler({ roots, load: () => ({ avg1: 0, cores: 1 }) });
  write("proc/stat", "cpu  130 0 10 1000 0 0 0 0 0 0\n"); // 40 busy of 140
  assert.equal(sampler.sample().cpu, 0.286);
  assert.equal(sampler.sample().cpu, null, "same snapshot twice");
  write("proc/stat", "cpu  garbage\n");
  assert.equal(sampler.sample().cpu, null);
  write("proc/stat", "cpu  200 0 0 1000 0 0 0 0 0 0\n");
  assert.equal(sampler.sample().cpu, null, "no valid previous reading");
  write("proc/stat", "cpu  300 0 0 1000 0 0 0 0 0 0\n");
  assert.equal(sampler.sample().cpu, 1, "all busy");
});

test("load: per core, null for zero cores or a non-finite average", () => {
  assert.equal(new TelemetrySampler({ load: () => ({ avg1: 3, cores: 4 }) }).sample().load, 0.75);
  assert.equal(new TelemetrySampler({ load: () => ({ avg1: 3, cores: 0 }) }).sample().load, null);
  assert.equal(new TelemetrySampler({ load: () => ({ avg1: Number.NaN, cores: 4 }) }).sample().load, null);
});

test("metered_network: whatever it was given", () => {
  assert.equal(new TelemetrySampler({ meteredNetwork: false }).sample().metered_network, false);
  assert.equal(new TelemetrySampler({ meteredNetwork: true }).sample().metered_network, true);
  assert.equal(new TelemetrySampler().sample().metered_network, null);
});
