/**
 * What a speech grammar generator needs from the intent rules for one language: the patterns
 * (normalised, `{slot}` placeholders kept) and, for each enumerated slot they name, that
 * language's phrases (normalised, longest first, file order among equals).
 *
 * Rules:
 * - A pattern with a free-text slot is left out: a grammar lists every sentence it accepts, and
 *   "any words" is not a list. Such intents reach the agent through the text path only.
 * - `slots` holds exactly the slots the kept patterns name; every placeholder has an entry.
 * - A language the rules lack is a BadRequestError (ruleLanguage); ru-RU counts as ru.
 */
import { ruleLanguage, type IntentRules } from "./rules-load.js";

export interface GrammarSource {
  readonly patterns: readonly string[];
  readonly slots: Readonly<Record<string, readonly string[]>>;
}

export function grammarSource(rules: IntentRules, lang: string): GrammarSource {
  const code = ruleLanguage(rules, lang);
  const patterns: string[] = [];
  const slots: Record<string, string[]> = {};
  for (const intent of rules.intents.values()) {
    for (const pattern of intent.patterns.get(code) ?? []) {
      if (pattern.parts.some((p) => p.kind === "text")) continue;
      patterns.push(pattern.source);
      for (const part of pattern.parts) if (part.kind === "enum") slots[part.slot] ??= phrasesOf(rules, part.slot, code);
    }
  }
  return { patterns, slots };
}

/** The slot's phrases in the language (unique: the loader refuses a phrase said twice). */
function phrasesOf(rules: IntentRules, slot: string, lang: string): string[] {
  const rule = rules.slots.get(slot);
  return rule?.kind === "enum" ? (rule.phrases.get(lang) ?? []).map((p) => p.words.join(" ")) : [];
}
