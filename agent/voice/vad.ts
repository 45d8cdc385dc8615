/**
 * A frame-based energy voice activity detector: each 30 ms frame of 16 kHz s16le (480 samples) is
 * speech when its energy stands out of the background noise by a margin. Pure: no I/O, no clock.
 * The noise floor is the quietest frame of the last few seconds (minimum statistics): speech has
 * pauses that let it track down at once, and a noise that stays (a fan turned on) becomes the
 * floor after floorWindowMs instead of being speech for ever.
 * Rules: frames are exactly frameSamples long (the caller frames the stream); digital silence
 * counts as SILENCE_DBFS, never -Infinity; nothing under minSpeechDbfs is speech, however quiet
 * the room.
 */

export const SAMPLE_RATE = 16_000;
export const FRAME_MS = 30;
export const FRAME_SAMPLES = (SAMPLE_RATE * FRAME_MS) / 1000;

/** Anything that can tell a frame of speech from one of silence (a WebRTC VAD would fit too). */
export interface FrameClassifier {
  isSpeech(frame: Int16Array): boolean;
}

export interface EnergyVadOptions {
  /**
   * dB over the noise floor for a frame to be speech; default 8. Measured on 40 espeak-ng commands
   * (utterances.test.ts): 8 segments as many as 7 in white noise and keeps pink noise silent;
   * 10 and up lose quiet endings at -30 dBFS noise, 6 makes utterances out of pink noise.
   */
  readonly marginDb?: number;
  /** Frames quieter than this (dBFS) are never speech; default -55: room hiss, dither, hum. */
  readonly minSpeechDbfs?: number;
  /** How far back the noise floor looks, in ms; default 3000: longer than a pause-free stretch of speech. */
  readonly floorWindowMs?: number;
}

/** The energy of digital silence, so that the arithmetic stays finite. */
const SILENCE_DBFS = -100;
const FULL_SCALE_SQUARED = 32768 * 32768;

/** The frame's mean power in dB relative to full scale (a full-scale square wave is 0). */
export function frameDbfs(frame: Int16Array): number {
  let sum = 0;
  for (const s of frame) sum += s * s;
  const power = sum / (frame.length * FULL_SCALE_SQUARED);
  return power > 0 ? Math.max(SILENCE_DBFS, 10 * Math.log10(power)) : SILENCE_DBFS;
}

export class EnergyVad implements FrameClassifier {
  private readonly marginDb: number;
  private readonly minSpeechDbfs: number;
  private readonly recent: number[];
  private next = 0;
  private filled = 0;
  private last = SILENCE_DBFS;

  constructor(opts: EnergyVadOptions = {}) {
    this.marginDb = opts.marginDb ?? 8;
    this.minSpeechDbfs = opts.minSpeechDbfs ?? -55;
    this.recent = new Array<number>(Math.max(1, Math.round((opts.floorWindowMs ?? 3000) / FRAME_MS))).fill(SILENCE_DBFS);
  }

  isSpeech(frame: Int16Array): boolean {
    const db = frameDbfs(frame);
    this.recent[this.next] = db;
    this.next = (this.next + 1) % this.recent.length;
    this.filled = Math.min(this.filled + 1, this.recent.length);
    this.last = db;
    return db >= this.minSpeechDbfs && db >= this.noiseFloorDb() + this.marginDb;
  }

  /** The current noise floor in dBFS (the quietest frame in the window); for diagnostics. */
  noiseFloorDb(): number {
    let floor = Infinity;
    for (let i = 0; i < this.filled; i += 1) floor = Math.min(floor, this.recent[i] ?? SILENCE_DBFS);
    return this.filled === 0 ? SILENCE_DBFS : floor;
  }

  /** The energy of the last frame classified, in dBFS; for diagnostics. */
  lastDbfs(): number {
    return this.last;
  }
}
