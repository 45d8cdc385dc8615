/**
 * The rule-based recogniser: `recognize(text, lang?)` finds the intent whose pattern the whole
 * normalised text matches, word by word, and the slot values it carries.
 *
 * Rules:
 * - A pattern matches when its words and slots use up every word of the input: a literal word
 *   equals one input word; an enumerated slot matches one of its phrases of that language and
 *   gives the phrase's canonical value (so "покажи начало…" and "show inception…" both give
 *   {title: "Inception"}); a free-text slot takes one or more words (as few as let the rest
 *   match) and gives them normalised, joined by spaces.
 * - Exact pass first (confidence EXACT_CONFIDENCE). Only when nothing matches, a tolerant pass
 *   drops the language's filler words (please, пожалуйста) from the input and tries again
 *   (confidence TOLERANT_CONFIDENCE). Nothing else is fuzzy: no typos, no word order, no stems.
 * - With a language given (a tag like ru-RU counts as ru) only its patterns are tried; without,
 *   every language's. Among several matches the one whose words and enumerated phrases cover
 *   the most input words wins (a free-text capture counts for nothing), then the language
 *   declared first, then the pattern declared first.
 * - null when nothing matches; a language the rules lack is a BadRequestError (ruleLanguage).
 */
import { words } from "./normalize.js";
import { ruleLanguage, type IntentRules, type Pattern, type PatternPart } from "./rules-load.js";

/** Every input word matched a pattern. */
export const EXACT_CONFIDENCE = 1;
/** Matched once filler words were dropped: likely right, worth a confirmation where mistakes cost. */
export const TOLERANT_CONFIDENCE = 0.8;

export interface Recognition {
  readonly intent: string;
  /** Slot name → canonical value (enumerated) or the captured words (free text). */
  readonly slots: Readonly<Record<string, string>>;
  readonly confidence: number;
  readonly lang: string;
  /** The pattern that matched, normalised: "show {title} on the tv". */
  readonly pattern: string;
}

export interface Recognizer {
  readonly languages: readonly string[];
  recognize(text: string, lang?: string): Recognition | null;
}

interface Capture {
  readonly slots: Record<string, string>;
  /** Input words taken by free-text slots. */
  readonly free: number;
}

function startsWith(input: readonly string[], at: number, phrase: readonly string[]): boolean {
  return phrase.every((w, k) => input[at + k] === w);
}

/** The slots when parts[p…] use up exactly input[i…]; backtracks over phrases and free-text lengths. */
function matchFrom(parts: readonly PatternPart[], p: number, input: readonly string[], i: number): Capture | undefined {
  const part = parts[p];
  if (part === undefined) return i === input.length ? { slots: {}, free: 0 } : undefined;
  if (part.kind === "word") return input[i] === part.word ? matchFrom(parts, p + 1, input, i + 1) : undefined;
  if (part.kind === "enum") {
    for (const phrase of part.phrases) {
      if (!startsWith(input, i, phrase.words)) continue;
      const rest = matchFrom(parts, p + 1, input, i + phrase.words.length);
      if (rest !== undefined) return { slots: { ...rest.slots, [part.slot]: phrase.value }, free: rest.free };
    }
    return undefined;
  }
  for (let n = 1; i + n <= input.length; n++) {
    const rest = matchFrom(parts, p + 1, input, i + n);
    if (rest !== undefined) return { slots: { ...rest.slots, [part.slot]: input.slice(i, i + n).join(" ") }, free: rest.free + n };
  }
  return undefined;
}

interface Candidate {
  readonly pattern: Pattern;
  readonly capture: Capture;
  readonly covered: number;
}

export function createRecognizer(rules: IntentRules): Recognizer {
  /** Patterns by language in tie-break order (intents in file order, then their patterns). */
  const byLang = new Map(rules.languages.map((lang) => [lang, [...rules.intents.values()].flatMap((i) => i.patterns.get(lang) ?? [])]));

  const best = (langs: readonly string[], input: (lang: string) => readonly string[] | undefined): Candidate | undefined => {
    let winner: Candidate | undefined;
    for (const lang of langs) {
      const said = input(lang);
      if (said === undefined || said.length === 0) continue;
      for (const pattern of byLang.get(lang) ?? []) {
        const capture = matchFrom(pattern.parts, 0, said, 0);
        if (capture === undefined) continue;
        const covered = said.length - capture.free;
        if (winner === undefined || covered > winner.covered) winner = { pattern, capture, covered };
      }
    }
    return winner;
  };

  return {
    languages: rules.languages,
    recognize(text, lang) {
      const langs = lang === undefined ? rules.languages : [ruleLanguage(rules, lang)];
      const said = words(text);
      const answer = (c: Candidate, confidence: number): Recognition => ({
        intent: c.pattern.intent,
        slots: c.capture.slots,
        confidence,
        lang: c.pattern.lang,
        pattern: c.pattern.source,
      });
      const exact = best(langs, () => said);
      if (exact !== undefined) return answer(exact, EXACT_CONFIDENCE);
      const withoutFillers = (l: string): string[] | undefined => {
        const fillers = rules.fillers.get(l);
        const kept = fillers === undefined ? said : said.filter((w) => !fillers.has(w));
        return kept.length === said.length ? undefined : kept;
      };
      const tolerant = best(langs, withoutFillers);
      return tolerant === undefined ? null : answer(tolerant, TOLERANT_CONFIDENCE);
    },
  };
}
