/**
 * espeak-ng behind the tts driver: one process per phrase,
 * `espeak-ng --stdout -v <voice> -s <rate> -- <text>`, its stdout kept as the WAV.
 *
 * Rules of this file:
 * - No shell, argv only. The text is the last argument, after `--`, so a text starting with "-"
 *   is spoken, never read as an option (an argument rather than stdin: espeak-ng reads stdin as
 *   a stream of lines and would start speaking before the text is complete). Control characters
 *   become spaces (argv cannot carry a NUL); an empty text or one over maxChars is refused.
 * - Success is exit code 0 and a RIFF/WAVE on stdout. Anything else rejects with the command,
 *   the voice, the exit code and the last lines of stderr. espeak-ng streams its WAV with
 *   placeholder sizes; they are set to the real ones so any WAV reader gets the true length.
 * - start() runs `<command> --version` and rejects naming the program when it is missing.
 * - health: up once started; degraded after a failed synthesis (detail: why) until one succeeds.
 *   stop() kills running syntheses and waits for them to exit.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { performance } from "node:perf_hooks";
import type { DriverCapability, DriverContext, DriverHealth } from "../../abi/driver.js";
import { HealthState } from "../shared/health.js";
import { stderrTail } from "../shared/stderr-tail.js";
import type { Synthesis, SynthesizeOptions, TtsDriver } from "./index.js";

export const DEFAULT_VOICE = "en-us";
/** espeak-ng voice names: en-us, en-us+f3, mb/mb-en1; no "..", no leading "-". */
export const VOICE_NAME = /^[a-z0-9][a-z0-9_+-]*(\/[a-z0-9][a-z0-9_+-]*)?$/i;
/** The voice for a phrase's language (its primary subtag), when no voice is configured. */
const LANG_VOICES: Readonly<Record<string, string>> = { en: "en-us", ru: "ru" };
/** Ends a hung espeak-ng only: a 2000-character phrase takes well under a second on a Pi 4. */
const SYNTH_TIMEOUT_MS = 30_000;
/** `--version` answers at once; longer means the program is not what we think it is. */
const VERSION_TIMEOUT_MS = 5_000;
/** How much of stderr is kept for error messages. */
const STDERR_KEEP = 2_000;
// C0 controls, DEL and C1 controls.
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/g;

interface Settings {
  readonly command: string;
  readonly voice: string | null;
  readonly rate: number;
  readonly maxChars: number;
}

interface Outcome {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: Buffer;
  readonly stderr: string;
  /** Why we ended it, when we did. */
  readonly killedFor?: KillReason;
}

type KillReason = "timeout" | "abort" | "stop";

/** Sets the RIFF and data chunk sizes of a streamed WAV to the real ones; null when it is no RIFF/WAVE with a data chunk. */
export function withTrueSizes(wav: Buffer): Buffer | null {
  if (wav.length < 12 || wav.toString("latin1", 0, 4) !== "RIFF" || wav.toString("latin1", 8, 12) !== "WAVE") return null;
  for (let at = 12; at + 8 <= wav.length; ) {
    const size = wav.readUInt32LE(at + 4);
    if (wav.toString("latin1", at, at + 4) === "data") {
      wav.writeUInt32LE(wav.length - at - 8, at + 4);
      wav.writeUInt32LE(wav.length - 8, 4);
      return wav;
    }
    at += 8 + size + (size & 1); // chunks are padded to an even length
  }
  return null;
}

export class EspeakTts implements TtsDriver {
  readonly name = "tts";
  readonly capabilities: readonly DriverCapability[] = [{ id: "capability://tts.synthesize", outputs: ["wav"] }];
  /** Running processes, each with the way to end it for a reason. */
  readonly #running = new Map<ChildProcess, (why: KillReason) => void>();
  readonly #health: HealthState;

  constructor(private readonly settings: Settings, private readonly ctx: DriverContext) {
    this.#health = new HealthState(ctx.now ?? Date.now);
  }

  start(): Promise<void> {
    const { command } = this.settings;
    return this.#health.starting(async () => {
      const out = await this.#run(["--version"], VERSION_TIMEOUT_MS);
      if (out.code !== 0) throw new Error(`tts: ${command} --version exited with ${out.code ?? out.signal}: ${stderrTail(out.stderr)}`);
      this.ctx.logger.info({ command, version: out.stdout.toString("utf8").trim() }, "tts ready");
    });
  }

  async stop(): Promise<void> {
    this.#health.set("stopped");
    const exits = [...this.#running].map(([child, kill]) => new Promise<void>((done) => {
      child.once("close", () => done());
      kill("stop");
    }));
    await Promise.all(exits);
  }

  health(): DriverHealth {
    return this.#health.get();
  }

  async synthesize(text: string, opts: SynthesizeOptions = {}, signal?: AbortSignal): Promise<Synthesis> {
    const { state } = this.#health.get();
    if (state !== "up" && state !== "degraded") throw new Error(`tts driver is ${state}: start() it before synthesize()`);
    const said = text.replace(CONTROL, " ").trim();
    if (said.length === 0) throw new Error("tts: nothing to say (the text is empty)");
    if (said.length > this.settings.maxChars) throw new Error(`tts: the text is ${said.length} characters; the limit (maxChars) is ${this.settings.maxChars}`);
    const voice = this.#voiceFor(opts);
    const began = performance.now();
    const out = await this.#run(["--stdout", "-v", voice, "-s", String(this.settings.rate), "--", said], SYNTH_TIMEOUT_MS, signal);
    const ms = performance.now() - began;
    if (out.killedFor === "abort") throw signal?.reason instanceof Error ? signal.reason : new Error("tts: synthesis aborted", { cause: signal?.reason });
    const what = `tts: ${this.settings.command} -v ${voice}`;
    const failure =
      out.killedFor === "stop" ? `${what}: the driver was stopped during synthesis`
      : out.killedFor === "timeout" ? `${what} did not finish within ${SYNTH_TIMEOUT_MS} ms and was killed`
      : out.code !== 0 ? `${what} exited with ${out.code ?? out.signal}: ${stderrTail(out.stderr)}`
      : undefined;
    const wav = failure === undefined ? withTrueSizes(out.stdout) : null;
    if (wav === null) {
      const why = failure ?? `${what} exited 0 but wrote no RIFF/WAVE (${out.stdout.length} bytes; stderr: ${stderrTail(out.stderr)})`;
      if (out.killedFor !== "stop") this.#health.set("degraded", why);
      throw new Error(why);
    }
    this.#health.recover();
    return { wav, ms };
  }

  #voiceFor(opts: SynthesizeOptions): string {
    if (opts.voice !== undefined) {
      if (!VOICE_NAME.test(opts.voice)) throw new Error(`tts: ${JSON.stringify(opts.voice)} is not an espeak-ng voice name (e.g. en-us, ru, en-us+f3)`);
      return opts.voice;
    }
    if (this.settings.voice !== null) return this.settings.voice;
    if (opts.lang === undefined) return DEFAULT_VOICE;
    const primary = opts.lang.toLowerCase().split(/[-_]/)[0] ?? "";
    const voice = LANG_VOICES[primary];
    if (voice !== undefined) return voice;
    this.ctx.logger.warn({ lang: opts.lang, voice: DEFAULT_VOICE, known: Object.keys(LANG_VOICES) }, "tts: no voice for this language; speaking it with the default voice");
    return DEFAULT_VOICE;
  }

  /** Runs the program once; rejects only when it cannot be started. */
  #run(args: readonly string[], timeoutMs: number, signal?: AbortSignal): Promise<Outcome> {
    const { command } = this.settings;
    return new Promise<Outcome>((resolve, reject) => {
      if (signal?.aborted === true) return resolve({ code: null, signal: null, stdout: Buffer.alloc(0), stderr: "", killedFor: "abort" });
      const child = spawn(command, args, { stdio: ["ignore", "pipe", "pipe"] });
      const chunks: Buffer[] = [];
      let stderr = "";
      let killedFor: KillReason | undefined;
      const kill = (why: KillReason) => {
        killedFor ??= why;
        child.kill("SIGKILL");
      };
      const onAbort = () => kill("abort");
      const timer = setTimeout(() => kill("timeout"), timeoutMs);
      signal?.addEventListener("abort", onAbort, { once: true });
      this.#running.set(child, kill);
      child.stdout.on("data", (c: Buffer) => chunks.push(c));
      child.stderr.on("data", (c: Buffer) => (stderr = (stderr + c.toString("utf8")).slice(-STDERR_KEEP)));
      const settle = () => {
        clearTimeout(timer);
        signal?.removeEventListener("abort", onAbort);
        this.#running.delete(child);
      };
      child.once("error", (err: NodeJS.ErrnoException) => {
        settle();
        const why = err.code === "ENOENT" ? "was not found: install espeak-ng (apt-get install espeak-ng) or set the command option to its path" : `cannot be run: ${err.message}`;
        reject(new Error(`tts: ${command} ${why}`, { cause: err }));
      });
      child.once("close", (code, sig) => {
        settle();
        resolve({ code, signal: sig, stdout: Buffer.concat(chunks), stderr, ...(killedFor === undefined ? {} : { killedFor }) });
      });
    });
  }
}
