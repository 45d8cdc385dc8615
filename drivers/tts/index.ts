/**
 * The text-to-speech driver ("tts"): text in, a WAV out, through espeak-ng. This file is the
 * driver's face: its options, what it promises (TtsDriver) and the factory that checks the
 * options before anything runs. The work is in espeak.ts.
 *
 * Rules of this file:
 * - Options are checked here, once, with messages naming the option and the value; a driver
 *   built from bad options is never returned.
 * - voice: a configured voice wins; without one the phrase's lang picks it (en → en-us,
 *   ru → ru), and an unknown lang falls back to en-us with a warning. A per-phrase voice wins
 *   over both.
 */
import type { Driver, DriverFactory } from "../../abi/driver.js";
import { EspeakTts, VOICE_NAME } from "./espeak.js";

export interface TtsOptions {
  /** espeak-ng, or the name or path of a program with its command line (e.g. espeak). */
  readonly command?: string;
  /** espeak-ng voice (e.g. en-us, ru, en-us+f3). Unset or null: from the phrase's lang, else en-us. */
  readonly voice?: string | null;
  /** Words per minute, 80–450; default 160. */
  readonly rate?: number;
  /** The longest text accepted, in characters; default 2000 (what ui.say allows; about two minutes of speech). */
  readonly maxChars?: number;
}

export interface SynthesizeOptions {
  /** An espeak-ng voice for this phrase only. */
  readonly voice?: string;
  /** The phrase's language (BCP 47, e.g. en, ru, en-GB): picks the voice when none is set. */
  readonly lang?: string;
}

export interface Synthesis {
  /** A RIFF/WAVE file (16-bit mono PCM as espeak-ng writes it) with correct chunk sizes. */
  readonly wav: Buffer;
  /** Wall-clock milliseconds the synthesis took. */
  readonly ms: number;
}

export interface TtsDriver extends Driver {
  /** Rejects with the program's exit code and stderr when it fails; aborting kills it. */
  synthesize(text: string, opts?: SynthesizeOptions, signal?: AbortSignal): Promise<Synthesis>;
}

export const DEFAULT_RATE = 160;
export const DEFAULT_MAX_CHARS = 2000;
/** espeak-ng's own bounds of -s. */
const RATE_MIN = 80;
const RATE_MAX = 450;
/** Well under Linux's 128 KiB limit of one argument (the text is passed as one). */
const MAX_CHARS_LIMIT = 32_768;

function check(ok: boolean, what: string): void {
  if (!ok) throw new Error(`tts driver: ${what}`);
}

export const create: DriverFactory<TtsOptions, TtsDriver> = (options, ctx) => {
  const command = options.command ?? "espeak-ng";
  const voice = options.voice ?? null;
  const rate = options.rate ?? DEFAULT_RATE;
  const maxChars = options.maxChars ?? DEFAULT_MAX_CHARS;
  check(typeof command === "string" && command.length > 0, `command must be a program name or path, got ${JSON.stringify(command)}`);
  check(voice === null || VOICE_NAME.test(voice), `voice ${JSON.stringify(voice)} is not an espeak-ng voice name (e.g. en-us, ru, en-us+f3)`);
  check(Number.isInteger(rate) && rate >= RATE_MIN && rate <= RATE_MAX, `rate must be a whole number of words per minute from ${RATE_MIN} to ${RATE_MAX}, got ${String(rate)}`);
  check(Number.isInteger(maxChars) && maxChars >= 1 && maxChars <= MAX_CHARS_LIMIT, `maxChars must be a whole number from 1 to ${MAX_CHARS_LIMIT}, got ${String(maxChars)}`);
  return new EspeakTts({ command, voice, rate, maxChars }, ctx);
};
