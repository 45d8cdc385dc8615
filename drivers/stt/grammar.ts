/**
 * The speech grammar of the pocketsphinx adapter, generated from the intent rules: a JSGF
 * grammar of the command phrases and a pronunciation dictionary cut from the acoustic model's
 * dictionary (cmudict-en-us.dict), holding only the words the grammar uses. A recogniser held to
 * these phrases is what makes pocketsphinx usable (see /work/shared/notes/voice.md: 97% word
 * accuracy with a grammar, useless with the full language model).
 *
 * Rules of this file:
 * - Input is normalised the same way everywhere: lower case (NFKC), every character that is not
 *   a letter, a digit, an apostrophe or a space becomes a space ("spider-man" → "spider man"),
 *   apostrophes at the edges of a word are dropped, runs of spaces collapse.
 * - A `{name}` in a pattern refers to `slots[name]` and becomes the rule `<slot_name>`, so a
 *   slot may have any name (even "command") without clashing with the public rule `<command>`.
 * - Every pronunciation variant of a used word is kept ("the" and "the(2)"), in the
 *   dictionary's order.
 * - Every problem is reported at once, with where it came from: a pattern naming an unknown
 *   slot, a slot without values, words the dictionary lacks (listed with the pattern or slot
 *   value they came from). A grammar with a problem is never returned.
 * - Everything is a pure function except loadGrammar(), which reads the dictionary file.
 */
import { readFile } from "node:fs/promises";

/** Where pocketsphinx-en-us puts its pronunciation dictionary. */
export const DEFAULT_DICTIONARY = "/usr/share/pocketsphinx/model/en-us/cmudict-en-us.dict";

export interface GrammarSource {
  /** Lower-case word sequences with {slot} placeholders, e.g. "show {title} on the tv". */
  readonly patterns: readonly string[];
  /** Values of each slot, lower-case phrases, e.g. {title: ["inception", "the matrix"]}. */
  readonly slots: Readonly<Record<string, readonly string[]>>;
}

export interface CompiledGrammar {
  /** The JSGF text (grammar `commands`, public rule `<command>`). */
  readonly jsgf: string;
  /** The dictionary lines for the grammar's words, one pronunciation a line. */
  readonly dict: string;
  /** The distinct words the grammar uses, sorted. */
  readonly words: readonly string[];
}

const SLOT_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const PLACEHOLDER = /\{([^{}]*)\}/g;
/** How many unknown words an error lists before "and N more". */
const MAX_LISTED = 20;

/** A phrase as the grammar and the recogniser spell it. */
export function normalisePhrase(text: string): string {
  return text
    .normalize("NFKC")
    .toLowerCase()
    .replace(/[^\p{L}\p{N}'\s]/gu, " ")
    .split(/\s+/)
    .map((w) => w.replace(/^'+|'+$/g, ""))
    .filter((w) => w.length > 0)
    .join(" ");
}

type Piece = { readonly words: string } | { readonly slot: string };

interface Parsed {
  readonly alternatives: readonly (readonly Piece[])[];
  readonly slotValues: ReadonlyMap<string, readonly string[]>;
  /** word → where it appears (first few places). */
  readonly origins: ReadonlyMap<string, readonly string[]>;
}

function rule(slot: string): string {
  return `<slot_${slot}>`;
}

function parse(source: GrammarSource): Parsed {
  const problems: string[] = [];
  const origins = new Map<string, string[]>();
  const note = (phrase: string, where: string): void => {
    for (const w of phrase.split(" ")) {
      if (w.length === 0) continue;
      const list = origins.get(w) ?? [];
      if (list.length < 3 && !list.includes(where)) list.push(where);
      origins.set(w, list);
    }
  };

  const alternatives: Piece[][] = [];
  const seen = new Set<string>();
  const used = new Set<string>();
  for (const pattern of source.patterns) {
    const pieces: Piece[] = [];
    let last = 0;
    for (const m of pattern.matchAll(PLACEHOLDER)) {
      const words = normalisePhrase(pattern.slice(last, m.index));
      if (words.length > 0) pieces.push({ words });
      const slot = (m[1] ?? "").trim();
      if (!SLOT_NAME.test(slot)) problems.push(`pattern ${JSON.stringify(pattern)}: {${slot}} is not a slot name (letters, digits, _)`);
      else if (!Object.hasOwn(source.slots, slot)) problems.push(`pattern ${JSON.stringify(pattern)}: slot {${slot}} has no values (slots: ${Object.keys(source.slots).join(", ") || "none"})`);
      else {
        pieces.push({ slot });
        used.add(slot);
      }
      last = m.index + m[0].length;
    }
    const tail = normalisePhrase(pattern.slice(last));
    if (tail.length > 0) pieces.push({ words: tail });
    if (pieces.length === 0) {
      problems.push(`pattern ${JSON.stringify(pattern)} has no words`);
      continue;
    }
    for (const p of pieces) if ("words" in p) note(p.words, `pattern ${JSON.stringify(pattern)}`);
    const key = pieces.map((p) => ("words" in p ? p.words : rule(p.slot))).join(" ");
    if (seen.has(key)) continue;
    seen.add(key);
    alternatives.push(pieces);
  }
  if (source.patterns.length === 0) problems.push("there are no patterns");

  const slotValues = new Map<string, string[]>();
  for (const slot of [...used].sort()) {
    const values = [...new Set((source.slots[slot] ?? []).map(normalisePhrase).filter((v) => v.length > 0))];
    if (values.length === 0) problems.push(`slot {${slot}} has no values with words`);
    for (const v of values) note(v, `slot ${slot}: ${JSON.stringify(v)}`);
    slotValues.set(slot, values);
  }
  if (problems.length > 0) throw new Error(`stt grammar: ${problems.join("; ")}`);
  return { alternatives, slotValues, origins };
}

function jsgfOf(parsed: Parsed): string {
  const lines = ["#JSGF V1.0;", "grammar commands;"];
  for (const [slot, values] of parsed.slotValues) lines.push(`${rule(slot)} = ${values.join(" | ")};`);
  const alts = parsed.alternatives.map((pieces) => pieces.map((p) => ("words" in p ? p.words : rule(p.slot))).join(" "));
  lines.push(`public <command> = ${alts.join(" | ")};`);
  return lines.join("\n") + "\n";
}

/** The JSGF grammar of `source` (throws on an unknown slot, an empty pattern or slot). */
export function jsgfGrammar(source: GrammarSource): string {
  return jsgfOf(parse(source));
}

/**
 * The lines of `dictText` (a CMU-style dictionary: `word PH ON ES`, variants as `word(2)`) whose
 * word is a key of `origins` (word → where it is used); throws listing the words it lacks, with
 * where each came from.
 */
export function cutDictionary(origins: ReadonlyMap<string, readonly string[]>, dictText: string, dictName = "the dictionary"): string {
  const found = new Set<string>();
  const kept: string[] = [];
  for (const line of dictText.split("\n")) {
    const m = /^(\S+?)(\(\d+\))?\s+(\S.*?)\s*$/.exec(line);
    if (m === null) continue;
    const word = (m[1] ?? "").toLowerCase();
    if (!origins.has(word)) continue;
    found.add(word);
    kept.push(`${word}${m[2] ?? ""} ${(m[3] ?? "").split(/\s+/).join(" ")}`);
  }
  const missing = [...origins.keys()].filter((w) => !found.has(w)).sort();
  if (missing.length > 0) {
    const listed = missing.slice(0, MAX_LISTED).map((w) => {
      const from = origins.get(w) ?? [];
      return from.length > 0 ? `"${w}" (${from.join("; ")})` : `"${w}"`;
    });
    const more = missing.length > MAX_LISTED ? `, and ${missing.length - MAX_LISTED} more` : "";
    throw new Error(
      `stt grammar: ${missing.length} word${missing.length === 1 ? " is" : "s are"} not in ${dictName}: ${listed.join(", ")}${more}. ` +
        "Spell them as dictionary words (numbers as words) or change the intent rules.",
    );
  }
  return kept.join("\n") + "\n";
}

/** Grammar and dictionary of `source`, the dictionary cut from `dictText`. */
export function compileGrammar(source: GrammarSource, dictText: string, dictName?: string): CompiledGrammar {
  const parsed = parse(source);
  return { jsgf: jsgfOf(parsed), dict: cutDictionary(parsed.origins, dictText, dictName), words: [...parsed.origins.keys()].sort() };
}

/** compileGrammar() with the dictionary read from `dictPath`. */
export async function loadGrammar(source: GrammarSource, dictPath: string = DEFAULT_DICTIONARY): Promise<CompiledGrammar> {
  let text: string;
  try {
    text = await readFile(dictPath, "utf8");
  } catch (err) {
    const hint = dictPath === DEFAULT_DICTIONARY ? " (install the Debian package pocketsphinx-en-us)" : "";
    throw new Error(`stt grammar: cannot read the pronunciation dictionary ${dictPath}${hint}: ${(err as Error).message}`, { cause: err });
  }
  return compileGrammar(source, text, dictPath);
}
