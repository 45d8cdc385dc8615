/**
 * A real nats-server for tests (model: nats.js nst/src/launcher.ts): a generated config in a temp
 * dir, a free loopback port, ready when it accepts TCP connections, SIGKILLed after the test.
 * kill() and start() again on the same port simulate a broker outage.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { join } from "node:path";
import { freePort, GiveUp, killChild, tempDir, waitFor } from "./helpers.js";

interface After {
  after(fn: () => void | Promise<void>): void;
}

/** nats-server writes its config and starts listening in tens of ms; 10 s means it will not. */
const READY_TIMEOUT_MS = 10_000;
/** Debian installs it in /usr/sbin, which is not on every user's PATH. */
const CANDIDATES = ["nats-server", "/usr/sbin/nats-server", "/usr/local/bin/nats-server"];
const INSTALL = "apt-get install -y nats-server   (or: bash buildscripts/system-deps.sh)";

export interface NatsServerOptions {
  /** Extra config lines (e.g. `max_payload: 4096`). */
  readonly config?: string;
}

export interface NatsServer {
  readonly port: number;
  readonly url: string;
  /** stderr of the current process (nats-server logs there). */
  log(): string;
  /** SIGKILL and wait for the exit. */
  kill(): Promise<void>;
  /** Start again on the same port and config; resolves when it accepts connections. */
  start(): Promise<void>;
}

/** The nats-server binary, or a failure that says how to install it (never a silent skip). */
export function natsServerBinary(): string {
  for (const bin of CANDIDATES) {
    if (bin.includes("/") ? existsSync(bin) : spawnSync(bin, ["--version"]).status === 0) return bin;
  }
  throw new Error(`nats-server is not installed; install it with: ${INSTALL}`);
}

export async function startNatsServer(t: After, opts: NatsServerOptions = {}): Promise<NatsServer> {
  const bin = natsServerBinary();
  const dir = tempDir(t, "adaos-nats-");
  const port = await freePort();
  const conf = join(dir, "nats-server.conf");
  writeFileSync(conf, [`host: 127.0.0.1`, `port: ${port}`, `server_name: test_${port}`, opts.config ?? ""].join("\n") + "\n");
  let child: ChildProcess | undefined;
  let stderr = "";

  const kill = async (): Promise<void> => {
    const c = child;
    child = undefined;
    await killChild(c);
  };

  const start = async (): Promise<void> => {
    if (child !== undefined) throw new Error("nats-server is already running");
    stderr = "";
    const c = spawn(bin, ["-c", conf], { cwd: dir, stdio: ["ignore", "ignore", "pipe"] });
    child = c;
    c.stderr?.setEncoding("utf8").on("data", (d: string) => (stderr += d));
    await waitFor(`nats-server accepting connections on ${port}`, async () => {
      if (c.exitCode !== null) throw new GiveUp(`nats-server exited ${c.exitCode}: ${stderr}`);
      return (await accepts(port)) ? true : undefined;
    }, READY_TIMEOUT_MS, 20);
  };

  t.after(kill);
  await start();
  return { port, url: `nats://127.0.0.1:${port}`, log: () => stderr, kill, start };
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: "127.0.0.1", port });
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}
