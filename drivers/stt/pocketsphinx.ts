/**
 * The pocketsphinx adapter: ONE long-lived pocketsphinx_continuous process for every utterance,
 * held to a JSGF grammar and a small dictionary generated from the intent rules (grammar.ts).
 *
 * How audio goes in: pocketsphinx reads `-infile <tmp>/audio.fifo`, a named pipe this driver
 * writes each utterance into. Opening /dev/stdin fails when the parent is Node (its stdio is a
 * socket); `sh -c 'cat | pocketsphinx_continuous -infile /dev/stdin'` works but hides the
 * recogniser's death until the next write and leaves `cat` behind (measured), whereas with the
 * FIFO the child is pocketsphinx itself: its exit is seen at once, and if the agent dies the FIFO
 * closes and pocketsphinx ends on EOF.
 *
 * How answers come out: each utterance is written as LEAD_MS of silence, the PCM, then enough
 * silence for pocketsphinx's VAD to close it (vadPostSpeech frames + TAIL_MARGIN_MS). With
 * `-time yes` every hypothesis line is followed by word times on the stream's clock, so the
 * answer is matched to the utterance by position in the stream (timeline.ts), not by order
 * alone. An utterance nothing is printed for settles with "": at once when pocketsphinx logs
 * that it fits no path of the grammar (what out-of-grammar sentences mostly do), else when a
 * later utterance is answered, else after timeoutMs (silence its VAD never took for speech).
 * Measured with `-logfn /dev/null`: stdout carries the bare hypothesis ("show inception on the
 * tv"), no prefix. This driver keeps the log on stderr instead (recogniser-process.ts reads its
 * start-up and no-match lines, and keeps the last lines for error messages).
 *
 * Rules of this file:
 * - start() builds the grammar (rejecting with the words the dictionary lacks), starts the
 *   process and resolves once it reads the FIFO; it rejects naming the program, the exit code
 *   and the last stderr lines.
 * - The process dying on its own: health → degraded, pending transcriptions rejected with the
 *   exit status, a new process after a backoff (BACKOFF_FIRST_MS doubling to BACKOFF_MAX_MS,
 *   back to the first after one that stayed up STABLE_MS). transcribe() while it is down rejects
 *   at once rather than queueing stale speech.
 * - stop() ends the process (EOF, then SIGTERM, then SIGKILL after STOP_GRACE_MS), rejects
 *   what is pending, removes the temp dir, and is idempotent.
 * - `-dither yes`: with digital silence (all zeros) at the start of the stream the VAD never
 *   detected the first utterance (measured); half a bit of noise fixes it. Its seed is fixed
 *   (DITHER_SEED): with pocketsphinx's clock seed, out-of-grammar results changed between runs.
 */
import { execFile, type ChildProcess } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import type { Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { promisify } from "node:util";
import type { DriverCapability, DriverContext, DriverHealth, DriverState } from "../../abi/driver.js";
import { abortReason, emptyUtterance, STT_CAPABILITY, STT_DRIVER_NAME, type SttEngine, type Transcription } from "./engine.js";
import { DEFAULT_DICTIONARY, loadGrammar, type GrammarSource } from "./grammar.js";
import { HypothesisReader } from "./hypothesis.js";
import { startRecogniser } from "./recogniser-process.js";
import { Timeline } from "./timeline.js";
import { silence } from "./wav.js";

export const DEFAULT_HMM = "/usr/share/pocketsphinx/model/en-us/en-us";
export const DEFAULT_COMMAND = "pocketsphinx_continuous";
/**
 * Frames (10 ms) of silence that end an utterance inside pocketsphinx. Audio is written faster
 * than real time, so a long wait costs only decoding time (~15 ms per 500 ms here) and lets a
 * speaker pause inside a command without it being cut in two.
 */
export const DEFAULT_VAD_POSTSPEECH = 50;
/** How long an utterance may wait for its hypothesis before it counts as "heard nothing". */
export const DEFAULT_TIMEOUT_MS = 5000;
export const DEFAULT_START_TIMEOUT_MS = 15_000;

/** Silence before each utterance: more than the VAD keeps before speech (-vad_prespeech 20 = 200 ms). */
const LEAD_MS = 250;
/** Silence beyond vadPostSpeech: pocketsphinx reads 2048 samples (128 ms) at a time; two reads and change. */
const TAIL_MARGIN_MS = 400;
const BACKOFF_FIRST_MS = 500;
const BACKOFF_MAX_MS = 30_000;
const STABLE_MS = 30_000;
const STOP_GRACE_MS = 2000;
/** A fixed seed for the dither noise, so the same audio gives the same text (the default seeds from the clock). */
const DITHER_SEED = 1;
const FIFO = "audio.fifo";
/**
 * After a no-match log line, how long stdout may still bring the hypotheses of earlier utterances
 * (stdout and stderr are separate pipes): their lines were written before the next utterance was
 * decoded, so they are read within this.
 */
const NO_MATCH_GRACE_MS = 50;

export interface PocketsphinxOptions {
  /** The phrases to recognise (from the intent rules). */
  readonly grammar: GrammarSource;
  /** Acoustic model directory (-hmm). */
  readonly hmm?: string;
  /** The pronunciation dictionary the grammar's words are cut from. */
  readonly dictionary?: string;
  /** -vad_postspeech in 10 ms frames. */
  readonly vadPostSpeech?: number;
  /** The program (name on PATH or path). */
  readonly command?: string;
  /** BCP 47 language of the model; default en. */
  readonly lang?: string;
  /** Wait for a hypothesis before resolving "" (nothing heard). */
  readonly timeoutMs?: number;
  /** Longest start of the process (model load). */
  readonly startTimeoutMs?: number;
}

export interface PocketsphinxCounts {
  /** Hypotheses that belonged to no pending utterance. */
  readonly dropped: number;
  /** Utterances settled with "" because a later one was answered first. */
  readonly passedOver: number;
  /** Utterances settled with "" because pocketsphinx logged that they fit no grammar path. */
  readonly noMatch: number;
  /** Utterances settled with "" after timeoutMs. */
  readonly timeouts: number;
}

interface Running {
  readonly child: ChildProcess;
  readonly sink: Socket;
  readonly startedAt: number;
}

const run = promisify(execFile);

function checkOptions(o: PocketsphinxOptions): void {
  const bad = (what: string): never => {
    throw new Error(`stt pocketsphinx: ${what}`);
  };
  if (typeof o.grammar !== "object" || !Array.isArray(o.grammar.patterns) || typeof o.grammar.slots !== "object") bad("grammar must be {patterns: string[], slots: {name: string[]}}");
  if (o.vadPostSpeech !== undefined && !(Number.isInteger(o.vadPostSpeech) && o.vadPostSpeech >= 5 && o.vadPostSpeech <= 500)) bad(`vadPostSpeech ${String(o.vadPostSpeech)} must be a whole number of 10 ms frames from 5 to 500`);
  for (const [name, v] of [["timeoutMs", o.timeoutMs], ["startTimeoutMs", o.startTimeoutMs]] as const) {
    if (v !== undefined && !(Number.isFinite(v) && v > 0)) bad(`${name} ${String(v)} must be a positive number of milliseconds`);
  }
  for (const [name, v] of [["hmm", o.hmm], ["dictionary", o.dictionary], ["command", o.command], ["lang", o.lang]] as const) {
    if (v !== undefined && (typeof v !== "string" || v.length === 0)) bad(`${name} must be a non-empty string`);
  }
}

export class PocketsphinxStt implements SttEngine {
  readonly name = STT_DRIVER_NAME;
  readonly engine = "pocketsphinx";
  readonly lang: string;
  readonly capabilities: readonly DriverCapability[] = [STT_CAPABILITY];

  readonly #opts: Required<Omit<PocketsphinxOptions, "lang">>;
  readonly #ctx: DriverContext;
  readonly #timeline = new Timeline();
  #state: DriverState = "stopped";
  #detail: string | undefined;
  #since: number;
  #restarts = 0;
  #timeouts = 0;
  #dir: string | undefined;
  #running: Running | undefined;
  /** Children not yet reaped, so stop() can end one that is still starting. */
  readonly #children = new Set<ChildProcess>();
  #restartTimer: NodeJS.Timeout | undefined;
  #backoffMs = BACKOFF_FIRST_MS;
  /** Bumped by stop(): work started before it must not touch the new state. */
  #epoch = 0;

  constructor(opts: PocketsphinxOptions, ctx: DriverContext) {
    checkOptions(opts);
    this.#opts = {
      grammar: opts.grammar,
      hmm: opts.hmm ?? DEFAULT_HMM,
      dictionary: opts.dictionary ?? DEFAULT_DICTIONARY,
      vadPostSpeech: opts.vadPostSpeech ?? DEFAULT_VAD_POSTSPEECH,
      command: opts.command ?? DEFAULT_COMMAND,
      timeoutMs: opts.timeoutMs ?? DEFAULT_TIMEOUT_MS,
      startTimeoutMs: opts.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS,
    };
    this.lang = opts.lang ?? "en";
    this.#ctx = ctx;
    this.#since = this.#now();
  }

  health(): DriverHealth {
    return { state: this.#state, restarts: this.#restarts, since: this.#since, ...(this.#detail === undefined ? {} : { detail: this.#detail }) };
  }

  /** What went unmatched so far (for metrics). */
  counts(): PocketsphinxCounts {
    return { ...this.#timeline.counts(), timeouts: this.#timeouts };
  }

  /** The pid of the running recogniser, if one runs (for tests and diagnostics). */
  get pid(): number | undefined {
    return this.#running?.child.pid;
  }

  async start(): Promise<void> {
    if (this.#state !== "stopped") return;
    const epoch = this.#epoch;
    this.#restarts = 0;
    this.#setState("starting");
    const stopped = (): boolean => epoch !== this.#epoch;
    try {
      const grammar = await loadGrammar(this.#opts.grammar, this.#opts.dictionary);
      if (stopped()) throw new Error("stt: stopped while starting");
      const dir = await mkdtemp(join(tmpdir(), "adaos-stt-"));
      if (stopped()) {
        await rm(dir, { recursive: true, force: true });
        throw new Error("stt: stopped while starting");
      }
      this.#dir = dir;
      await writeFile(join(dir, "commands.gram"), grammar.jsgf);
      await writeFile(join(dir, "commands.dict"), grammar.dict);
      await run("mkfifo", [join(dir, FIFO)]).catch((err: Error) => {
        throw new Error(`stt: mkfifo (coreutils) could not make the audio pipe in ${dir}: ${err.message}`, { cause: err });
      });
      if (stopped()) throw new Error("stt: stopped while starting");
      const running = await this.#launch(dir);
      this.#running = running;
      this.#setState("up");
      this.#ctx.logger.info({ words: grammar.words.length, pid: running.child.pid }, "pocketsphinx started");
    } catch (err) {
      if (stopped()) throw new Error("stt: stopped while starting", { cause: err });
      await this.stop();
      throw err;
    }
  }

  async stop(): Promise<void> {
    this.#epoch++;
    clearTimeout(this.#restartTimer);
    this.#restartTimer = undefined;
    this.#timeline.reset(new Error("stt: the pocketsphinx driver was stopped"));
    this.#running?.sink.destroy();
    this.#running = undefined;
    await Promise.all([...this.#children].map((c) => this.#end(c)));
    const dir = this.#dir;
    this.#dir = undefined;
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
    this.#backoffMs = BACKOFF_FIRST_MS;
    if (this.#state !== "stopped") this.#setState("stopped");
  }

  async transcribe(pcm: Buffer, signal?: AbortSignal): Promise<Transcription> {
    const t0 = performance.now();
    if (emptyUtterance(pcm, signal)) return { text: "", ms: 0 };
    const running = this.#running;
    if (this.#state !== "up" || running === undefined) throw new Error(`stt: pocketsphinx is not running (${this.#detail ?? this.#state})`);
    const audio = Buffer.concat([silence(LEAD_MS), pcm, silence(this.#opts.vadPostSpeech * 10 + TAIL_MARGIN_MS)]);
    return new Promise((resolve, reject) => {
      const onAbort = (): void => {
        if (signal !== undefined && this.#timeline.remove(id)) finish(abortReason(signal));
      };
      const finish = (result: string | Error): void => {
        clearTimeout(timer);
        signal?.removeEventListener("abort", onAbort);
        if (result instanceof Error) reject(result);
        else resolve({ text: result, ms: performance.now() - t0 });
      };
      const id = this.#timeline.add(audio.length / 2, finish);
      const timer = setTimeout(() => {
        if (!this.#timeline.remove(id)) return;
        this.#timeouts++;
        finish("");
      }, this.#opts.timeoutMs);
      signal?.addEventListener("abort", onAbort, { once: true });
      running.sink.write(audio);
    });
  }

  #args(dir: string): string[] {
    return [
      "-infile", join(dir, FIFO),
      "-hmm", this.#opts.hmm,
      "-jsgf", join(dir, "commands.gram"),
      "-dict", join(dir, "commands.dict"),
      "-dither", "yes",
      "-seed", String(DITHER_SEED),
      "-time", "yes",
      "-vad_postspeech", String(this.#opts.vadPostSpeech),
    ];
  }

  /** Starts one process and resolves once it reads the FIFO. */
  async #launch(dir: string): Promise<Running> {
    const reader = new HypothesisReader((h) => {
      if (this.#running?.child === child) this.#timeline.hear(h);
    });
    const { child, ready } = startRecogniser(
      { command: this.#opts.command, args: this.#args(dir), fifo: join(dir, FIFO), startTimeoutMs: this.#opts.startTimeoutMs },
      {
        onStdout: (line) => reader.line(line),
        onNoMatch: () => this.#noMatch(child),
        onExit: (status, tail) => this.#exited(child, status, tail),
      },
    );
    this.#children.add(child);
    const gone = (): boolean => this.#children.delete(child);
    child.once("exit", gone).once("error", gone);
    const startedAt = this.#now();
    return { child, sink: await ready, startedAt };
  }

  /**
   * pocketsphinx closed an utterance that fits no path of the grammar and prints nothing for it:
   * it is the earliest one pending, unless that one's hypothesis is still on its way on stdout.
   */
  #noMatch(child: ChildProcess): void {
    if (this.#running?.child !== child) return;
    const candidate = this.#timeline.earliest();
    if (candidate === undefined) return;
    setTimeout(() => this.#timeline.noMatch(candidate), NO_MATCH_GRACE_MS);
  }

  /** The running process ended on its own, or is one stop() is ending. */
  #exited(child: ChildProcess, status: string, tail: readonly string[]): void {
    const running = this.#running;
    if (running?.child !== child) return;
    this.#running = undefined;
    running.sink.destroy();
    const last = tail.length > 0 ? `; last stderr lines: ${tail.slice(-3).join(" | ")}` : "";
    this.#timeline.reset(new Error(`stt: ${this.#opts.command} exited (${status}) while recognising; the utterance is lost${last}`));
    if (this.#now() - running.startedAt >= STABLE_MS) this.#backoffMs = BACKOFF_FIRST_MS;
    this.#ctx.logger.warn({ status, tail: tail.slice(-3) }, "pocketsphinx exited; restarting");
    this.#scheduleRestart(`${this.#opts.command} exited (${status})`);
  }

  #scheduleRestart(why: string): void {
    const delay = this.#backoffMs;
    this.#backoffMs = Math.min(BACKOFF_MAX_MS, this.#backoffMs * 2);
    this.#setState("degraded", `${why}; restarting in ${delay} ms`);
    const epoch = this.#epoch;
    this.#restartTimer = setTimeout(() => {
      const dir = this.#dir;
      if (epoch !== this.#epoch || dir === undefined) return;
      this.#restarts++;
      this.#launch(dir).then(
        (running) => {
          if (epoch !== this.#epoch) {
            running.sink.destroy();
            return void this.#end(running.child);
          }
          this.#running = running;
          this.#setState("up");
          this.#ctx.logger.info({ restarts: this.#restarts, pid: running.child.pid }, "pocketsphinx restarted");
        },
        (err: Error) => {
          if (epoch !== this.#epoch) return;
          this.#ctx.logger.error({ err }, "pocketsphinx restart failed");
          this.#scheduleRestart(err.message);
        },
      );
    }, delay);
  }

  /** Ends one child: SIGTERM, SIGKILL after STOP_GRACE_MS; resolves once it exited. */
  #end(child: ChildProcess): Promise<void> {
    if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
    return new Promise((resolve) => {
      const kill = setTimeout(() => child.kill("SIGKILL"), STOP_GRACE_MS);
      child.once("exit", () => {
        clearTimeout(kill);
        resolve();
      });
      child.kill("SIGTERM");
    });
  }

  #setState(state: DriverState, detail?: string): void {
    this.#state = state;
    this.#detail = detail;
    this.#since = this.#now();
  }

  #now(): number {
    return (this.#ctx.now ?? Date.now)();
  }
}
