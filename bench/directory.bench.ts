/**
 * The subnet directory under a fleet: one real hub process (`node dist/agent/main.js run --role
 * hub`, its embedded MQTT broker, no nats-server) and N simulated members (default 500), each an
 * MQTT client that logs in with the subnet token as a real member would, announces its manifest
 * once and then sends `telemetry.heartbeat` every 5 s (the default interval), spread evenly over
 * the interval, with telemetry that changes every beat and capabilities that never change.
 *
 * Printed, over a measuring window after every member is listed online: the hub's CPU (share of
 * one core, from /proc/<pid>/stat) and RSS, heartbeats taken per second, capacity rewrites per
 * minute (from the hub's /metrics: should be 0, nothing changes), and the raw limit measured in
 * the same run: better-sqlite3 doing the hub's per-heartbeat SQL (the same tables and pragmas, one
 * transaction per heartbeat) as fast as it can, in CPU µs per heartbeat, against the hub's CPU µs
 * per heartbeat (broker, JSON, validation, bus, directory and SQLite together).
 *
 *   npm run build && node dist/bench/directory.bench.js [members] [window_s]   # default 500 60
 */
import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import Database from "better-sqlite3";
import { connectAsync as mqttConnect, type MqttClient } from "mqtt";
import type { Envelope } from "../abi/envelope.js";
import type { Manifest } from "../abi/manifest.js";
import { agentEvt, subjectToTopic, telemetrySubject } from "../abi/subjects.js";
import { systemClock } from "../agent/core/clock.js";
import { createEnvelope } from "../agent/core/envelope.js";
import { DirectoryStore } from "../agent/directory/directory-store.js";
import { buildManifest } from "../agent/directory/manifest.js";
import { rssBytes } from "./bench-util.js";
import { Cleanups, Scratch } from "./outbox-util.js";
import { freePort } from "../test/helpers.js";

const MEMBERS = Number(process.argv[2] ?? 500);
const WINDOW_S = Number(process.argv[3] ?? 60);
/** The raw hub's window: its CPU use is steady, half as long is enough. */
const RAW_WINDOW_S = Math.max(10, Math.round(WINDOW_S / 2));
const HEARTBEAT_MS = 5000;
const TOKEN = "bench-token-0123456789abcdef";
const HUB_ID = "hub-1";
/** Connections opened at once while the fleet joins (the broker authenticates each). */
const JOIN_BATCH = 50;
/** The raw SQLite loop: this many heartbeat transactions, round robin over the fleet. */
const RAW_WRITES = 100_000;
const MAIN = fileURLToPath(new URL("../agent/main.js", import.meta.url));

for (const [name, v] of [["members", MEMBERS], ["window_s", WINDOW_S]] as const) {
  if (!Number.isInteger(v) || v < 1) throw new Error(`usage: node dist/bench/directory.bench.js [members] [window_s]  (${name} must be a positive integer)`);
}

const cleanups = new Cleanups();
cleanups.onSignals();
const scratch = new Scratch(cleanups, "directory");

const CLK_TCK = 100; // USER_HZ on Linux, whatever the kernel's HZ

function cpuSeconds(pid: number): number {
  // Fields after the command name "(…)": state is field 3; utime and stime are fields 14 and 15.
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
}

const mb = (b: number): string => `${(b / 1024 / 1024).toFixed(1)} MB`;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface Hub {
  readonly child: ChildProcess;
  readonly pid: number;
  readonly url: string;
  readonly mqttPort: number;
}

async function startHub(): Promise<Hub> {
  const [apiPort, mqttPort] = [await freePort(), await freePort()];
  const url = `http://127.0.0.1:${apiPort}`;
  const child = spawn(process.execPath, [...(process.env.BENCH_HUB_NODE_ARGS ?? "").split(" ").filter(Boolean), MAIN, "run", "--role", "hub", "--node-id", HUB_ID, "--data-dir", scratch.subdir("hub"), "--api-port", String(apiPort), "--mqtt-port", String(mqttPort)], {
    env: { ...process.env, ADAOS_EDGE_TOKEN: TOKEN, ADAOS_EDGE_NATS_SERVER_BIN: "", ADAOS_EDGE_LOG_LEVEL: "warn" },
    stdio: ["ignore", "ignore", "inherit"],
  });
  cleanups.after(async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once("exit", r));
    child.kill("SIGTERM");
    await exited;
  });
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`the hub exited (${child.exitCode ?? child.signalCode}) before it was ready; is this Node 22 (node_modules/.bin/node)?`);
    if (await fetch(`${url}/health/ready`).then((r) => r.ok, () => false)) break;
    if (Date.now() > deadline) throw new Error("the hub was not ready in 30 s");
    await sleep(50);
  }
  return { child, pid: child.pid ?? 0, url, mqttPort };
}

/** The hub's /metrics as name{labels} → value. */
async function metrics(hub: Hub): Promise<Map<string, number>> {
  const text = await (await fetch(`${hub.url}/metrics`, { headers: { "x-adaos-token": TOKEN } })).text();
  const out = new Map<string, number>();
  for (const line of text.split("\n")) {
    const m = /^([a-z_]+(?:\{[^}]*\})?) (\S+)$/.exec(line);
    if (m?.[1] !== undefined && m[2] !== undefined) out.set(m[1], Number(m[2]));
  }
  return out;
}

class Member {
  readonly manifest: Manifest;
  readonly #source: string;
  #seq = 0;
  #client: MqttClient | undefined;
  #timer: NodeJS.Timeout | undefined;

  constructor(readonly id: string) {
    this.#source = `agent://member/${id}`;
    this.manifest = buildManifest({
      nodeId: id, kind: "member", tags: ["bench"],
      capabilities: [{ id: "capability://sensor.read", prio: 50, cost: 0, inputs: [], outputs: ["application/json"], probe: { kind: "internal", check: "always" } }],
    });
  }

  async connect(port: number): Promise<void> {
    this.#client = await mqttConnect(`mqtt://127.0.0.1:${port}`, {
      clientId: `${this.id}@agent`, username: this.id, password: TOKEN, reconnectPeriod: 0, connectTimeout: 30_000, keepalive: 60,
    });
  }

  #publish(subject: string, envelope: Envelope): void {
    this.#client?.publish(subjectToTopic(subject), JSON.stringify(envelope), { qos: 1 });
  }

  announce(): void {
    this.#publish(agentEvt(this.id), createEnvelope({
      event_name: "net.subnet.node.announced", version: 1, source: this.#source, priority: 2,
      payload: { manifest: this.manifest, hostname: `${this.id}.local` },
    }, systemClock));
  }

  /** Heartbeats every HEARTBEAT_MS from `offsetMs` on; telemetry moves every beat, capabilities never. */
  beatEvery(offsetMs: number): void {
    const beat = (): void => {
      const seq = this.#seq++;
      this.#publish(telemetrySubject(this.id, "heartbeat"), createEnvelope({
        event_name: "telemetry.heartbeat", version: 1, source: this.#source, priority: 4,
        payload: {
          node_id: this.id, seq, revision: this.manifest.revision,
          telemetry: {
            load: Math.round(Math.random() * 100) / 100, cpu: Math.round(Math.random() * 100) / 100,
            mem: { used: 0.4, available_bytes: 1_073_741_824 }, temp_c: 45 + (seq % 10), battery: null, metered_network: false, rtt_to: { hub: 2 + Math.random() },
          },
          capabilities: [{ id: "capability://sensor.read", status: "up" }],
        },
      }, systemClock));
    };
    setTimeout(() => {
      beat();
      this.#timer = setInterval(beat, HEARTBEAT_MS);
    }, offsetMs);
  }

  async close(): Promise<void> {
    clearInterval(this.#timer);
    await this.#client?.endAsync(true);
  }
}

/**
 * better-sqlite3 doing what the hub's store does with the fleet's heartbeats, on the same schema
 * and pragmas: a second's worth of them (members / 5) written in one transaction.
 */
function rawSqlite(members: readonly Member[]): { cpuUsPerWrite: number; writesPerSecond: number } {
  const dir = scratch.subdir("raw");
  DirectoryStore.open(dir, systemClock).close(); // the directory's schema (its migrations), nothing else
  const db = new Database(join(dir, "directory.db"));
  try {
    db.pragma("journal_mode = WAL");
    db.pragma("synchronous = FULL");
    db.pragma("foreign_keys = ON");
    const add = db.prepare("INSERT INTO subnet_nodes (node_id, kind, online, last_seen, revision) VALUES (?, 'member', 1, ?, ?)");
    db.transaction(() => {
      for (const m of members) add.run(m.id, Date.now() / 1000, m.manifest.revision);
    })();
    const touch = db.prepare("UPDATE subnet_nodes SET online = 1, last_seen = ? WHERE node_id = ?");
    const telemetry = db.prepare("INSERT INTO node_telemetry (node_id, telemetry, updated_at) VALUES (?, ?, ?) ON CONFLICT(node_id) DO UPDATE SET telemetry = excluded.telemetry, updated_at = excluded.updated_at");
    const perSecond = Math.max(1, Math.round((members.length * 1000) / HEARTBEAT_MS));
    const flush = db.transaction((ids: readonly string[], text: string, now: number) => {
      for (const id of ids) {
        touch.run(now, id);
        telemetry.run(id, text, now);
      }
    });
    const sample = JSON.stringify({ load: 0.21, cpu: 0.08, mem: { used: 0.4, available_bytes: 1_073_741_824 }, temp_c: 51, battery: null, metered_network: false, rtt_to: { hub: 2.5 } });
    const cpu0 = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < RAW_WRITES; i += perSecond) {
      const ids = Array.from({ length: perSecond }, (_, k) => members[(i + k) % members.length]?.id ?? "");
      flush(ids, sample, Date.now() / 1000);
    }
    const wallS = Number(process.hrtime.bigint() - t0) / 1e9;
    const cpu = process.cpuUsage(cpu0);
    const rows = (db.prepare("SELECT count(*) AS n FROM node_telemetry").get() as { n: number }).n;
    if (rows !== Math.min(members.length, RAW_WRITES)) throw new Error(`raw SQLite: ${rows} telemetry rows, expected ${members.length}`);
    return { cpuUsPerWrite: (cpu.user + cpu.system) / RAW_WRITES, writesPerSecond: RAW_WRITES / wallS };
  } finally {
    db.close();
  }
}

/** The fleet, connected to `port` in batches; each member announces and then beats every HEARTBEAT_MS. */
async function joinFleet(port: number): Promise<Member[]> {
  const members = Array.from({ length: MEMBERS }, (_, i) => new Member(`bench-${String(i).padStart(4, "0")}`));
  cleanups.after(async () => {
    await Promise.all(members.map((m) => m.close().catch(() => undefined)));
  });
  for (let i = 0; i < members.length; i += JOIN_BATCH) {
    await Promise.all(members.slice(i, i + JOIN_BATCH).map((m) => m.connect(port)));
    process.stdout.write(`\r  joining: ${Math.min(i + JOIN_BATCH, members.length)}/${members.length} connected`);
  }
  for (const m of members) m.announce();
  members.forEach((m, i) => m.beatEvery((i * HEARTBEAT_MS) / members.length));
  return members;
}

interface Window {
  readonly seconds: number;
  /** CPU seconds the measured process used in the window. */
  readonly cpuS: number;
  readonly peakRss: number;
  /** CPU share of one core the bench process (the simulated fleet) used. */
  readonly fleetShare: number;
}

async function measure(pid: number, seconds: number, label: string): Promise<Window> {
  const cpu0 = cpuSeconds(pid);
  const fleet0 = process.cpuUsage();
  const t0 = Date.now();
  let peakRss = 0;
  while (Date.now() - t0 < seconds * 1000) {
    await sleep(1000);
    peakRss = Math.max(peakRss, rssBytes(pid));
    process.stdout.write(`\r  measuring ${label}: ${Math.round((Date.now() - t0) / 1000)}/${seconds} s`);
  }
  const fleet = process.cpuUsage(fleet0);
  const elapsed = (Date.now() - t0) / 1000;
  process.stdout.write("\n");
  return { seconds: elapsed, cpuS: cpuSeconds(pid) - cpu0, peakRss, fleetShare: (fleet.user + fleet.system) / 1e6 / elapsed };
}

const share = (w: Window): string => `${((w.cpuS / w.seconds) * 100).toFixed(1)}% of a core`;

/** The same fleet against the raw hub (raw-mqtt-hub.ts): CPU µs per heartbeat. */
async function rawHub(): Promise<{ window: Window; usPerBeat: number; rss: number }> {
  const child = spawn(process.execPath, [fileURLToPath(new URL("./raw-mqtt-hub.js", import.meta.url))], { stdio: ["ignore", "pipe", "inherit"] });
  const stopped = new Promise((r) => child.once("exit", r));
  const stop = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill("SIGTERM");
    await stopped;
  };
  cleanups.after(stop);
  const port = await new Promise<number>((resolve, reject) => {
    let out = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => {
      out += d;
      const m = /ready (\d+)/.exec(out);
      if (m?.[1] !== undefined) resolve(Number(m[1]));
    });
    child.once("exit", (code, signal) => reject(new Error(`the raw hub exited (${code ?? signal}) before it was ready`)));
  });
  const members = await joinFleet(port);
  process.stdout.write("\n");
  await sleep(HEARTBEAT_MS);
  const window = await measure(child.pid ?? 0, RAW_WINDOW_S, "the raw hub");
  const rss = rssBytes(child.pid ?? 0);
  await Promise.all(members.map((m) => m.close()));
  await stop();
  const beats = (MEMBERS * window.seconds * 1000) / HEARTBEAT_MS;
  return { window, usPerBeat: (window.cpuS * 1e6) / beats, rss };
}

async function main(): Promise<void> {
  console.log(`directory benchmark: ${MEMBERS} simulated members over MQTT, a heartbeat every ${HEARTBEAT_MS / 1000} s each, ${WINDOW_S} s measuring window`);
  if (scratch.onTmpfs) console.log("  warning: the scratch directory is on tmpfs, where fsync costs nothing");

  const raw = await rawHub();
  const sqlite = rawSqlite(Array.from({ length: MEMBERS }, (_, i) => new Member(`raw-${i}`)));

  const hub = await startHub();
  const idleCpu0 = cpuSeconds(hub.pid);
  await sleep(5000);
  const idleShare = (cpuSeconds(hub.pid) - idleCpu0) / 5;
  console.log(`  our hub ready; idle with no members: CPU ${(idleShare * 100).toFixed(1)}% of a core, RSS ${mb(rssBytes(hub.pid))}`);
  const t0 = Date.now();
  const members = await joinFleet(hub.mqttPort);
  for (;;) {
    const online = (await metrics(hub)).get('adaos_directory_nodes{state="online"}') ?? 0;
    process.stdout.write(`\r  joining: ${members.length}/${members.length} connected, ${online} listed online        `);
    if (online >= members.length + 1) break; // the members and the hub itself
    if (Date.now() - t0 > 120_000) throw new Error(`only ${online} nodes online after 120 s`);
    await sleep(500);
  }
  console.log(`\n  all ${members.length} listed online ${((Date.now() - t0) / 1000).toFixed(1)} s after the first connection`);
  await sleep(HEARTBEAT_MS); // one full round of heartbeats before measuring

  const before = await metrics(hub);
  const w = await measure(hub.pid, WINDOW_S, "our hub");
  const after = await metrics(hub);
  const delta = (name: string): number => (after.get(name) ?? 0) - (before.get(name) ?? 0);
  const heartbeats = delta('adaos_directory_heartbeats_total{outcome="ok"}');
  const unknown = delta('adaos_directory_heartbeats_total{outcome="unknown"}');
  const capacityWrites = delta("adaos_directory_capacity_writes_total");
  const flushes = delta("adaos_directory_heartbeat_flushes_total");
  const online = after.get('adaos_directory_nodes{state="online"}') ?? 0;
  const expected = (members.length * w.seconds * 1000) / HEARTBEAT_MS;
  if (heartbeats < 0.9 * expected) throw new Error(`the hub took ${heartbeats} heartbeats in ${w.seconds.toFixed(0)} s, expected about ${Math.round(expected)}`);
  const oursUs = (w.cpuS * 1e6) / heartbeats;

  console.log(`\n  our hub, ${members.length} members     CPU ${share(w)}   RSS ${mb(rssBytes(hub.pid))} (peak ${mb(w.peakRss)})`);
  console.log(`  heartbeats taken           ${(heartbeats / w.seconds).toFixed(1)}/s (${heartbeats} in ${w.seconds.toFixed(0)} s; from unknown nodes: ${unknown}); ${online} nodes online`);
  console.log(`  directory commits          ${(flushes / w.seconds).toFixed(2)}/s (${flushes} transactions for ${heartbeats} heartbeats)`);
  console.log(`  capacity rewrites          ${((capacityWrites * 60) / w.seconds).toFixed(1)}/min (${capacityWrites} in the window; nothing changed)`);
  console.log(`  the simulated fleet        CPU ${(w.fleetShare * 100).toFixed(1)}% of a core (the bench process, same machine)`);
  console.log("");
  console.log(`  raw limit 1  aedes + one client, JSON.parse only   CPU ${share(raw.window)}   ${raw.usPerBeat.toFixed(0)} µs per heartbeat   RSS ${mb(raw.rss)}`);
  console.log(`  raw limit 2  better-sqlite3, the same writes       ${sqlite.cpuUsPerWrite.toFixed(1)} µs CPU per heartbeat (${(sqlite.writesPerSecond / 1000).toFixed(0)}k/s, a second's worth per transaction, synchronous=FULL)`);
  console.log(`  ours         the whole hub                         ${oursUs.toFixed(0)} µs CPU per heartbeat   ${(oursUs / raw.usPerBeat).toFixed(2)}× raw limit 1   (raw 1 + raw 2 = ${(raw.usPerBeat + sqlite.cpuUsPerWrite).toFixed(0)} µs)`);
  console.log(`  headroom     one core at this cost: ~${Math.floor(1e6 / oursUs)} heartbeats/s = ~${Math.floor((1e6 / oursUs) * (HEARTBEAT_MS / 1000))} members at ${HEARTBEAT_MS / 1000} s (CPU only)`);
}

try {
  await main();
} catch (err) {
  if (!cleanups.interrupted) {
    console.error(err);
    process.exitCode = 1;
  }
} finally {
  await cleanups.run();
}
