/**
 * Helpers for tests that start real processes: free ports, a temp data dir, an agent child
 * process that is always killed after the test, and polling with a deadline.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

export const MAIN = fileURLToPath(new URL("../agent/main.js", import.meta.url));
export const REPO_ROOT = fileURLToPath(new URL("../../", import.meta.url));

interface After {
  after(fn: () => void | Promise<void>): void;
}

/**
 * A temp dir removed after the test. Hooks run in the order they were added, so a process started
 * later may still be writing into the dir (nats-server's JetStream files) when this one runs: a
 * failed removal must not fail the test or skip the hooks that stop those processes; it is
 * tried again when the test process exits.
 */
export function tempDir(t: After, prefix = "adaos-test-"): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const remove = () => rmSync(dir, { recursive: true, force: true, maxRetries: 3, retryDelay: 50 });
  t.after(() => {
    try {
      remove();
    } catch {
      process.once("exit", () => {
        try {
          remove();
        } catch {
          // left in the system's temp dir; nothing else to do at exit
        }
      });
    }
  });
  return dir;
}

/** SIGKILL a child process (if it still runs) and wait until it has exited. */
export async function killChild(c: ChildProcess | undefined): Promise<void> {
  if (c === undefined || c.exitCode !== null || c.signalCode !== null) return;
  const exited = new Promise((resolve) => c.once("exit", resolve));
  c.kill("SIGKILL");
  await exited;
}

/** A TCP port that was free a moment ago (the OS picks it). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      const port = typeof addr === "object" && addr !== null ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

export interface Proc {
  readonly child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Resolves with the exit code (or the signal name) once the process has exited. */
  readonly exited: Promise<number | string>;
}

/** Start `node dist/agent/main.js <args>`; it is SIGKILLed after the test if still running. */
export function runCli(t: After, args: readonly string[], opts: { cwd?: string; env?: Record<string, string> } = {}): Proc {
  // Hubs in tests never take the well-known broker ports (tests run in parallel): MQTT on a port
  // the OS picks, and no nats-server unless a test asks for one.
  const env: Record<string, string | undefined> = { ...process.env, ADAOS_EDGE_MQTT_PORT: "0", ADAOS_EDGE_NATS_SERVER_BIN: "", ...opts.env };
  for (const k of Object.keys(env)) {
    if (k.startsWith("ADAOS_EDGE_") && !(k in (opts.env ?? {})) && k !== "ADAOS_EDGE_MQTT_PORT" && k !== "ADAOS_EDGE_NATS_SERVER_BIN") delete env[k];
  }
  const child = spawn(process.execPath, [MAIN, ...args], { cwd: opts.cwd ?? REPO_ROOT, env, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  let err = "";
  child.stdout.setEncoding("utf8").on("data", (d: string) => (out += d));
  child.stderr.setEncoding("utf8").on("data", (d: string) => (err += d));
  const exited = new Promise<number | string>((resolve) => child.once("exit", (code, signal) => resolve(code ?? signal ?? -1)));
  t.after(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill("SIGKILL");
      await exited;
    }
  });
  return { child, stdout: () => out, stderr: () => err, exited };
}

/** Thrown from a waitFor() probe to stop waiting at once (e.g. the process died). */
export class GiveUp extends Error {}

export async function waitFor<T>(what: string, fn: () => Promise<T | undefined> | T | undefined, timeoutMs = 10_000, everyMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastErr: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined && v !== false) return v;
    } catch (err) {
      if (err instanceof GiveUp) throw err;
      lastErr = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastErr instanceof Error ? `: ${lastErr.message}` : ""}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** Within `ms`, or reject naming what did not happen. */
export async function within<T>(ms: number, what: string, p: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not happen within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([p, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** The subnet token every test agent runs with. */
export const TOKEN = "test-token-0123456789abcdef";

/** GET (no body) or POST JSON to an agent's API with the test token; status and parsed body. */
export async function call<T>(url: string, path: string, body?: unknown): Promise<{ status: number; body: T }> {
  const res = await fetch(`${url}${path}`, {
    method: body === undefined ? "GET" : "POST",
    headers: { "x-adaos-token": TOKEN, ...(body === undefined ? {} : { "content-type": "application/json" }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, body: (await res.json()) as T };
}

export interface RunningAgent extends Proc {
  readonly url: string;
  readonly dataDir: string;
  readonly token: string;
}

/** Start a hub (or member) on `apiPort` (default: a free port) with a temp data dir and a known token; wait until ready. */
export async function startAgent(t: After, extraArgs: readonly string[] = [], env: Record<string, string> = {}, apiPort?: number): Promise<RunningAgent> {
  const port = apiPort ?? (await freePort());
  const dataDir = tempDir(t, "adaos-agent-");
  const token = TOKEN;
  const proc = runCli(t, ["run", "--api-port", String(port), "--data-dir", dataDir, "--node-id", "test-hub", ...extraArgs], {
    cwd: dataDir,
    env: { ADAOS_EDGE_TOKEN: token, ADAOS_EDGE_LOG_LEVEL: "debug", ...env },
  });
  const url = `http://127.0.0.1:${port}`;
  await waitFor(`agent ready on ${url} (stderr: ${proc.stderr()})`, async () => {
    if (proc.child.exitCode !== null) throw new GiveUp(`agent exited ${proc.child.exitCode}: ${proc.stderr()}`);
    const res = await fetch(`${url}/health/ready`);
    return res.status === 200 ? true : undefined;
  });
  return { ...proc, url, dataDir, token };
}
