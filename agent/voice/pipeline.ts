/**
 * The microphone pipeline of a node: audio → utterances → guard → speech recognition →
 * voice.input (seed 000's inbound event: payload.raw is the text after STT).
 *
 * Rules of this component:
 * - Audio comes from an AudioSource (the mic driver), utterances from a Segmenter (the VAD), text
 *   from a Transcriber (the STT driver): ports, so the layer is tested with fakes of them.
 * - The guard (config voice.guard): with push_to_talk an utterance counts only when its speech
 *   started while a listening window was open (voice.listen, POST /api/voice/listen); others
 *   are dropped before recognition — the recogniser forces any speech onto a command of its
 *   grammar, so speech nobody asked to be heard must never reach it. A recognised command
 *   closes the window (one push, one command). With `none` every utterance is recognised.
 * - Recognition runs one utterance at a time in arrival order; at most MAX_QUEUED wait, the
 *   oldest waiting is dropped (counted) when more arrive — a backlog would answer stale speech.
 * - Each voice.input starts a new correlation: its input_id is the correlation_id.
 * - Empty text (nothing the recogniser knows) is counted, not published.
 * - Nothing throws into the audio callback: failures are logged and counted.
 */
import type { Envelope } from "../../abi/envelope.js";
import type { Bus, Subscription } from "../bus/bus.js";
import type { Clock } from "../core/clock.js";
import type { Component } from "../core/component.js";
import { publishOrLog } from "../bus/publish-or-log.js";
import { uuidv7 } from "../core/ids.js";
import type { Logger } from "../core/logger.js";
import type { Counter, MetricsRegistry } from "../core/metrics.js";
import { ListenWindow } from "./listen-window.js";

/** Utterances waiting for the recogniser at most; the oldest is dropped beyond. */
export const MAX_QUEUED = 2;

export interface AudioSource {
  onAudio(listener: (chunk: Buffer, audioMs: number) => void): () => void;
}

export interface Utterance {
  readonly pcm: Buffer;
  readonly speechStartMs: number;
  readonly speechEndMs: number;
  readonly endOfSpeechWaitMs: number;
}

export interface Segmenter {
  push(chunk: Buffer, audioMs: number): void;
}

export interface Transcriber {
  readonly engine: string;
  transcribe(pcm: Buffer, signal?: AbortSignal): Promise<{ readonly text: string; readonly ms: number }>;
}

export interface VoicePipelineOptions {
  readonly nodeId: string;
  readonly lang: string;
  readonly guard: "push_to_talk" | "none";
  readonly listenWindowMs: number;
  readonly audio: AudioSource;
  /** Builds the segmenter that calls back with each utterance. */
  readonly segmenter: (onUtterance: (u: Utterance) => void) => Segmenter;
  readonly stt: Transcriber;
  readonly bus: Bus;
  readonly source: string;
  readonly tenant: string;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly metrics: MetricsRegistry;
}

interface Heard {
  readonly u: Utterance;
  /** Wall-clock epoch ms the speech ended. */
  readonly endedAt: number;
}

export class VoicePipeline implements Component {
  readonly name = "voice";
  readonly window: ListenWindow;
  readonly #queue: Heard[] = [];
  readonly #outcomes: Counter;
  #busy = false;
  #lastAudioMs = 0;
  #offAudio: (() => void) | undefined;
  #listen: Subscription | undefined;
  readonly #abort = new AbortController();
  #lastSttMs = 0;

  constructor(private readonly opts: VoicePipelineOptions) {
    this.window = new ListenWindow(opts.clock);
    this.#outcomes = opts.metrics.counter("adaos_voice_utterances_total", "Utterances the VAD cut, by outcome: heard, guarded (no listening window), empty (nothing recognised), dropped (backlog), error.");
    opts.metrics.gauge("adaos_voice_last_stt_ms", "Milliseconds the recogniser took for the latest utterance.", () => [[{}, this.#lastSttMs]]);
  }

  /** Open the listening window (push to talk); returns when it closes (epoch ms). */
  listen(windowMs = this.opts.listenWindowMs): number {
    return this.window.open(windowMs);
  }

  start(signal: AbortSignal): Promise<void> {
    signal.throwIfAborted();
    const seg = this.opts.segmenter((u) => this.#utterance(u));
    this.#offAudio = this.opts.audio.onAudio((chunk, audioMs) => {
      this.#lastAudioMs = audioMs + chunk.length / 32; // 16 kHz s16le mono: 32 bytes per ms
      try {
        seg.push(chunk, audioMs);
      } catch (err) {
        this.opts.logger.error({ err }, "the voice segmenter failed on a chunk");
      }
    });
    this.#listen = this.opts.bus.subscribe("voice.listen", (e: Envelope) => {
      const p = e.payload as { node_id?: string; window_ms?: number };
      if (p.node_id !== undefined && p.node_id !== this.opts.nodeId) return;
      this.listen(p.window_ms);
    });
    return Promise.resolve();
  }

  stop(): Promise<void> {
    this.#offAudio?.();
    this.#offAudio = undefined;
    this.#listen?.unsubscribe();
    this.#listen = undefined;
    this.#abort.abort();
    this.#queue.length = 0;
    return Promise.resolve();
  }

  #utterance(u: Utterance): void {
    const now = this.opts.clock.now();
    const endedAt = now - Math.max(0, this.#lastAudioMs - u.speechEndMs);
    const startedAt = endedAt - (u.speechEndMs - u.speechStartMs);
    if (this.opts.guard === "push_to_talk" && !this.window.wasOpenAt(startedAt)) {
      this.#outcomes.inc({ outcome: "guarded" });
      this.opts.logger.info({ speech_ms: Math.round(u.speechEndMs - u.speechStartMs) }, "speech outside a listening window ignored (push to talk)");
      return;
    }
    this.#queue.push({ u, endedAt });
    while (this.#queue.length > MAX_QUEUED) {
      this.#queue.shift();
      this.#outcomes.inc({ outcome: "dropped" });
    }
    void this.#drain();
  }

  async #drain(): Promise<void> {
    if (this.#busy) return;
    this.#busy = true;
    try {
      for (let next = this.#queue.shift(); next !== undefined; next = this.#queue.shift()) await this.#recognise(next);
    } finally {
      this.#busy = false;
    }
  }

  async #recognise({ u, endedAt }: Heard): Promise<void> {
    let text: string;
    let ms: number;
    try {
      ({ text, ms } = await this.opts.stt.transcribe(u.pcm, this.#abort.signal));
    } catch (err) {
      if (this.#abort.signal.aborted) return;
      this.#outcomes.inc({ outcome: "error" });
      this.opts.logger.error({ err, engine: this.opts.stt.engine }, "speech recognition failed");
      return;
    }
    this.#lastSttMs = ms;
    const raw = text.trim();
    if (raw === "") {
      this.#outcomes.inc({ outcome: "empty" });
      this.opts.logger.info({ stt_ms: ms }, "the recogniser heard nothing it knows");
      return;
    }
    this.#outcomes.inc({ outcome: "heard" });
    this.window.close();
    const id = uuidv7();
    const payload = {
      input_id: id, raw, modality: "voice", node_id: this.opts.nodeId, lang: this.opts.lang, engine: this.opts.stt.engine,
      timings: {
        speech_start_ms: Math.round(u.speechStartMs), speech_end_ms: Math.round(u.speechEndMs), end_of_speech_wait_ms: Math.round(u.endOfSpeechWaitMs),
        stt_ms: Math.round(ms), speech_end_epoch_ms: Math.round(endedAt),
      },
    };
    this.opts.logger.info({ raw, stt_ms: Math.round(ms) }, "voice input");
    publishOrLog(this.opts.bus, { event_name: "voice.input", version: 1, source: this.opts.source, tenant: this.opts.tenant, priority: 1, correlation_id: id, payload }, this.opts.clock, this.opts.logger);
  }
}
