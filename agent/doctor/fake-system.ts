/**
 * A fake System for the doctor's tests (not used at run time): by default a healthy Pi hub —
 * glibc 2.36, Node 22, a writable data dir on ext4 with room, free ports, a USB microphone and
 * HDMI audio, nats-server installed, the clock synchronised. Tests override what they need.
 */
import type { Config } from "../config/config.js";
import { loadConfig } from "../config/load.js";
import type { DoctorContext } from "./check.js";
import type { ConfigOutcome } from "./config.js";
import type { RunResult, SqliteFile, System } from "./system.js";

export const EXT4 = 0xef53;

export const ARECORD_USB = `**** List of CAPTURE Hardware Devices ****
card 2: Device [USB PnP Sound Device], device 0: USB Audio [USB Audio]
  Subdevices: 1/1
  Subdevice #0: subdevice #0
`;

export const APLAY_PI = `**** List of PLAYBACK Hardware Devices ****
card 0: vc4hdmi0 [vc4-hdmi-0], device 0: MAI PCM i2s-hifi-0 [MAI PCM i2s-hifi-0]
  Subdevices: 1/1
  Subdevice #0: subdevice #0
card 2: Device [USB PnP Sound Device], device 0: USB Audio [USB Audio]
  Subdevices: 1/1
  Subdevice #0: subdevice #0
`;

export const exited = (stdout: string, code = 0, stderr = ""): RunResult => ({ kind: "exited", code, stdout, stderr });

export const DEFAULT_COMMANDS: Readonly<Record<string, RunResult>> = {
  "arecord -l": exited(ARECORD_USB),
  "aplay -l": exited(APLAY_PI),
  "nats-server --version": exited("nats-server: v2.10.18\n"),
  "timedatectl show -p NTPSynchronized --value": exited("yes\n"),
};

/** An in-memory SQLite stand-in that behaves like a WAL database unless told otherwise. */
export function fakeSqlite(overrides: Partial<SqliteFile> = {}): SqliteFile & { closed: boolean } {
  const rows: unknown[] = [];
  const db = {
    closed: false,
    pragma: (source: string) => (/journal_mode\s*=\s*WAL/i.test(source) ? "wal" : undefined),
    run: (sql: string, ...params: readonly unknown[]) => {
      if (sql.startsWith("INSERT")) rows.push(params[0]);
    },
    value: (_sql: string, ...params: readonly unknown[]) => rows.find((r) => r === params[0]),
    close: () => {
      db.closed = true;
    },
    ...overrides,
  };
  return db;
}

export interface FakeSystem extends System {
  /** Every command line run, as "cmd arg arg". */
  readonly ran: string[];
  readonly removed: string[];
}

export function fakeSystem(overrides: Partial<System> & { commands?: Record<string, RunResult> } = {}): FakeSystem {
  const { commands = {}, ...rest } = overrides;
  const table: Record<string, RunResult> = { ...DEFAULT_COMMANDS, ...commands };
  const ran: string[] = [];
  const removed: string[] = [];
  return {
    ran,
    removed,
    platform: "linux",
    nodeVersion: "22.23.3",
    glibcVersion: () => "2.36",
    userName: () => "adaos-edge",
    run: (command, args) => {
      const line = [command, ...args].join(" ");
      ran.push(line);
      return Promise.resolve(table[line] ?? { kind: "not-found" });
    },
    readFile: (path) => Promise.resolve(path === "/etc/os-release" ? 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nID=debian\n' : null),
    exists: () => Promise.resolve(false),
    ensureDir: () => Promise.resolve(null),
    removeEmptyDir: (path) => {
      removed.push(path);
      return Promise.resolve();
    },
    checkWritable: () => Promise.resolve(),
    removeFile: (path) => {
      removed.push(path);
      return Promise.resolve();
    },
    statfs: () => Promise.resolve({ availableBytes: 20e9, totalBytes: 30e9, type: EXT4 }),
    tryListen: () => Promise.resolve("free"),
    httpGet: () => Promise.resolve(null),
    openSqlite: () => Promise.resolve(fakeSqlite()),
    ...rest,
  };
}

/** Built-in defaults for a role, with the data dir given. */
export function testConfig(role: "hub" | "member" = "hub", dataDir = "/var/lib/adaos-edge"): Config {
  const flags = [
    { path: ["role"], value: role, origin: "--role" },
    { path: ["data_dir"], value: dataDir, origin: "--data-dir" },
    { path: ["node_id"], value: "pi", origin: "--node-id" },
  ];
  return loadConfig({ env: {}, cwd: "/", file: "/dev/null", flags }).config;
}

export function context(system: System, config: Config = testConfig(), configOutcome?: ConfigOutcome): DoctorContext {
  return { config, system, configOutcome: configOutcome ?? { ok: true, loaded: { config, warnings: [] } } };
}
