/**
 * The speech-to-text port ("stt"): one utterance of 16 kHz mono s16le PCM in, its text out.
 * Every adapter in this folder (pocketsphinx.ts, external.ts) implements SttEngine and passes
 * the same driver contract (drivers/contract.ts).
 *
 * Rules every adapter keeps:
 * - transcribe() resolves with "" when the engine heard nothing it knows; it rejects only when
 *   the engine failed (it died, exited non-zero, ran out of time, was stopped) or the caller
 *   aborted, with a message naming the program, the exit code and the last stderr lines.
 * - `ms` is the wall-clock time from the call to the text, queueing included.
 * - An utterance is s16le, so an odd byte length is refused; an empty one is "" at once
 *   (emptyUtterance() makes both checks).
 */
import type { Driver, DriverCapability } from "../../abi/driver.js";

/** The audio format transcribe() takes: signed 16-bit little-endian, 16 kHz, one channel. */
export const PCM_FORMAT = "pcm_s16le_16k_mono";
export const SAMPLE_RATE = 16_000;
export const BYTES_PER_SAMPLE = 2;

export const STT_DRIVER_NAME = "stt";
export const STT_CAPABILITY: DriverCapability = Object.freeze({ id: "capability://stt.transcribe", inputs: Object.freeze([PCM_FORMAT]) });

export interface Transcription {
  /** Lower-case words as the engine wrote them, trimmed; "" when it heard nothing it knows. */
  readonly text: string;
  /** Wall-clock milliseconds from the call to the text. */
  readonly ms: number;
}

export interface SttEngine extends Driver {
  /** Which adapter this is (pocketsphinx, command): goes into voice.input's `engine`. */
  readonly engine: string;
  /** The language it recognises (BCP 47, e.g. en). */
  readonly lang: string;
  /** One utterance (s16le 16 kHz mono, with some silence around the speech) → its text. */
  transcribe(pcm: Buffer, signal?: AbortSignal): Promise<Transcription>;
}

/** Throws when `pcm` cannot be s16le samples (an odd number of bytes). */
export function checkPcm(pcm: Buffer): void {
  if (pcm.length % BYTES_PER_SAMPLE !== 0) throw new Error(`stt: the utterance has ${pcm.length} bytes, not whole 16-bit samples (expected ${PCM_FORMAT})`);
}

/**
 * What every transcribe() does first: refuses an utterance of torn samples (checkPcm) and an
 * aborted call (the signal's reason). True when the utterance is empty: its text is "" at once.
 */
export function emptyUtterance(pcm: Buffer, signal: AbortSignal | undefined): boolean {
  checkPcm(pcm);
  signal?.throwIfAborted();
  return pcm.length === 0;
}

/** What an AbortSignal's abort means to a caller: its reason when that is an Error. */
export function abortReason(signal: AbortSignal): Error {
  return signal.reason instanceof Error ? signal.reason : new Error("stt: transcription aborted");
}
