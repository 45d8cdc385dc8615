/**
 * Normalisation of command text, the same for the rules (patterns, slot phrases, fillers) and for
 * the input, so that "Покажи «Начало» на ТЕЛЕВИЗОРЕ!" and "покажи начало на телевизоре" compare equal.
 *
 * Rules, in order:
 * - Unicode NFKC (composed letters, so a decomposed "й" or "ё" is one letter; full-width forms fold);
 * - lower case; ё → е (Russian text writes either); stress marks left over (за́мок) dropped;
 * - an apostrophe between two letters stays, as U+0027 ("don't", "o'clock" are dictionary words);
 * - every other character that is not a letter, a combining mark or a digit is a word break;
 * - runs of breaks collapse to one space, none at either end.
 * Digits are kept as they are: "5" and "five" are different words.
 *
 * A pattern keeps its `{slot}` placeholders (normalizePattern); braces anywhere else are refused by
 * the loader, since normalisation would silently remove them.
 */

/** A placeholder in a pattern: `{name}`, the name as slots are named in the rules. */
export const PLACEHOLDER = /\{([a-z][a-z0-9_]{0,63})\}/g;

const APOSTROPHES = /[\u2019\u02bc\u2018`]/g;
/** Combining acute and grave that NFKC could not compose: stress marks in Russian text. */
const STRESS = /[\u0300\u0301]/g;
/** Not a letter, mark, digit or apostrophe: a word break. */
const BREAK = /[^\p{L}\p{M}\p{N}']+/gu;
/** An apostrophe with a non-letter on either side. */
const LOOSE_APOSTROPHE = /(?<!\p{L})'|'(?!\p{L})/gu;

/** The text as the recogniser compares it: lower case, ё → е, no punctuation, single spaces. */
export function normalizeText(text: string): string {
  return text
    .normalize("NFKC")
    .toLowerCase()
    .replaceAll("ё", "е")
    .replace(STRESS, "")
    .replace(APOSTROPHES, "'")
    .replace(LOOSE_APOSTROPHE, " ")
    .replace(BREAK, " ")
    .trim();
}

/** The words of a text, normalised; [] for a text of punctuation only. */
export function words(text: string): string[] {
  const n = normalizeText(text);
  return n === "" ? [] : n.split(" ");
}

/** A pattern normalised between its `{slot}` placeholders, which stay as written and as whole words. */
export function normalizePattern(pattern: string): string {
  const parts: string[] = [];
  let at = 0;
  for (const m of pattern.matchAll(PLACEHOLDER)) {
    parts.push(normalizeText(pattern.slice(at, m.index)), m[0]);
    at = m.index + m[0].length;
  }
  parts.push(normalizeText(pattern.slice(at)));
  return parts.filter((p) => p !== "").join(" ");
}
