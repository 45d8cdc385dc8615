/**
 * The local IO sinks as a port: the console print (ui.notify) and text-to-speech (ui.say). The
 * router and the HTTP endpoints (routes.ts) deliver through these and know nothing else.
 *
 * Rules of this file:
 * - ConsoleSink prints one line per notification, upstream's format: `[IO/console@<node>] <text>`,
 *   plus ` (from <origin>)` when the sender is known. Text comes from other nodes and skills, so
 *   control characters (newlines and terminal escapes included) become spaces: one notification
 *   is one line and cannot repaint the terminal or fake a line of its own.
 * - SaySink resolves once the phrase was spoken (or queued by the engine) and rejects when it
 *   could not be. The default here, LogSaySink, only logs the text at info and keeps the last few
 *   requests in memory (for tests and for a node without audio). The real espeak-ng driver comes
 *   in a later issue and implements this same port.
 */
import type { Logger } from "../core/logger.js";

export interface ConsoleSink {
  print(text: string, origin?: string): void;
}

export interface SayRequest {
  readonly text: string;
  readonly voice?: string;
  readonly lang?: string;
}

export interface SaySink {
  say(req: SayRequest): Promise<void>;
}

/** How many say requests LogSaySink remembers. */
export const DEFAULT_SAY_HISTORY = 20;

// C0 controls (newline, tab and ESC included), DEL and C1 controls.
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/g;

/** Text safe to print as (part of) one terminal line. */
export function printable(text: string): string {
  return text.replace(CONTROL, " ");
}

/** Prints to a writable stream: process.stdout unless told otherwise. */
export class StreamConsoleSink implements ConsoleSink {
  constructor(
    private readonly nodeId: string,
    private readonly out: NodeJS.WritableStream = process.stdout,
  ) {}

  print(text: string, origin?: string): void {
    const from = origin === undefined || origin === "" ? "" : ` (from ${printable(origin)})`;
    this.out.write(`[IO/console@${this.nodeId}] ${printable(text)}${from}\n`);
  }
}

/** Logs what would be spoken; remembers the last `keep` requests, oldest first. */
export class LogSaySink implements SaySink {
  readonly #recent: SayRequest[] = [];

  constructor(
    private readonly logger: Logger,
    private readonly keep = DEFAULT_SAY_HISTORY,
  ) {}

  get recent(): readonly SayRequest[] {
    return this.#recent;
  }

  say(req: SayRequest): Promise<void> {
    this.logger.info({ text: req.text, voice: req.voice, lang: req.lang }, "say (no TTS engine on this node: logged only)");
    this.#recent.push({ ...req });
    if (this.#recent.length > this.keep) this.#recent.shift();
    return Promise.resolve();
  }
}
