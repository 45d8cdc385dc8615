/**
 * The audio an STT engine is handed: silence of a given length, and a RIFF/WAVE file around
 * 16 kHz mono s16le PCM (the canonical 44-byte header, PCM format 1), which is what engines
 * plugged in through external.ts read.
 */
import { BYTES_PER_SAMPLE, SAMPLE_RATE } from "./engine.js";

const WAV_HEADER_BYTES = 44;

/** Digital silence of `ms` milliseconds (whole samples). */
export function silence(ms: number): Buffer {
  return Buffer.alloc(Math.round((ms * SAMPLE_RATE) / 1000) * BYTES_PER_SAMPLE);
}

/** Seconds of audio in `bytes` of s16le mono at 16 kHz. */
export function secondsOf(bytes: number): number {
  return bytes / BYTES_PER_SAMPLE / SAMPLE_RATE;
}

/** A WAV file holding `pcm` (s16le, 16 kHz, mono). */
export function wavFile(pcm: Buffer): Buffer {
  const h = Buffer.alloc(WAV_HEADER_BYTES);
  h.write("RIFF", 0, "ascii");
  h.writeUInt32LE(WAV_HEADER_BYTES - 8 + pcm.length, 4);
  h.write("WAVE", 8, "ascii");
  h.write("fmt ", 12, "ascii");
  h.writeUInt32LE(16, 16); // size of the fmt chunk
  h.writeUInt16LE(1, 20); // PCM
  h.writeUInt16LE(1, 22); // channels
  h.writeUInt32LE(SAMPLE_RATE, 24);
  h.writeUInt32LE(SAMPLE_RATE * BYTES_PER_SAMPLE, 28); // byte rate
  h.writeUInt16LE(BYTES_PER_SAMPLE, 32); // block align
  h.writeUInt16LE(8 * BYTES_PER_SAMPLE, 34); // bits per sample
  h.write("data", 36, "ascii");
  h.writeUInt32LE(pcm.length, 40);
  return Buffer.concat([h, pcm]);
}
