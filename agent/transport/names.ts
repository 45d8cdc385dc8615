/**
 * Subjects, patterns, queue names and MQTT topics as the adapters need them: validated once,
 * cached (the same few subjects carry most traffic), and failing with E_SUBJECT_INVALID.
 */
import { patternToFilter, subjectToTopic, topicToSubject } from "../../abi/subjects.js";
import { SubjectInvalidError } from "../core/errors.js";
import { patternTokens, subjectTokens } from "../bus/subject.js";

/** Distinct subjects/topics remembered; cleared when full (a subject flood cannot grow memory). */
const CACHE_MAX = 10_000;
/** Queue group names are short identifiers, like NATS queue names. */
const MAX_QUEUE_LENGTH = 128;

class BoundedCache<V> {
  readonly #map = new Map<string, V>();

  get(key: string, make: (key: string) => V): V {
    const hit = this.#map.get(key);
    if (hit !== undefined) return hit;
    const value = make(key);
    if (this.#map.size >= CACHE_MAX) this.#map.clear();
    this.#map.set(key, value);
    return value;
  }
}

function wrap<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof RangeError) throw new SubjectInvalidError(err.message, { cause: err });
    throw err;
  }
}

const subjects = new BoundedCache<string>();
const topics = new BoundedCache<string>();
const decoded = new BoundedCache<{ subject: string; tokens: readonly string[] }>();

/** Throws SubjectInvalidError unless `subject` is a concrete subject. */
export function checkSubject(subject: string): string {
  return subjects.get(subject, (s) => (subjectTokens(s), s));
}

/** Tokens of a pattern; throws SubjectInvalidError. */
export function checkPattern(pattern: string): readonly string[] {
  return patternTokens(pattern);
}

export function checkQueue(queue: string | undefined): string | undefined {
  if (queue === undefined) return undefined;
  if (queue.length === 0 || queue.length > MAX_QUEUE_LENGTH || /[\s\0]/.test(queue)) {
    throw new SubjectInvalidError(`queue group "${queue}" must be 1-${MAX_QUEUE_LENGTH} characters without whitespace`);
  }
  return queue;
}

/** The MQTT topic of a subject (abi/subjects.ts); throws SubjectInvalidError. */
export function topicOf(subject: string): string {
  return topics.get(subject, (s) => wrap(() => subjectToTopic(s)));
}

/** The MQTT topic filter of a pattern; throws SubjectInvalidError. */
export function filterOf(pattern: string): string {
  return wrap(() => patternToFilter(pattern));
}

/** The subject (and its tokens) an MQTT topic encodes; throws SubjectInvalidError. */
export function subjectOf(topic: string): { readonly subject: string; readonly tokens: readonly string[] } {
  return decoded.get(topic, (t) => {
    const subject = wrap(() => topicToSubject(t));
    return { subject, tokens: subject.split(".") };
  });
}
