/**
 * The mic driver's options, their defaults, and the check that turns what the agent passes into a
 * complete, valid set (throwing an Error that names the option and what it accepts).
 * Rules: defaults live here only; a recorder is one of node-record-lpcm16's names or an absolute
 * path (a bare program name other than those would be looked up as a library module, not on PATH).
 */
import { isAbsolute } from "node:path";
import { RECORDER_NAMES, type RecorderSpec } from "./recorder.js";

export interface MicOptions {
  /** "arecord" (default), "sox", "rec", or the absolute path of a program taking arecord's arguments. */
  readonly recorder?: string;
  /** ALSA device, e.g. "plughw:1,0"; null or absent for the system default. */
  readonly device?: string | null;
  /** Samples a second; default 16000. */
  readonly sampleRate?: number;
  /** Default 1 (mono). */
  readonly channels?: number;
  /** Restart delays after the recorder dies: doubling from initialMs (500) up to maxMs (10000). */
  readonly backoff?: { readonly initialMs?: number; readonly maxMs?: number };
  /** How long start() waits for the first audio before it resolves anyway (degraded); default 1500. */
  readonly firstAudioWaitMs?: number;
}

export interface ResolvedMicOptions extends RecorderSpec {
  readonly backoff: { readonly initialMs: number; readonly maxMs: number };
  readonly firstAudioWaitMs: number;
}

/** arecord hands over its first period (tens of ms) almost at once; 1.5 s covers a slow USB card. */
const FIRST_AUDIO_WAIT_MS = 1500;

function positiveInteger(value: unknown, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !Number.isInteger(value) || value <= 0) throw new Error(`mic: option ${name} must be a positive integer, got ${JSON.stringify(value)}`);
  return value;
}

export function resolveMicOptions(options: MicOptions): ResolvedMicOptions {
  const recorder = options.recorder ?? "arecord";
  if (typeof recorder !== "string" || !((RECORDER_NAMES as readonly string[]).includes(recorder) || isAbsolute(recorder))) {
    throw new Error(`mic: option recorder must be one of ${RECORDER_NAMES.join(", ")} or an absolute program path, got ${JSON.stringify(recorder)}`);
  }
  const device = options.device ?? null;
  if (device !== null && (typeof device !== "string" || device.length === 0)) throw new Error(`mic: option device must be a non-empty string or null, got ${JSON.stringify(device)}`);
  const initialMs = positiveInteger(options.backoff?.initialMs, "backoff.initialMs", 500);
  const maxMs = positiveInteger(options.backoff?.maxMs, "backoff.maxMs", 10_000);
  if (maxMs < initialMs) throw new Error(`mic: option backoff.maxMs (${maxMs}) must not be below backoff.initialMs (${initialMs})`);
  return {
    recorder,
    device,
    sampleRate: positiveInteger(options.sampleRate, "sampleRate", 16_000),
    channels: positiveInteger(options.channels, "channels", 1),
    backoff: { initialMs, maxMs },
    firstAudioWaitMs: positiveInteger(options.firstAudioWaitMs, "firstAudioWaitMs", FIRST_AUDIO_WAIT_MS),
  };
}

/** The format name a capability announces, e.g. pcm_s16le_16k_mono. */
export function pcmFormat(sampleRate: number, channels: number): string {
  return `pcm_s16le_${sampleRate / 1000}k_${channels === 1 ? "mono" : `${channels}ch`}`;
}
