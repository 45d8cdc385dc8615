/**
 * aplay behind the speaker driver: one `aplay -q [-D <device>] -` per WAV, the WAV on its stdin.
 *
 * Rules of this file:
 * - No shell, argv only. One playback at a time: play() calls queue in call order, so phrases
 *   never overlap. stop() kills the player, drops the queue and waits for the player to exit.
 * - Success is exit code 0. A non-zero exit rejects with the command, the device, the code and
 *   the last lines of stderr (a machine without a sound card fails here, with aplay's own
 *   "audio open error"). A player that exits without reading its stdin is judged by its exit
 *   code, not by the broken pipe.
 * - A playback running timeoutMs past the sound's own length is killed (a wedged device).
 *   Killing is SIGTERM to the player's process group (a wrapper script's children too), then
 *   SIGKILL if it is still there after KILL_GRACE_MS.
 * - start() runs `<command> --version` and rejects naming the program when it is missing.
 * - health: up once started; degraded after a failed playback (detail: why) until one succeeds.
 */
import { spawn } from "node:child_process";
import { performance } from "node:perf_hooks";
import type { DriverCapability, DriverContext, DriverHealth } from "../../abi/driver.js";
import { HealthState } from "../shared/health.js";
import { stderrTail } from "../shared/stderr-tail.js";
import type { Playback, SpeakerDriver } from "./index.js";

/** aplay exits at once on SIGTERM; a player that does not is SIGKILLed after this. */
const KILL_GRACE_MS = 1_000;
/** `--version` answers at once; longer means the program is not what we think it is. */
const VERSION_TIMEOUT_MS = 5_000;
const STDERR_KEEP = 2_000;

interface Settings {
  readonly command: string;
  readonly device: string | null;
  readonly timeoutMs: number;
}

type KillReason = "timeout" | "abort" | "stop";

function cannotRun(command: string, err: NodeJS.ErrnoException): Error {
  const why = err.code === "ENOENT" ? "was not found: install alsa-utils (apt-get install alsa-utils) or set the command option to its path" : `cannot be run: ${err.message}`;
  return new Error(`speaker: ${command} ${why}`, { cause: err });
}

/** Seconds of sound in a PCM WAV (from its length, not its header sizes, which streamed WAVs leave as placeholders); null when it is no RIFF/WAVE. */
export function wavSeconds(wav: Buffer): number | null {
  if (wav.length < 12 || wav.toString("latin1", 0, 4) !== "RIFF" || wav.toString("latin1", 8, 12) !== "WAVE") return null;
  let byteRate = 0;
  for (let at = 12; at + 8 <= wav.length; ) {
    const id = wav.toString("latin1", at, at + 4);
    const size = wav.readUInt32LE(at + 4);
    if (id === "fmt " && at + 20 <= wav.length) byteRate = wav.readUInt32LE(at + 16);
    if (id === "data") return byteRate > 0 ? (wav.length - at - 8) / byteRate : null;
    at += 8 + size + (size & 1); // chunks are padded to an even length
  }
  return null;
}

/** Why an aborted playback rejects: the signal's reason when it is an Error (an AbortError by default). */
function aborted(signal: AbortSignal | undefined): Error {
  const reason: unknown = signal?.reason;
  return reason instanceof Error ? reason : new Error("speaker: playback aborted", { cause: reason });
}

/** Resolves once `previous` has settled; rejects at once if the signal aborts first. */
function waitTurn(previous: Promise<unknown>, signal?: AbortSignal): Promise<void> {
  if (signal === undefined) return previous.then(() => undefined);
  return new Promise<void>((resolve, reject) => {
    const onAbort = () => reject(aborted(signal));
    signal.addEventListener("abort", onAbort, { once: true });
    void previous.then(() => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    });
  });
}

export class AplaySpeaker implements SpeakerDriver {
  readonly name = "speaker";
  readonly capabilities: readonly DriverCapability[] = [{ id: "capability://audio.play", inputs: ["wav"] }];
  /** Settles (never rejects) when the last queued playback and all before it have. */
  #tail: Promise<unknown> = Promise.resolve();
  /** Ends the playing player, if one is playing. */
  #killCurrent: ((why: KillReason) => void) | undefined;
  /** Bumped by stop(): playbacks queued before it never start. */
  #epoch = 0;
  readonly #health: HealthState;

  constructor(private readonly settings: Settings, private readonly ctx: DriverContext) {
    this.#health = new HealthState(ctx.now ?? Date.now);
  }

  start(): Promise<void> {
    return this.#health.starting(async () => {
      const version = await this.#version();
      this.ctx.logger.info({ command: this.settings.command, device: this.settings.device, version }, "speaker ready");
    });
  }

  async stop(): Promise<void> {
    this.#epoch += 1;
    this.#health.set("stopped");
    this.#killCurrent?.("stop");
    await this.#tail;
  }

  health(): DriverHealth {
    return this.#health.get();
  }

  play(wav: Buffer, signal?: AbortSignal): Promise<Playback> {
    const { state } = this.#health.get();
    if (state !== "up" && state !== "degraded") return Promise.reject(new Error(`speaker driver is ${state}: start() it before play()`));
    const seconds = wavSeconds(wav);
    if (seconds === null) return Promise.reject(new Error(`speaker: the ${wav.length} bytes to play are not a RIFF/WAVE file`));
    if (signal?.aborted === true) return Promise.reject(aborted(signal));
    const epoch = this.#epoch;
    const previous = this.#tail;
    // Aborted while waiting, a WAV leaves the queue at once; the next one still waits for the
    // one playing. Aborted while playing, it rejects once the player has exited.
    const turn = waitTurn(previous, signal).then(() => this.#playNow(wav, seconds, epoch, signal));
    this.#tail = Promise.allSettled([previous, turn]);
    return turn;
  }

  #playNow(wav: Buffer, seconds: number, epoch: number, signal?: AbortSignal): Promise<Playback> {
    if (epoch !== this.#epoch) return Promise.reject(new Error("speaker: stopped before this sound was played"));
    if (signal?.aborted === true) return Promise.reject(aborted(signal));
    const { command, device, timeoutMs } = this.settings;
    const what = device === null ? `${command} (ALSA default device)` : `${command} -D ${device}`;
    return new Promise<Playback>((resolve, reject) => {
      const began = performance.now();
      // Its own process group, so that a wrapper script's children end with it.
      const child = spawn(command, ["-q", ...(device === null ? [] : ["-D", device]), "-"], { stdio: ["pipe", "ignore", "pipe"], detached: true });
      let stderr = "";
      let killedFor: KillReason | undefined;
      let grace: NodeJS.Timeout | undefined;
      const signalGroup = (sig: NodeJS.Signals) => {
        try {
          if (child.pid !== undefined) process.kill(-child.pid, sig);
        } catch {
          // the group is gone already
        }
      };
      const kill = (why: KillReason) => {
        killedFor ??= why;
        signalGroup("SIGTERM");
        grace ??= setTimeout(() => signalGroup("SIGKILL"), KILL_GRACE_MS);
      };
      const onAbort = () => kill("abort");
      const limitMs = Math.ceil(seconds * 1000) + timeoutMs;
      const timer = setTimeout(() => kill("timeout"), limitMs);
      signal?.addEventListener("abort", onAbort, { once: true });
      this.#killCurrent = kill;
      const settle = () => {
        clearTimeout(timer);
        clearTimeout(grace);
        signal?.removeEventListener("abort", onAbort);
        if (this.#killCurrent === kill) this.#killCurrent = undefined;
      };
      child.stderr.on("data", (c: Buffer) => (stderr = (stderr + c.toString("utf8")).slice(-STDERR_KEEP)));
      child.stdin.on("error", () => undefined); // EPIPE: the player gave up before reading; its exit code says why
      child.stdin.end(wav);
      let spawnFailed = false;
      child.once("error", (err: NodeJS.ErrnoException) => {
        spawnFailed = true;
        settle();
        const failure = cannotRun(command, err);
        this.#health.set("degraded", failure.message);
        reject(failure);
      });
      child.once("close", (code, sig) => {
        if (spawnFailed) return; // close follows a failed spawn; the error said it all
        settle();
        const ms = performance.now() - began;
        if (killedFor === "abort") return reject(aborted(signal));
        if (killedFor === "stop") return reject(new Error(`speaker: ${what} was stopped during playback`));
        const failure =
          killedFor === "timeout" ? `speaker: ${what} was still playing ${limitMs} ms after starting a ${seconds.toFixed(1)} s sound and was killed`
          : code !== 0 ? `speaker: ${what} exited with ${code === null ? `signal ${sig}` : `code ${code}`}: ${stderrTail(stderr)}`
          : undefined;
        if (failure !== undefined) {
          this.#health.set("degraded", failure);
          return reject(new Error(failure));
        }
        this.#health.recover();
        resolve({ ms });
      });
    });
  }

  /** The first line of `<command> --version`; rejects naming the program when it cannot run. */
  #version(): Promise<string> {
    const { command } = this.settings;
    return new Promise<string>((resolve, reject) => {
      const child = spawn(command, ["--version"], { stdio: ["ignore", "pipe", "pipe"] });
      let out = "";
      const timer = setTimeout(() => child.kill("SIGKILL"), VERSION_TIMEOUT_MS);
      child.stdout.on("data", (c: Buffer) => (out += c.toString("utf8")));
      child.stderr.on("data", (c: Buffer) => (out += c.toString("utf8")));
      child.once("error", (err: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        reject(cannotRun(command, err));
      });
      child.once("close", (code, sig) => {
        clearTimeout(timer);
        if (code === 0) resolve(out.trim().split("\n")[0] ?? "");
        else reject(new Error(`speaker: ${command} --version exited with ${code ?? `signal ${sig}`}: ${stderrTail(out)}`));
      });
    });
  }
}
