/**
 * The speech-to-text driver ("stt"): offline speech recognition behind one port (engine.ts),
 * with the adapter chosen by `engine`:
 * - "pocketsphinx": Debian's pocketsphinx + pocketsphinx-en-us, one long-lived process held to a
 *   grammar generated from the intent rules (pocketsphinx.ts). English only out of the box.
 * - "command": a program the user installs, run once per utterance with a WAV (external.ts) —
 *   the way to other languages, e.g. a Russian model, since Debian ships none.
 *
 * Rules of this file: it only picks the adapter; each adapter checks its own options when it is
 * built, so a driver built from bad options is never returned. An unknown engine fails with the
 * valid names.
 */
import type { DriverFactory } from "../../abi/driver.js";
import type { SttEngine } from "./engine.js";
import { ExternalStt, type ExternalOptions } from "./external.js";
import { PocketsphinxStt, type PocketsphinxOptions } from "./pocketsphinx.js";

export type { SttEngine, Transcription } from "./engine.js";
export { STT_CAPABILITY, PCM_FORMAT } from "./engine.js";
export type { GrammarSource, CompiledGrammar } from "./grammar.js";
export { compileGrammar, loadGrammar, jsgfGrammar, normalisePhrase, DEFAULT_DICTIONARY } from "./grammar.js";
export type { ExternalOptions } from "./external.js";
export type { PocketsphinxOptions, PocketsphinxCounts } from "./pocketsphinx.js";
export { DEFAULT_HMM } from "./pocketsphinx.js";

export const ENGINES = ["pocketsphinx", "command"] as const;

export type SttOptions = ({ readonly engine: "pocketsphinx" } & PocketsphinxOptions) | ({ readonly engine: "command" } & ExternalOptions);

export const create: DriverFactory<SttOptions, SttEngine> = (options, ctx) => {
  switch (options.engine) {
    case "pocketsphinx":
      return new PocketsphinxStt(options, ctx);
    case "command":
      return new ExternalStt(options, ctx);
    default:
      throw new Error(`stt driver: unknown engine ${JSON.stringify((options as { engine?: unknown }).engine)}; valid engines: ${ENGINES.join(", ")}`);
  }
};
