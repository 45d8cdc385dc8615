/**
 * A hub's nats-server supervisor for tests: free loopback ports, a temp data dir, a hub user and
 * members (shared token), log lines captured as parsed JSON, stopped in t.after. Plus small nats.js
 * helpers: connect as a user, wait for a message, find processes running a given config.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { Writable } from "node:stream";
import { connect, type NatsConnection, type Subscription } from "nats";
import { componentLogger, createRootLogger } from "../agent/core/logger.js";
import { MetricsRegistry } from "../agent/core/metrics.js";
import type { LeafRemote } from "../agent/natsd/config-writer.js";
import { NatsdSupervisor, type NatsdOptions } from "../agent/natsd/supervisor.js";
import { randomSecret, subnetUsers, type NatsUser } from "../agent/natsd/users.js";
import { freePort, tempDir } from "./helpers.js";

interface After {
  after(fn: () => void | Promise<void>): void;
}

export const HUB_ID = "hub-1";
export const TOKEN = "subnet-token-0123456789";
export const MEMBERS = ["tv", "speaker"] as const;

export interface LogLine {
  readonly level: number;
  readonly msg: string;
  readonly component?: string;
  readonly pid?: number;
  readonly [k: string]: unknown;
}

export interface TestHub {
  readonly sup: NatsdSupervisor;
  readonly metrics: MetricsRegistry;
  readonly dir: string;
  readonly port: number;
  readonly monitorPort: number;
  readonly hubPassword: string;
  readonly users: readonly NatsUser[];
  logs(): LogLine[];
}

export interface TestHubOptions {
  readonly bin?: string | null;
  readonly leaf?: LeafRemote;
  readonly users?: (hubPassword: string) => NatsUser[];
  readonly dir?: string;
}

export async function makeHub(t: After, opts: TestHubOptions = {}): Promise<TestHub> {
  const dir = opts.dir ?? tempDir(t, "adaos-natsd-");
  const [port, monitorPort] = [await freePort(), await freePort()];
  const hubPassword = randomSecret();
  const users = opts.users?.(hubPassword) ?? subnetUsers({ hubId: HUB_ID, hubPassword, token: TOKEN, memberIds: [...MEMBERS] });
  const lines: LogLine[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const l of chunk.toString("utf8").split("\n")) if (l.trim() !== "") lines.push(JSON.parse(l) as LogLine);
      cb();
    },
  });
  const logger = componentLogger(createRootLogger({ level: "debug", nodeId: HUB_ID, destination }), "natsd");
  const metrics = new MetricsRegistry();
  const options: NatsdOptions = {
    bin: opts.bin === undefined ? "nats-server" : opts.bin,
    server: { nodeId: HUB_ID, host: "127.0.0.1", port, monitorPort, maxPayload: 1024 * 1024, dir: join(dir, "nats"), users, leaf: opts.leaf },
  };
  const sup = new NatsdSupervisor(options, { logger, metrics });
  t.after(() => sup.stop());
  return { sup, metrics, dir, port, monitorPort, hubPassword, users, logs: () => lines };
}

export async function natsAs(t: After, url: string | readonly string[], user: string, pass: string): Promise<NatsConnection> {
  const nc = await connect({ servers: typeof url === "string" ? url : [...url], user, pass, reconnectTimeWait: 50, maxReconnectAttempts: -1, name: user, timeout: 3_000 });
  t.after(() => nc.close());
  return nc;
}

export interface Collector {
  readonly sub: Subscription;
  /** Payloads received so far, as text, in order. */
  readonly received: string[];
  readonly errors: Error[];
}

/** Subscribe and keep every payload (and a permission error, if the server refuses it). */
export function collect(nc: NatsConnection, subject: string): Collector {
  const received: string[] = [];
  const errors: Error[] = [];
  const sub = nc.subscribe(subject, {
    callback: (err, msg) => {
      if (err !== null) errors.push(err);
      else received.push(new TextDecoder().decode(msg.data));
    },
  });
  return { sub, received, errors };
}

/** Pids of live processes whose command line mentions `needle` (Linux /proc). */
export function processesWith(needle: string): number[] {
  const out: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, "utf8").split("\0").includes(needle)) out.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}
