/**
 * The SaySink (agent/io/sinks.ts) that speaks: ui.say and POST /api/say through the tts driver
 * (text → WAV) and the speaker driver (WAV → sound).
 *
 * Rules of this file:
 * - Phrases are spoken in the order say() was called. Synthesis of a phrase may run while the
 *   one before it plays; its playback waits for the earlier phrase to finish (or fail).
 * - say() resolves once the phrase was played, and rejects with a message naming the step that
 *   failed ("synthesis" or "playback") and the driver's own reason (kept as the cause). A failed
 *   phrase does not hold up the ones after it.
 */
import type { SpeakerDriver } from "../../drivers/speaker/index.js";
import type { TtsDriver } from "../../drivers/tts/index.js";
import type { SayRequest, SaySink } from "../io/sinks.js";

function failed(step: string, err: unknown): Error {
  return new Error(`say: ${step} failed: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
}

export class SpeakerSaySink implements SaySink {
  /** Settles when the phrase said last has been played or has failed. */
  #previous: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly tts: TtsDriver,
    private readonly speaker: SpeakerDriver,
  ) {}

  say(req: SayRequest): Promise<void> {
    const opts = { ...(req.voice === undefined ? {} : { voice: req.voice }), ...(req.lang === undefined ? {} : { lang: req.lang }) };
    const wav = this.tts.synthesize(req.text, opts).then(
      (s) => s.wav,
      (err: unknown) => Promise.reject(failed("synthesis", err)),
    );
    wav.catch(() => undefined); // its failure is reported when its turn comes, not as unhandled before
    const spoken = this.#previous.then(() => wav).then(async (w) => {
      await this.speaker.play(w).catch((err: unknown) => Promise.reject(failed("playback", err)));
    });
    this.#previous = spoken.catch(() => undefined);
    return spoken;
  }
}
