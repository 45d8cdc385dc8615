/**
 * Cuts a 16 kHz s16le mono stream into utterances: frames it (30 ms), asks a FrameClassifier
 * (EnergyVad by default) which frames are speech, and calls back with each stretch of speech plus
 * its padding once endOfSpeechSilenceMs of silence has followed it.
 * Rules it keeps:
 * - Chunks may have any size, even an odd byte count; utterances do not depend on how the stream
 *   was chunked. Times are on the caller's audio clock (the audioMs of each chunk's first byte).
 * - An utterance's pcm is whole frames: up to prePaddingMs before the first speech frame (less at
 *   the very start of the stream), then up to postPaddingMs after the last one.
 * - Speech spanning less than minSpeechMs (a click, a cough, a door) is dropped.
 * - No utterance's pcm is longer than maxUtteranceMs: a longer one is cut there (endedBy
 *   "max_length"); speech that goes on starts the next one, without overlapping audio.
 * - A throwing callback is the caller's bug: it propagates (the pipeline's callback never throws).
 */
import { EnergyVad, FRAME_MS, FRAME_SAMPLES, SAMPLE_RATE, type FrameClassifier } from "./vad.js";

export interface Utterance {
  /** s16le 16 kHz mono, padding included. */
  readonly pcm: Buffer;
  /** Audio-clock ms of the first speech frame's start. */
  readonly speechStartMs: number;
  /** Audio-clock ms of the last speech frame's end. */
  readonly speechEndMs: number;
  /** Audio ms between the end of speech and this utterance being emitted (the end-of-speech wait). */
  readonly endOfSpeechWaitMs: number;
  /** Why it ended: enough silence, the length cap, or flush() at the end of the stream. */
  readonly endedBy: "silence" | "max_length" | "flush";
}

export interface SegmenterOptions {
  /** Audio kept before the first speech frame (onsets the VAD misses); default 300. */
  readonly prePaddingMs?: number;
  /** Audio kept after the last speech frame (fading endings); default 300. */
  readonly postPaddingMs?: number;
  /** Silence that ends an utterance; default 600: longer than pauses between words, short enough to answer promptly. */
  readonly endOfSpeechSilenceMs?: number;
  /** Shorter speech is dropped; default 200: the shortest command word is longer, clicks are shorter. */
  readonly minSpeechMs?: number;
  /** Longest pcm of one utterance; default 10000: commands take 1–4 s, the recogniser's input stays bounded. */
  readonly maxUtteranceMs?: number;
  /** The speech/silence decision per frame; default a new EnergyVad(). */
  readonly vad?: FrameClassifier;
}

const BYTES_PER_MS = (SAMPLE_RATE * 2) / 1000;
const FRAME_BYTES = FRAME_SAMPLES * 2;

interface Speech {
  readonly frames: Buffer[];
  /** Audio ms where frames[0] starts. */
  readonly pcmStartMs: number;
  readonly speechStartMs: number;
  lastSpeechEndMs: number;
}

export class UtteranceSegmenter {
  private readonly preFrames: number;
  private readonly postPaddingMs: number;
  private readonly endSilenceMs: number;
  private readonly minSpeechMs: number;
  private readonly maxFrames: number;
  private readonly vad: FrameClassifier;
  private readonly samples = new Int16Array(FRAME_SAMPLES);
  private carry: Buffer = Buffer.alloc(0);
  private preroll: Buffer[] = [];
  private speech: Speech | undefined;

  constructor(
    opts: SegmenterOptions,
    private readonly onUtterance: (u: Utterance) => void,
  ) {
    this.preFrames = Math.ceil((opts.prePaddingMs ?? 300) / FRAME_MS);
    this.postPaddingMs = opts.postPaddingMs ?? 300;
    this.endSilenceMs = Math.max(opts.endOfSpeechSilenceMs ?? 600, this.postPaddingMs);
    this.minSpeechMs = opts.minSpeechMs ?? 200;
    this.maxFrames = Math.max(1, Math.floor((opts.maxUtteranceMs ?? 10_000) / FRAME_MS));
    this.vad = opts.vad ?? new EnergyVad();
  }

  /** Feeds audio; audioMs is the audio-clock time of the chunk's first byte. */
  push(chunk: Buffer, audioMs: number): void {
    const data = this.carry.length === 0 ? chunk : Buffer.concat([this.carry, chunk]);
    const startMs = audioMs - this.carry.length / BYTES_PER_MS;
    let offset = 0;
    for (; offset + FRAME_BYTES <= data.length; offset += FRAME_BYTES) {
      // A copy: the caller may reuse its buffer, and an utterance keeps its frames.
      this.frame(Buffer.from(data.subarray(offset, offset + FRAME_BYTES)), startMs + offset / BYTES_PER_MS);
    }
    this.carry = Buffer.from(data.subarray(offset));
  }

  /** Ends the stream: emits the utterance in progress if it is long enough, and forgets the rest. */
  flush(): void {
    if (this.speech !== undefined) this.finish(this.speech, "flush", this.speech.pcmStartMs + this.speech.frames.length * FRAME_MS);
    this.carry = Buffer.alloc(0);
    this.preroll = [];
  }

  private frame(frame: Buffer, startMs: number): void {
    for (let i = 0; i < FRAME_SAMPLES; i += 1) this.samples[i] = frame.readInt16LE(i * 2);
    const isSpeech = this.vad.isSpeech(this.samples);
    const endMs = startMs + FRAME_MS;
    const speech = this.speech;
    if (speech === undefined) {
      if (isSpeech) {
        this.speech = { frames: [...this.preroll, frame], pcmStartMs: startMs - this.preroll.length * FRAME_MS, speechStartMs: startMs, lastSpeechEndMs: endMs };
        this.preroll = [];
      } else {
        this.preroll.push(frame);
        if (this.preroll.length > this.preFrames) this.preroll.shift();
      }
      return;
    }
    speech.frames.push(frame);
    if (isSpeech) speech.lastSpeechEndMs = endMs;
    if (endMs - speech.lastSpeechEndMs >= this.endSilenceMs) this.finish(speech, "silence", endMs);
    else if (speech.frames.length >= this.maxFrames) this.finish(speech, "max_length", endMs);
  }

  private finish(speech: Speech, endedBy: Utterance["endedBy"], nowMs: number): void {
    this.speech = undefined;
    const keep = endedBy === "max_length" ? speech.frames.length : Math.min(speech.frames.length, Math.ceil((speech.lastSpeechEndMs + this.postPaddingMs - speech.pcmStartMs) / FRAME_MS));
    // The silence after the padding is the next utterance's pre-padding; a cut leaves none, so audio never repeats.
    this.preroll = endedBy === "max_length" ? [] : speech.frames.slice(keep).slice(-this.preFrames);
    if (speech.lastSpeechEndMs - speech.speechStartMs < this.minSpeechMs) return;
    this.onUtterance({
      pcm: Buffer.concat(speech.frames.slice(0, keep)),
      speechStartMs: speech.speechStartMs,
      speechEndMs: speech.lastSpeechEndMs,
      endOfSpeechWaitMs: nowMs - speech.lastSpeechEndMs,
      endedBy,
    });
  }
}
