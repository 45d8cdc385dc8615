/**
 * The microphone driver: keeps one recorder program running and fans its raw PCM out to listeners
 * with the audio-clock position of each chunk.
 * Rules it keeps:
 * - start() resolves on the first audio, or after firstAudioWaitMs with the recorder still alive
 *   (degraded: waiting for audio); it rejects, naming the program, when the recorder cannot be run
 *   or exits before any audio (a device that does not open).
 * - After audio has flowed, a recorder that dies is the driver's to fix: health degraded with the
 *   exit code and stderr tail, restart with exponential backoff (counted in health.restarts), up
 *   again on the next audio. A run that stayed up HEALTHY_RUN_MS resets the backoff.
 * - audioMs is the position of a chunk's first sample, from bytes delivered since start(): it is
 *   monotonic across restarts (the time a restart took is not audio). Chunks hold whole samples.
 * - A throwing listener is logged and skipped; it never stops the others.
 * - stop() is idempotent, never rejects, cancels a pending restart and leaves no child process.
 */
import type { Driver, DriverCapability, DriverContext, DriverHealth, DriverState } from "../../abi/driver.js";
import { Backoff } from "./backoff.js";
import { pcmFormat, type ResolvedMicOptions } from "./options.js";
import { runRecorder, type RecorderEnd, type RecorderRun } from "./recorder.js";

export const MIC_CAPABILITY = "capability://audio.capture";

export type AudioListener = (chunk: Buffer, audioMs: number) => void;

export interface MicDriver extends Driver {
  /** Listen to the audio; returns the function that stops listening. */
  onAudio(listener: AudioListener): () => void;
}

/** A recorder that kept delivering for this long has recovered: the next death retries quickly. */
const HEALTHY_RUN_MS = 10_000;
const BYTES_PER_SAMPLE = 2;

interface PendingStart {
  resolve(): void;
  reject(err: Error): void;
  timer: NodeJS.Timeout;
}

export class RecorderMic implements MicDriver {
  readonly name = "mic";
  readonly capabilities: readonly DriverCapability[];
  private readonly now: () => number;
  private readonly backoff: Backoff;
  private readonly listeners = new Set<AudioListener>();
  private readonly bytesPerMs: number;
  private readonly frameBytes: number;
  private state: DriverState = "stopped";
  private detail: string | undefined;
  private since: number;
  private restarts = 0;
  private run: RecorderRun | undefined;
  private runAudioSince: number | undefined;
  private restartTimer: NodeJS.Timeout | undefined;
  private pending: PendingStart | undefined;
  private started: Promise<void> | undefined;
  private bytesDelivered = 0;
  private carry: Buffer = Buffer.alloc(0);

  constructor(
    private readonly opts: ResolvedMicOptions,
    private readonly ctx: DriverContext,
  ) {
    this.capabilities = [{ id: MIC_CAPABILITY, outputs: [pcmFormat(opts.sampleRate, opts.channels)] }];
    this.now = ctx.now ?? Date.now;
    this.since = this.now();
    this.backoff = new Backoff(opts.backoff);
    this.frameBytes = BYTES_PER_SAMPLE * opts.channels;
    this.bytesPerMs = (opts.sampleRate * this.frameBytes) / 1000;
  }

  onAudio(listener: AudioListener): () => void {
    const own: AudioListener = (chunk, ms) => listener(chunk, ms); // one entry per subscription
    this.listeners.add(own);
    return () => void this.listeners.delete(own);
  }

  health(): DriverHealth {
    return { state: this.state, restarts: this.restarts, since: this.since, ...(this.detail === undefined ? {} : { detail: this.detail }) };
  }

  start(): Promise<void> {
    if (this.started !== undefined) return this.started;
    this.restarts = 0;
    this.bytesDelivered = 0;
    this.backoff.reset();
    this.setState("starting", `starting ${this.opts.recorder}`);
    this.started = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending = undefined;
        this.setState("degraded", `${this.opts.recorder} runs but has sent no audio after ${this.opts.firstAudioWaitMs} ms`);
        resolve();
      }, this.opts.firstAudioWaitMs);
      this.pending = { resolve, reject, timer };
    });
    this.spawn();
    return this.started;
  }

  async stop(): Promise<void> {
    clearTimeout(this.restartTimer);
    this.restartTimer = undefined;
    const run = this.run;
    this.run = undefined; // from here on its end is ours, not a death
    this.settleStart(new Error(`mic: stop() was called before ${this.opts.recorder} sent any audio`));
    this.started = undefined;
    if (run !== undefined) {
      try {
        await run.kill();
      } catch (err) {
        this.ctx.logger.warn({ err }, "mic: killing the recorder failed");
      }
    }
    if (this.state !== "stopped") this.setState("stopped", undefined);
  }

  private spawn(): void {
    this.carry = Buffer.alloc(0);
    this.runAudioSince = undefined;
    let run: RecorderRun | undefined;
    try {
      run = runRecorder(this.opts, {
        data: (chunk) => {
          if (this.run === run) this.onChunk(chunk);
        },
        end: (how) => {
          if (this.run === run) this.onEnd(how);
        },
        libraryError: (message) => this.ctx.logger.debug({ message }, "mic: node-record-lpcm16 reported an error"),
      });
    } catch (err) {
      this.onEnd({ code: null, signal: null, stderrTail: "", spawnError: err as NodeJS.ErrnoException });
      return;
    }
    this.run = run;
  }

  private onChunk(chunk: Buffer): void {
    if (this.runAudioSince === undefined) {
      this.runAudioSince = this.now();
      if (this.state !== "up") {
        if (this.state === "degraded") this.ctx.logger.info({ restarts: this.restarts }, "mic: audio flows again");
        this.setState("up", undefined);
      }
      this.settleStart(undefined);
    }
    const whole = this.carry.length === 0 ? chunk : Buffer.concat([this.carry, chunk]);
    const usable = whole.length - (whole.length % this.frameBytes);
    this.carry = whole.subarray(usable);
    if (usable === 0) return;
    const pcm = whole.subarray(0, usable);
    const audioMs = this.bytesDelivered / this.bytesPerMs;
    this.bytesDelivered += usable;
    for (const listener of this.listeners) {
      try {
        listener(pcm, audioMs);
      } catch (err) {
        this.ctx.logger.error({ err }, "mic: an audio listener threw");
      }
    }
  }

  private onEnd(how: RecorderEnd): void {
    this.run = undefined;
    const reason = describeEnd(this.opts.recorder, how);
    if (this.pending !== undefined && this.runAudioSince === undefined) {
      const device = this.opts.device === null ? "the default device" : `device ${JSON.stringify(this.opts.device)}`;
      this.setState("down", reason);
      this.settleStart(new Error(`mic: ${reason}, before any audio from ${device}`));
      this.started = undefined;
      return;
    }
    if (this.runAudioSince !== undefined && this.now() - this.runAudioSince >= HEALTHY_RUN_MS) this.backoff.reset();
    const delay = this.backoff.next();
    this.setState("degraded", `${reason}; restarting in ${delay} ms`);
    this.ctx.logger.warn({ recorder: this.opts.recorder, code: how.code, signal: how.signal, stderr: how.stderrTail, restarts: this.restarts, delay_ms: delay }, "mic: the recorder died");
    this.restartTimer = setTimeout(() => {
      this.restartTimer = undefined;
      this.restarts += 1;
      this.setState("degraded", `${reason}; restarted (${this.restarts}), waiting for audio`);
      this.spawn();
    }, delay);
  }

  /** Resolves (err undefined) or rejects a start() still waiting for its first audio. */
  private settleStart(err: Error | undefined): void {
    const pending = this.pending;
    if (pending === undefined) return;
    this.pending = undefined;
    clearTimeout(pending.timer);
    if (err === undefined) pending.resolve();
    else pending.reject(err);
  }

  private setState(state: DriverState, detail: string | undefined): void {
    if (state !== this.state) this.since = this.now();
    this.state = state;
    this.detail = detail;
  }
}

/** How a run ended, in words a user can act on. */
function describeEnd(recorder: string, how: RecorderEnd): string {
  if (how.spawnError !== undefined) {
    const why = how.spawnError.code === "ENOENT" ? "not found (is it installed and on PATH?)" : how.spawnError.code === "EACCES" ? "not executable" : how.spawnError.message;
    return `recorder program ${JSON.stringify(recorder)} could not be run: ${why}`;
  }
  const ended = how.signal === null ? `exited with code ${String(how.code)}` : `was killed by ${how.signal}`;
  return `${recorder} ${ended}${how.stderrTail === "" ? "" : `: ${how.stderrTail}`}`;
}
