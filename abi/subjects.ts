/**
 * Subjects and MQTT topics: the one mapping both transports use (documented in abi/subjects.md).
 *
 * A subject is NATS style: dot-separated, non-empty tokens without whitespace; a pattern may use
 * `*` (exactly one token) and `>` (last only: one or more tokens). On MQTT a token becomes a topic
 * level (`.`→`/`, `*`→`+`, `>`→`#`), and the characters MQTT reserves inside a level are
 * percent-encoded so that every token round-trips: `%`→`%25`, `/`→`%2F`, `+`→`%2B`, `#`→`%23`,
 * `$`→`%24` (uppercase hex, nothing else encoded). Decoding is strict: a topic that no subject maps
 * to (an empty level, a `.` or whitespace in a level, a stray or non-canonical `%`) is refused.
 *
 * abi/ imports nothing from the runtime: malformed input throws a RangeError with the reason; the
 * transports report it as E_SUBJECT_INVALID.
 */

export const ESCAPE = "%";
/** Characters percent-encoded inside a topic level: the escape itself and MQTT's `/ + # $`. */
export const RESERVED = ["%", "/", "+", "#", "$"] as const;
/** The longest subject or pattern accepted (NATS keeps subjects short; so do we). */
export const MAX_SUBJECT_LENGTH = 512;

const ENCODE = new Map<string, string>(RESERVED.map((c) => [c, `%${c.charCodeAt(0).toString(16).toUpperCase()}`]));
const DECODE = new Map<string, string>([...ENCODE].map(([c, code]) => [code, c]));
const NEEDS_ENCODING = /[%/+#$]/g;
const ESCAPE_SEQ = /%(.{0,2})/gs;
const BAD_CHARS = /[\s\0]/;

/** One subject token as one MQTT topic level. */
export function escapeToken(token: string): string {
  return token.replace(NEEDS_ENCODING, (c) => ENCODE.get(c) ?? c);
}

/** One MQTT topic level as the subject token it encodes; throws RangeError when none does. */
export function unescapeLevel(level: string): string {
  const token = level.replace(ESCAPE_SEQ, (seq) => {
    const c = DECODE.get(seq);
    if (c === undefined) throw new RangeError(`topic level "${level}": "${seq}" is not one of ${[...DECODE.keys()].join(" ")}`);
    return c;
  });
  for (const c of RESERVED) {
    if (c !== ESCAPE && level.includes(c)) throw new RangeError(`topic level "${level}" contains an unescaped "${c}"`);
  }
  checkToken(token, `topic level "${level}"`);
  return token;
}

function checkToken(token: string, what: string): void {
  if (token.length === 0) throw new RangeError(`${what} is empty`);
  if (token.includes(".")) throw new RangeError(`${what} contains "." (a subject token cannot)`);
  if (BAD_CHARS.test(token)) throw new RangeError(`${what} contains whitespace or NUL`);
}

/** Escaping can triple a token's length, so topics get three times the room of subjects. */
const MAX_TOPIC_LENGTH = 3 * MAX_SUBJECT_LENGTH;

function split(text: string, sep: string, what: string, max = MAX_SUBJECT_LENGTH): string[] {
  if (text.length === 0) throw new RangeError(`${what} is empty`);
  if (text.length > max) throw new RangeError(`${what} is longer than ${max} characters`);
  return text.split(sep);
}

/** Tokens of a concrete subject (no wildcards); throws RangeError. */
export function subjectTokens(subject: string): string[] {
  const tokens = split(subject, ".", `subject "${subject}"`);
  for (const t of tokens) {
    checkToken(t, `a token of subject "${subject}"`);
    if (t === "*" || t === ">") throw new RangeError(`subject "${subject}" contains the wildcard "${t}"`);
  }
  return tokens;
}

/** Tokens of a pattern (`*` one token, `>` last: the rest); throws RangeError. */
export function patternTokens(pattern: string): string[] {
  const tokens = split(pattern, ".", `pattern "${pattern}"`);
  tokens.forEach((t, i) => {
    checkToken(t, `a token of pattern "${pattern}"`);
    if (t === ">" && i !== tokens.length - 1) throw new RangeError(`pattern "${pattern}": ">" must be the last token`);
    if (t.length > 1 && (t.includes("*") || t.includes(">"))) throw new RangeError(`pattern "${pattern}": wildcards must be whole tokens`);
  });
  return tokens;
}

/** `ada.agent.tv-1.evt` → `ada/agent/tv-1/evt`; reserved characters in tokens are escaped. */
export function subjectToTopic(subject: string): string {
  return subjectTokens(subject).map(escapeToken).join("/");
}

/** `ada.agent.*.evt` → `ada/agent/+/evt`, `telemetry.>` → `telemetry/#`. */
export function patternToFilter(pattern: string): string {
  return patternTokens(pattern).map((t) => (t === "*" ? "+" : t === ">" ? "#" : escapeToken(t))).join("/");
}

/** The subject an MQTT topic encodes; throws RangeError for a topic no subject maps to. */
export function topicToSubject(topic: string): string {
  const tokens = split(topic, "/", `topic "${topic}"`, MAX_TOPIC_LENGTH).map(unescapeLevel);
  for (const t of tokens) if (t === "*" || t === ">") throw new RangeError(`topic "${topic}" has a level "${t}" that would be a wildcard`);
  return checkLength(tokens.join("."), `the subject of topic "${topic}"`);
}

/** The pattern an MQTT topic filter encodes (`+`→`*`, `#`→`>`); throws RangeError. */
export function filterToPattern(filter: string): string {
  const levels = split(filter, "/", `topic filter "${filter}"`, MAX_TOPIC_LENGTH);
  const pattern = levels
    .map((l, i) => {
      if (l === "+") return "*";
      if (l === "#") {
        if (i !== levels.length - 1) throw new RangeError(`topic filter "${filter}": "#" must be the last level`);
        return ">";
      }
      const t = unescapeLevel(l);
      if (t === "*" || t === ">") throw new RangeError(`topic filter "${filter}" has a literal level "${t}" that would be a wildcard`);
      return t;
    })
    .join(".");
  return checkLength(pattern, `the pattern of topic filter "${filter}"`);
}

function checkLength(text: string, what: string): string {
  if (text.length > MAX_SUBJECT_LENGTH) throw new RangeError(`${what} is longer than ${MAX_SUBJECT_LENGTH} characters`);
  return text;
}

// ---- the seed subject scheme (seed 000 "NATS на root-server"; ARCHITECTURE.md "Subjects") ----

function id(value: string, what: string): string {
  checkToken(value, `${what} "${value}"`);
  if (value === "*" || value === ">") throw new RangeError(`${what} must not be a wildcard`);
  return value;
}

function join(head: string, rest: readonly string[]): string {
  const subject = [head, ...rest].join(".");
  patternTokens(subject);
  return subject;
}

/** Commands to one agent: `ada.agent.{agentId}.cmd`. */
export function agentCmd(agentId: string): string {
  return `ada.agent.${id(agentId, "agent id")}.cmd`;
}

/** Events of one agent: `ada.agent.{agentId}.evt`. */
export function agentEvt(agentId: string): string {
  return `ada.agent.${id(agentId, "agent id")}.evt`;
}

/** Hub-local traffic: `ada.hub.{hubId}.{rest…}`; `hubSubject(h, ">")` is everything of one hub. */
export function hubSubject(hubId: string, ...rest: readonly string[]): string {
  return join(`ada.hub.${id(hubId, "hub id")}`, rest);
}

/** System, registration and pairing at the root: `ada.root.{rest…}`. */
export function rootSubject(...rest: readonly string[]): string {
  return join("ada.root", rest);
}

/**
 * What a hub relays to the root's uplink stream (ADAOS_UPLINK, `ada.root.uplink.>`), its own and its
 * members' events: `ada.root.uplink.{hubId}.{event_name}`, so the root filters by hub and by event.
 */
export function uplinkSubject(hubId: string, eventName: string): string {
  return rootSubject("uplink", id(hubId, "hub id"), ...eventName.split("."));
}

/** Telemetry of one node: `telemetry.{nodeId}.{rest…}`. */
export function telemetrySubject(nodeId: string, ...rest: readonly string[]): string {
  return join(`telemetry.${id(nodeId, "node id")}`, rest);
}

/** Events of one skill: `ada.skill.{skill}.{event}`. */
export function skillSubject(skill: string, ...rest: readonly string[]): string {
  return join(`ada.skill.${id(skill, "skill")}`, rest);
}
