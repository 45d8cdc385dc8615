/**
 * The speaker driver ("speaker"): plays WAV files through ALSA's aplay, one at a time. This
 * file is the driver's face: its options, what it promises (SpeakerDriver) and the factory that
 * checks the options before anything runs. The work is in aplay.ts.
 *
 * Rules of this file:
 * - Options are checked here, once, with messages naming the option and the value.
 * - device null (or unset) plays on ALSA's default device; "null" is ALSA's discarding sink.
 */
import type { Driver, DriverFactory } from "../../abi/driver.js";
import { AplaySpeaker } from "./aplay.js";

export interface SpeakerOptions {
  /** aplay, or the name or path of a program with its command line (tests use a fake). */
  readonly command?: string;
  /** ALSA playback device (e.g. default, hw:0, plughw:1,0, null). Unset or null: ALSA's default. */
  readonly device?: string | null;
  /** How long past the sound's own length a playback may run before the player is killed; default 5000. */
  readonly timeoutMs?: number;
}

export interface Playback {
  /** Wall-clock milliseconds from starting the player to its exit (waiting in the queue excluded). */
  readonly ms: number;
}

export interface SpeakerDriver extends Driver {
  /**
   * Plays one WAV after every playback asked for before it (phrases never overlap). Rejects with
   * the player's exit code and stderr when it fails; aborting kills the player (or drops the
   * WAV from the queue) and rejects with the signal's reason.
   */
  play(wav: Buffer, signal?: AbortSignal): Promise<Playback>;
}

export const DEFAULT_TIMEOUT_MS = 5_000;
/** One hour: longer past the sound's end is never a sensible wait for a player. */
const TIMEOUT_MS_LIMIT = 3_600_000;

function check(ok: boolean, what: string): void {
  if (!ok) throw new Error(`speaker driver: ${what}`);
}

export const create: DriverFactory<SpeakerOptions, SpeakerDriver> = (options, ctx) => {
  const command = options.command ?? "aplay";
  const device = options.device ?? null;
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  check(typeof command === "string" && command.length > 0, `command must be a program name or path, got ${JSON.stringify(command)}`);
  check(device === null || (typeof device === "string" && device.length > 0), `device must be an ALSA device name (e.g. default, hw:0, null) or null, got ${JSON.stringify(device)}`);
  check(Number.isInteger(timeoutMs) && timeoutMs >= 1 && timeoutMs <= TIMEOUT_MS_LIMIT, `timeoutMs must be a whole number of milliseconds from 1 to ${TIMEOUT_MS_LIMIT}, got ${String(timeoutMs)}`);
  return new AplaySpeaker({ command, device, timeoutMs }, ctx);
};
