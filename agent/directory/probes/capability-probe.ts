/**
 * Capability probes: what each declared capability's `probe` says about it right now, for the
 * heartbeat. A capability without a probe is up while its node is. `http`: 2xx/3xx up, any other
 * status degraded, no answer (refused, timeout) down. `command`: exit 0 up, exit 1 degraded, any
 * other exit, a signal, a missing program or a timeout down — a command that overruns is killed
 * with its whole process group. `internal`: a check the node's own drivers registered by name.
 * Probes run in parallel and never throw; an error text is kept short for the wire.
 */
import { spawn } from "node:child_process";
import type { CapabilityDecl, Probe } from "../../../abi/manifest.js";
import type { CapabilityStatus } from "../heartbeat.js";

export type ProbeStatus = CapabilityStatus["status"];
export type InternalCheck = () => Promise<ProbeStatus> | ProbeStatus;

export interface CapabilityProbesOptions {
  readonly capabilities: readonly CapabilityDecl[];
  readonly internal?: Readonly<Record<string, InternalCheck>>;
  /** For probes that do not set timeout_ms; default 3000. */
  readonly defaultTimeoutMs?: number;
}

const MAX_ERROR = 200;

interface Outcome { readonly status: ProbeStatus; readonly error?: string }

function short(text: string): string {
  const one = text.replace(/\s+/g, " ").trim();
  return one.length <= MAX_ERROR ? one : `${one.slice(0, MAX_ERROR - 1)}…`;
}

function messageOf(e: unknown): string {
  if (e instanceof Error) {
    const cause = (e as { cause?: unknown }).cause;
    return cause instanceof Error ? `${e.message}: ${cause.message}` : e.message;
  }
  return String(e);
}

async function probeHttp(url: string, timeoutMs: number, signal?: AbortSignal): Promise<Outcome> {
  const timeout = AbortSignal.timeout(timeoutMs);
  const both = signal === undefined ? timeout : AbortSignal.any([timeout, signal]);
  try {
    const res = await fetch(url, { signal: both, redirect: "manual" });
    await res.body?.cancel().catch(() => undefined);
    return res.status >= 200 && res.status < 400 ? { status: "up" } : { status: "degraded", error: `HTTP ${res.status}` };
  } catch (e) {
    if (timeout.aborted) return { status: "down", error: `no answer from ${url} within ${timeoutMs} ms` };
    return { status: "down", error: `GET ${url}: ${messageOf(e)}` };
  }
}

function probeCommand(argv: readonly string[], timeoutMs: number, signal?: AbortSignal): Promise<Outcome> {
  const [cmd, ...args] = argv;
  if (cmd === undefined) return Promise.resolve({ status: "down", error: "probe command is empty" });
  return new Promise((resolve) => {
    let stderr = "";
    let timedOut = false;
    let settled = false;
    const done = (o: Outcome): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
      resolve(o);
    };
    const child = spawn(cmd, args, { stdio: ["ignore", "ignore", "pipe"], detached: true });
    const killGroup = (): void => {
      if (child.pid === undefined) return;
      try { process.kill(-child.pid, "SIGKILL"); } catch { /* already gone */ }
    };
    const onAbort = (): void => { killGroup(); };
    const timer = setTimeout(() => { timedOut = true; killGroup(); }, timeoutMs);
    signal?.addEventListener("abort", onAbort, { once: true });
    child.stderr.setEncoding("utf8");
    child.stderr.on("data", (chunk: string) => { if (stderr.length < 4 * MAX_ERROR) stderr += chunk; });
    child.on("error", (e: NodeJS.ErrnoException) => {
      done({ status: "down", error: e.code === "ENOENT" ? `${cmd}: command not found` : `${cmd}: ${e.message}` });
    });
    child.on("close", (code, sig) => {
      const tail = stderr.trim() === "" ? "" : `: ${stderr.trim()}`;
      if (timedOut) done({ status: "down", error: `${cmd} did not finish within ${timeoutMs} ms` });
      else if (sig !== null) done({ status: "down", error: `${cmd} killed by ${sig}` });
      else if (code === 0) done({ status: "up" });
      else if (code === 1) done({ status: "degraded", error: `${cmd} exited 1${tail}` });
      else done({ status: "down", error: `${cmd} exited ${code ?? "?"}${tail}` });
    });
  });
}

export class CapabilityProbes {
  readonly #caps: readonly CapabilityDecl[];
  readonly #internal: Readonly<Record<string, InternalCheck>>;
  readonly #timeoutMs: number;

  constructor(opts: CapabilityProbesOptions) {
    this.#caps = opts.capabilities;
    this.#internal = opts.internal ?? {};
    this.#timeoutMs = opts.defaultTimeoutMs ?? 3000;
  }

  /** One status per declared capability, in manifest order. */
  async run(signal?: AbortSignal): Promise<CapabilityStatus[]> {
    return Promise.all(this.#caps.map(async (c) => {
      const o = c.probe === undefined ? { status: "up" as const } : await this.#probe(c.probe, signal);
      return o.error === undefined ? { id: c.id, status: o.status } : { id: c.id, status: o.status, error: short(o.error) };
    }));
  }

  async #probe(probe: Probe, signal?: AbortSignal): Promise<Outcome> {
    try {
      switch (probe.kind) {
        case "http": return await probeHttp(probe.url, probe.timeout_ms ?? this.#timeoutMs, signal);
        case "command": return await probeCommand(probe.argv, probe.timeout_ms ?? this.#timeoutMs, signal);
        case "internal": return await this.#runInternal(probe.check);
      }
    } catch (e) {
      return { status: "down", error: messageOf(e) };
    }
  }

  async #runInternal(name: string): Promise<Outcome> {
    const check = this.#internal[name];
    if (check === undefined) {
      const known = Object.keys(this.#internal);
      return { status: "down", error: `no internal check "${name}" on this node (known: ${known.length === 0 ? "none" : known.join(", ")})` };
    }
    const status = await check();
    return status === "up" ? { status } : { status, error: `internal check ${name} reports ${status}` };
  }
}
