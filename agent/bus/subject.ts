/**
 * Subjects and patterns, NATS style: dot-separated non-empty tokens; in a pattern `*` matches
 * exactly one token and `>` (only as the last token) matches one or more.
 */
import { SubjectInvalidError } from "../core/errors.js";

const BAD_CHARS = /[\s\0]/;

function tokens(text: string, what: string): string[] {
  if (text.length === 0) throw new SubjectInvalidError(`${what} must not be empty`);
  if (text.length > 512) throw new SubjectInvalidError(`${what} is longer than 512 characters`);
  if (BAD_CHARS.test(text)) throw new SubjectInvalidError(`${what} "${text}" contains whitespace`);
  const parts = text.split(".");
  if (parts.some((t) => t.length === 0)) throw new SubjectInvalidError(`${what} "${text}" has an empty token`);
  return parts;
}

/** A concrete subject (no wildcards) as tokens; throws SubjectInvalidError. */
export function subjectTokens(subject: string): string[] {
  const parts = tokens(subject, "subject");
  if (parts.some((t) => t === "*" || t === ">")) throw new SubjectInvalidError(`subject "${subject}" must not contain wildcards`);
  return parts;
}

/** A subscription pattern as tokens; throws SubjectInvalidError. */
export function patternTokens(pattern: string): string[] {
  const parts = tokens(pattern, "pattern");
  parts.forEach((t, i) => {
    if (t === ">" && i !== parts.length - 1) throw new SubjectInvalidError(`pattern "${pattern}": '>' must be the last token`);
    if (t.length > 1 && (t.includes("*") || t.includes(">"))) {
      throw new SubjectInvalidError(`pattern "${pattern}": wildcards must be whole tokens ("${t}")`);
    }
  });
  return parts;
}

export function matches(pattern: readonly string[], subject: readonly string[]): boolean {
  for (let i = 0; i < pattern.length; i++) {
    const p = pattern[i];
    if (p === ">") return subject.length > i;
    if (i >= subject.length) return false;
    if (p !== "*" && p !== subject[i]) return false;
  }
  return pattern.length === subject.length;
}
