/**
 * Matches pocketsphinx's answers to the utterances written into its one input stream, by
 * position in that stream: each utterance owns the stretch of stream time its samples (with
 * their silence) fill, and a hypothesis belongs to the utterance whose stretch holds its time
 * (hypothesis.ts). This survives what a plain first-in-first-out match does not: an utterance
 * pocketsphinx printed nothing for, a line arriving after its utterance timed out, two lines
 * for one utterance.
 *
 * Rules of this file:
 * - A hypothesis inside a pending utterance's stretch settles it with the text.
 * - pocketsphinx answers in stream order, so a hypothesis also settles every pending utterance
 *   that ended before it with "" (it printed nothing for them): counted as passedOver.
 * - A hypothesis inside no pending utterance (its utterance timed out, was aborted, or already
 *   had its line) is dropped and counted.
 * - pocketsphinx prints nothing for speech that fits no path of the grammar, only a log line
 *   (pocketsphinx.ts watches for it): noMatch() settles a given pending utterance with "".
 * - reset() settles everything pending with the error and starts a new stream at 0 (a new
 *   process).
 */
import type { Hypothesis } from "./hypothesis.js";
import { SAMPLE_RATE } from "./engine.js";

export type Settle = (result: string | Error) => void;

interface Entry {
  readonly id: number;
  readonly startSec: number;
  readonly endSec: number;
  readonly settle: Settle;
}

export interface TimelineCounts {
  /** Hypotheses that belonged to no pending utterance. */
  readonly dropped: number;
  /** Utterances settled with "" because a later one was answered first. */
  readonly passedOver: number;
  /** Utterances settled with "" because pocketsphinx said they matched no grammar path. */
  readonly noMatch: number;
}

export class Timeline {
  #samples = 0;
  #nextId = 1;
  #pending: Entry[] = [];
  #dropped = 0;
  #passedOver = 0;
  #noMatch = 0;

  /** Claims the next `samples` of the stream for one utterance; returns its id. */
  add(samples: number, settle: Settle): number {
    const startSec = this.#samples / SAMPLE_RATE;
    this.#samples += samples;
    const id = this.#nextId++;
    this.#pending.push({ id, startSec, endSec: this.#samples / SAMPLE_RATE, settle });
    return id;
  }

  /** Forgets a pending utterance (timed out, aborted); false when it was no longer pending. */
  remove(id: number): boolean {
    const before = this.#pending.length;
    this.#pending = this.#pending.filter((e) => e.id !== id);
    return this.#pending.length < before;
  }

  /** The id of the earliest pending utterance, if any. */
  earliest(): number | undefined {
    return this.#pending[0]?.id;
  }

  /** Settles utterance `id` with "" (it matched no grammar path) if it is still pending. */
  noMatch(id: number): void {
    const entry = this.#pending.find((e) => e.id === id);
    if (entry === undefined) return;
    this.remove(id);
    this.#noMatch++;
    entry.settle("");
  }

  hear(h: Hypothesis): void {
    const settled: [Entry, string][] = [];
    let matched = false;
    for (const e of this.#pending) {
      if (e.endSec <= h.atSec) {
        settled.push([e, ""]);
        this.#passedOver++;
      } else if (e.startSec <= h.atSec) {
        settled.push([e, h.text]);
        matched = true;
      }
    }
    if (!matched) this.#dropped++;
    const done = new Set(settled.map(([e]) => e.id));
    this.#pending = this.#pending.filter((e) => !done.has(e.id));
    for (const [e, text] of settled) e.settle(text);
  }

  /** Settles every pending utterance with `err`; the next utterance starts a new stream at 0. */
  reset(err: Error): void {
    const pending = this.#pending;
    this.#pending = [];
    this.#samples = 0;
    for (const e of pending) e.settle(err);
  }

  get pending(): number {
    return this.#pending.length;
  }

  counts(): TimelineCounts {
    return { dropped: this.#dropped, passedOver: this.#passedOver, noMatch: this.#noMatch };
  }
}
