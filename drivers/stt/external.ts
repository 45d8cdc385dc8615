/**
 * The external-command adapter: any offline engine a user installs (a Russian model, whisper.cpp,
 * vosk in a script) plugged in as a program that takes one utterance as a 16 kHz mono WAV and
 * prints its text.
 *
 * Rules of this file:
 * - One run of the program per utterance, started without a shell (argv as given), so nothing
 *   in it is ever interpreted.
 * - input "wav-stdin": the WAV goes to its stdin. input "wav-file": the WAV is written to a temp
 *   file whose path replaces `{wav}` in the arguments (at least one must hold it); the file is
 *   removed when the run ends.
 * - The text is stdout trimmed, first line. Exit code 0 with no output is "" (heard nothing).
 * - A non-zero exit, a signal or the timeout (its process group is then SIGKILLed, so a wrapper
 *   script's own children go too) rejects with the
 *   program, the exit status and the tail of its stderr; health turns degraded with that
 *   message until a run succeeds.
 * - start() checks the program exists and is executable; stop() kills runs in flight and rejects
 *   their transcriptions.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { constants } from "node:fs";
import { access, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { performance } from "node:perf_hooks";
import type { DriverCapability, DriverContext, DriverHealth } from "../../abi/driver.js";
import { HealthState } from "../shared/health.js";
import { abortReason, emptyUtterance, STT_CAPABILITY, STT_DRIVER_NAME, type SttEngine, type Transcription } from "./engine.js";
import { wavFile } from "./wav.js";

export const DEFAULT_COMMAND_TIMEOUT_MS = 10_000;
export const WAV_PLACEHOLDER = "{wav}";
/** Stdout kept per run: far more than one utterance's text. */
const MAX_STDOUT = 64 * 1024;
/** Stderr characters quoted in an error. */
const STDERR_TAIL = 600;
const LANG = /^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$/;

export interface ExternalOptions {
  /** The program and its arguments; with input "wav-file" an argument holds {wav}. */
  readonly argv: readonly string[];
  /** BCP 47 language the engine recognises (e.g. ru). */
  readonly lang: string;
  /** Longest run per utterance; default 10 s. */
  readonly timeoutMs?: number;
  readonly input: "wav-stdin" | "wav-file";
}

function checkOptions(o: ExternalOptions): void {
  const bad = (what: string): never => {
    throw new Error(`stt command: ${what}`);
  };
  if (!Array.isArray(o.argv) || o.argv.length === 0 || !o.argv.every((a) => typeof a === "string" && a.length > 0)) bad("argv must be a non-empty list of non-empty strings (the program first)");
  if (typeof o.lang !== "string" || !LANG.test(o.lang)) bad(`lang ${JSON.stringify(o.lang)} must be a BCP 47 tag such as en or ru`);
  if (o.input !== "wav-stdin" && o.input !== "wav-file") bad(`input ${JSON.stringify(o.input)} must be "wav-stdin" or "wav-file"`);
  const holdsWav = o.argv.slice(1).some((a) => a.includes(WAV_PLACEHOLDER));
  if (o.input === "wav-file" && !holdsWav) bad(`input "wav-file" needs an argument holding ${WAV_PLACEHOLDER} (where the WAV's path goes)`);
  if (o.input === "wav-stdin" && holdsWav) bad(`input "wav-stdin" gives the WAV on stdin; an argument holds ${WAV_PLACEHOLDER} — did you mean input "wav-file"?`);
  if (o.timeoutMs !== undefined && !(Number.isFinite(o.timeoutMs) && o.timeoutMs > 0)) bad(`timeoutMs ${String(o.timeoutMs)} must be a positive number of milliseconds`);
}

/** Resolves when `program` (a path, or a name looked up on PATH) is an executable file. */
async function findProgram(program: string): Promise<void> {
  const candidates = program.includes("/") ? [program] : (process.env.PATH ?? "").split(delimiter).filter((d) => d.length > 0).map((d) => join(d, program));
  for (const c of candidates) {
    try {
      await access(c, constants.X_OK);
      return;
    } catch {
      // not this one
    }
  }
  throw new Error(program.includes("/") ? `stt command: ${program} is not an executable file` : `stt command: ${program} was not found on PATH (${process.env.PATH ?? ""})`);
}

export class ExternalStt implements SttEngine {
  readonly name = STT_DRIVER_NAME;
  readonly engine = "command";
  readonly lang: string;
  readonly capabilities: readonly DriverCapability[] = [STT_CAPABILITY];

  readonly #argv: readonly string[];
  readonly #input: ExternalOptions["input"];
  readonly #timeoutMs: number;
  readonly #health: HealthState;
  #dir: string | undefined;
  #runs = 0;
  /** Runs in flight and how to fail each. */
  readonly #inFlight = new Map<ChildProcess, (err: Error) => void>();

  constructor(opts: ExternalOptions, ctx: DriverContext) {
    checkOptions(opts);
    this.#argv = [...opts.argv];
    this.#input = opts.input;
    this.#timeoutMs = opts.timeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS;
    this.lang = opts.lang;
    this.#health = new HealthState(ctx.now ?? Date.now);
  }

  health(): DriverHealth {
    return this.#health.get();
  }

  async start(): Promise<void> {
    if (this.#health.get().state !== "stopped") return;
    this.#health.set("starting");
    try {
      await findProgram(this.#argv[0] ?? "");
      if (this.#input === "wav-file") this.#dir = await mkdtemp(join(tmpdir(), "adaos-sttcmd-"));
      this.#health.set("up");
    } catch (err) {
      await this.stop();
      throw err;
    }
  }

  async stop(): Promise<void> {
    const stopped = new Error("stt command: the driver was stopped");
    const exits = [...this.#inFlight].map(([child, fail]) => {
      fail(stopped);
      return new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) resolve();
        else child.once("close", () => resolve());
      });
    });
    await Promise.all(exits);
    const dir = this.#dir;
    this.#dir = undefined;
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
    if (this.#health.get().state !== "stopped") this.#health.set("stopped");
  }

  async transcribe(pcm: Buffer, signal?: AbortSignal): Promise<Transcription> {
    const t0 = performance.now();
    if (emptyUtterance(pcm, signal)) return { text: "", ms: 0 };
    const { state } = this.#health.get();
    if (state !== "up" && state !== "degraded") throw new Error(`stt command: the driver is ${state}, not started`);
    const wav = wavFile(pcm);
    let file: string | undefined;
    let args = this.#argv.slice(1);
    if (this.#input === "wav-file") {
      const path = join(this.#dir ?? tmpdir(), `utterance-${++this.#runs}.wav`);
      file = path;
      await writeFile(path, wav);
      args = args.map((a) => a.split(WAV_PLACEHOLDER).join(path));
    }
    try {
      const text = await this.#run(args, this.#input === "wav-stdin" ? wav : undefined, signal);
      this.#health.recover();
      return { text, ms: performance.now() - t0 };
    } catch (err) {
      if (this.#health.get().state === "up" && !(signal?.aborted ?? false)) this.#health.set("degraded", (err as Error).message);
      throw err;
    } finally {
      if (file !== undefined) await rm(file, { force: true });
    }
  }

  /** One run of the program: resolves with its text, rejects with its exit status and stderr. */
  #run(args: readonly string[], stdin: Buffer | undefined, signal: AbortSignal | undefined): Promise<string> {
    const program = this.#argv[0] ?? "";
    return new Promise((resolve, reject) => {
      // Its own process group, so a wrapper script's children die with it.
      const child = spawn(program, args, { stdio: [stdin === undefined ? "ignore" : "pipe", "pipe", "pipe"], detached: true });
      const { stdout: out, stderr: err } = child as ChildProcess & { stdout: NodeJS.ReadableStream; stderr: NodeJS.ReadableStream };
      let stdout = "";
      let stderr = "";
      let failure: Error | undefined;
      const fail = (err: Error): void => {
        failure ??= err;
        killGroup(child);
      };
      const onAbort = (): void => fail(signal === undefined ? new Error("stt command: aborted") : abortReason(signal));
      const timer = setTimeout(() => fail(new Error(`stt command: ${program} took longer than ${this.#timeoutMs} ms${tailOf(stderr)}`)), this.#timeoutMs);
      signal?.addEventListener("abort", onAbort, { once: true });
      this.#inFlight.set(child, fail);

      out.setEncoding("utf8").on("data", (s: string) => {
        if (stdout.length < MAX_STDOUT) stdout += s;
      });
      err.setEncoding("utf8").on("data", (s: string) => {
        stderr = (stderr + s).slice(-4 * STDERR_TAIL);
      });
      child.stdin?.on("error", () => undefined); // an engine that does not read stdin closes it early
      child.stdin?.end(stdin);
      child.on("error", (err: NodeJS.ErrnoException) => {
        failure ??= new Error(err.code === "ENOENT" ? `stt command: ${program} was not found` : `stt command: ${program} could not be started: ${err.message}`);
      });
      child.on("close", (code, sig) => {
        clearTimeout(timer);
        signal?.removeEventListener("abort", onAbort);
        this.#inFlight.delete(child);
        if (failure !== undefined) reject(failure);
        else if (code === 0) resolve(stdout.trim().split("\n")[0]?.trim() ?? "");
        else reject(new Error(`stt command: ${program} ${sig !== null ? `was killed by ${sig}` : `exited with code ${String(code)}`}${tailOf(stderr)}`));
      });
    });
  }
}

function killGroup(child: ChildProcess): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, "SIGKILL");
  } catch {
    child.kill("SIGKILL"); // the group is gone already; make sure of the child itself
  }
}

function tailOf(stderr: string): string {
  const t = stderr.trim();
  return t.length === 0 ? "" : `; stderr: ${t.length > STDERR_TAIL ? "…" + t.slice(-STDERR_TAIL) : t}`;
}
