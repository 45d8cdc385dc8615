/**
 * The display of a TV without a browser: each play() runs `mpv --fs --no-terminal
 * --force-window=yes --force-media-title=<title> -- <url>` (program and leading flags
 * configurable) and answers once the process is still alive SETTLE_MS later — mpv that cannot
 * open its window, its video output or the URL exits within that moment, and the rejection then
 * carries its exit code and last stderr lines.
 * Rules: one playback at a time — a new play() kills the previous one first; stop() kills it and
 * leaves no process behind (mpv runs in its own process group, which is signalled whole: TERM,
 * then KILL after KILL_AFTER_MS); start() fails when the program is not found. A playback that
 * ends by itself (the film is over) is no fault.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { accessSync, constants } from "node:fs";
import { delimiter, isAbsolute, join } from "node:path";
import type { DriverCapability, DriverContext, DriverHealth } from "../../abi/driver.js";
import { HealthState } from "../shared/health.js";
import { DISPLAY_CAPABILITY, admitPlay, onAbort, type DisplayDriver, type PlayAck, type PlayRequest } from "./display.js";

export const MPV_INPUTS: readonly string[] = ["webm", "mp4", "mkv", "hls"];
export const MPV_ARGS: readonly string[] = ["--fs", "--no-terminal", "--force-window=yes"];
/** Long enough for mpv to fail on a missing display or an unreachable URL, short for a step's SLA. */
export const SETTLE_MS = 700;
/** How long mpv gets to quit on SIGTERM before SIGKILL. */
const KILL_AFTER_MS = 2000;
const STDERR_LINES = 5;

export interface MpvOptions {
  readonly command?: string;
  readonly args?: readonly string[];
  readonly inputs?: readonly string[];
  readonly settleMs?: number;
}

interface Playback {
  readonly child: ChildProcess;
  readonly exited: Promise<void>;
  readonly stderr: string[];
}

export class MpvDisplay implements DisplayDriver {
  readonly name = "display";
  readonly capabilities: readonly DriverCapability[];
  readonly #command: string;
  readonly #args: readonly string[];
  readonly #settleMs: number;
  readonly #now: () => number;
  readonly #health: HealthState;
  #playback: Playback | undefined;

  constructor(options: MpvOptions, private readonly ctx: DriverContext) {
    this.capabilities = [{ id: DISPLAY_CAPABILITY, inputs: [...(options.inputs ?? MPV_INPUTS)] }];
    this.#command = options.command ?? "mpv";
    this.#args = options.args ?? MPV_ARGS;
    this.#settleMs = options.settleMs ?? SETTLE_MS;
    this.#now = ctx.now ?? Date.now;
    this.#health = new HealthState(this.#now);
  }

  start(): Promise<void> {
    if (findProgram(this.#command) === undefined) {
      return Promise.reject(new Error(`the display program ${this.#command} is not found on PATH; install it (apt-get install mpv) or set display.command`));
    }
    this.#health.set("up");
    return Promise.resolve();
  }

  async stop(): Promise<void> {
    await this.#kill();
    this.#health.set("stopped");
  }

  ready(): boolean {
    return this.#health.get().state === "up";
  }

  health(): DriverHealth {
    return this.#health.get();
  }

  async play(request: PlayRequest, signal?: AbortSignal): Promise<PlayAck> {
    const item = admitPlay(request, signal, this.#health.get().state);
    const started = this.#now();
    await this.#kill();
    const playback = this.#spawn(item);
    this.#playback = playback;
    const outcome = await new Promise<"alive" | "exited" | { aborted: unknown }>((resolve) => {
      const timer = setTimeout(() => resolve("alive"), this.#settleMs);
      const detach = onAbort(signal, (reason) => resolve({ aborted: reason }));
      void playback.exited.then(() => {
        clearTimeout(timer);
        detach();
        resolve("exited");
      });
    });
    if (outcome === "alive") return { ack_ms: this.#now() - started, shown_by: `${this.#command} pid ${playback.child.pid ?? "?"}` };
    if (outcome !== "exited") {
      await this.#kill();
      throw outcome.aborted instanceof Error ? outcome.aborted : new Error(String(outcome.aborted));
    }
    const { exitCode, signalCode } = playback.child;
    const how = exitCode !== null ? `exit code ${exitCode}` : signalCode !== null ? `signal ${signalCode}` : "failed to start";
    const tail = playback.stderr.slice(-STDERR_LINES).join("\n");
    throw new Error(`${this.#command} quit at once playing ${item.url} (${how})${tail.length > 0 ? `:\n${tail}` : ""}`);
  }

  #spawn(item: PlayRequest): Playback {
    const args = [...this.#args, `--force-media-title=${item.title}`, "--", item.url];
    const child = spawn(this.#command, args, { stdio: ["ignore", "ignore", "pipe"], detached: true });
    const stderr: string[] = [];
    child.stderr?.setEncoding("utf8");
    child.stderr?.on("data", (text: string) => {
      stderr.push(...text.split("\n").filter((l) => l.trim().length > 0));
      stderr.splice(0, Math.max(0, stderr.length - STDERR_LINES));
    });
    const exited = new Promise<void>((resolve) => {
      child.once("error", (err) => {
        stderr.push(err.message);
        resolve();
      });
      child.once("close", () => resolve());
    });
    void exited.then(() => this.ctx.logger.info({ pid: child.pid, code: child.exitCode, signal: child.signalCode }, "mpv playback ended"));
    this.ctx.logger.info({ pid: child.pid, url: item.url, play_id: item.play_id }, "mpv playback started");
    return { child, exited, stderr };
  }

  async #kill(): Promise<void> {
    const playback = this.#playback;
    if (playback === undefined) return;
    this.#playback = undefined;
    const { child } = playback;
    if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) {
      signalGroup(child.pid, "SIGTERM");
      const timer = setTimeout(() => signalGroup(child.pid ?? 0, "SIGKILL"), KILL_AFTER_MS);
      await playback.exited;
      clearTimeout(timer);
    }
    await playback.exited;
  }
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // the group is gone already
  }
}

/** The program's path when it is runnable: a path as given, a bare name searched on PATH. */
export function findProgram(command: string): string | undefined {
  const candidates = command.includes("/") ? [command] : (process.env.PATH ?? "").split(delimiter).filter((d) => isAbsolute(d)).map((d) => join(d, command));
  for (const path of candidates) {
    try {
      accessSync(path, constants.X_OK);
      return path;
    } catch {
      // not here
    }
  }
  return undefined;
}
