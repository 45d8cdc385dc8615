/**
 * Reads what pocketsphinx_continuous prints on stdout with `-time yes`: for each utterance its
 * VAD closed, the hypothesis line (the words, no prefix; an empty line when it matched nothing),
 * then one line per segment, `word start end confidence`, times in seconds since the start of
 * the input stream (measured: they keep counting across utterances of one process).
 *
 * Rules of this file:
 * - A line of the form `<word> <seconds> <seconds> <number>` is a segment; any other line is a
 *   hypothesis. Grammar words are letters, digits and apostrophes only (grammar.ts), so a
 *   hypothesis never looks like a segment.
 * - A hypothesis is reported once, at the first segment that places it in the stream: its first
 *   real word (fillers such as <sil>, <s>, [NOISE] can straddle the silence between utterances),
 *   or its first segment when the hypothesis is empty. The midpoint of that segment is its time.
 * - Segments without a hypothesis before them are ignored.
 */

export interface Hypothesis {
  /** The words pocketsphinx heard, "" when nothing in the grammar matched. */
  readonly text: string;
  /** Where in the input stream it was heard, seconds since the process started reading. */
  readonly atSec: number;
}

const SEGMENT = /^(\S+) (-?\d+(?:\.\d+)?) (-?\d+(?:\.\d+)?) (\S+)$/;
const FILLER = /^[<[]/;

export class HypothesisReader {
  readonly #onHypothesis: (h: Hypothesis) => void;
  #held: string | undefined;

  constructor(onHypothesis: (h: Hypothesis) => void) {
    this.#onHypothesis = onHypothesis;
  }

  /** One line of stdout, without its newline. */
  line(line: string): void {
    const seg = SEGMENT.exec(line.trim());
    if (seg === null) {
      this.#held = line.trim();
      return;
    }
    const text = this.#held;
    if (text === undefined) return;
    if (text.length > 0 && FILLER.test(seg[1] ?? "")) return;
    this.#held = undefined;
    this.#onHypothesis({ text, atSec: (Number(seg[2]) + Number(seg[3])) / 2 });
  }
}
