import { strict as assert } from "node:assert";
import { test } from "node:test";
import { prng } from "../agent/core/prng.js";
import {
  agentCmd, agentEvt, escapeToken, filterToPattern, hubSubject, patternToFilter, rootSubject, skillSubject, subjectToTopic,
  telemetrySubject, topicToSubject, unescapeLevel, uplinkSubject,
} from "./subjects.js";

/** Property runs: enough to hit every reserved character in every position many times. */
const RUNS = 5000;
const SEED = Number(process.env.SUBJECTS_SEED ?? 0x5eed);

const ALPHABET = ["a", "b", "Z", "0", "-", "_", "%", "/", "+", "#", "$", "*", ">", "2", "F", "é", "日", "%2F", "%25"];

/** A pattern's literal tokens cannot contain `*` or `>` (wildcards are whole tokens only). */
const LITERAL = ALPHABET.filter((c) => c !== "*" && c !== ">");

function randomToken(rnd: () => number, alphabet = ALPHABET): string {
  for (;;) {
    const n = 1 + Math.floor(rnd() * 6);
    let t = "";
    for (let i = 0; i < n; i++) t += alphabet[Math.floor(rnd() * alphabet.length)] ?? "a";
    if (t !== "*" && t !== ">") return t;
  }
}

function randomSubject(rnd: () => number, alphabet = ALPHABET): string {
  const n = 1 + Math.floor(rnd() * 6);
  return Array.from({ length: n }, () => randomToken(rnd, alphabet)).join(".");
}

function randomPattern(rnd: () => number): string {
  const tokens = randomSubject(rnd, LITERAL).split(".").map((t) => (rnd() < 0.25 ? "*" : t));
  if (rnd() < 0.3) tokens.push(">");
  return tokens.join(".");
}

test("documented examples map both ways", () => {
  const cases: [string, string][] = [
    ["ada.agent.tv-1.evt", "ada/agent/tv-1/evt"],
    ["telemetry.pi4.cpu", "telemetry/pi4/cpu"],
    ["ui.notify", "ui/notify"],
    ["a.b/c.d+e.f#g.$SYS.50%", "a/b%2Fc/d%2Be/f%23g/%24SYS/50%25"],
    ["x.%2F", "x/%252F"],
    ["a*b.c>d", "a*b/c>d"],
  ];
  for (const [subject, topic] of cases) {
    assert.equal(subjectToTopic(subject), topic, subject);
    assert.equal(topicToSubject(topic), subject, topic);
  }
  assert.equal(patternToFilter("ada.agent.*.evt"), "ada/agent/+/evt");
  assert.equal(patternToFilter("telemetry.>"), "telemetry/#");
  assert.equal(patternToFilter("*.a+b.>"), "+/a%2Bb/#");
  assert.equal(filterToPattern("+/a%2Bb/#"), "*.a+b.>");
});

test(`subject → topic → subject is the identity (${RUNS} random subjects with reserved characters)`, () => {
  const rnd = prng(SEED);
  for (let i = 0; i < RUNS; i++) {
    const subject = randomSubject(rnd);
    const topic = subjectToTopic(subject);
    assert.equal(topicToSubject(topic), subject, `seed ${SEED} case ${i}: ${subject} → ${topic}`);
    assert.doesNotMatch(topic, /[+#$]/, `a topic never carries MQTT wildcards or a leading $: ${topic}`);
    assert.equal(topic.split("/").length, subject.split(".").length, "one level per token");
  }
});

test(`pattern → filter → pattern is the identity (${RUNS} random patterns)`, () => {
  const rnd = prng(SEED + 1);
  for (let i = 0; i < RUNS; i++) {
    const pattern = randomPattern(rnd);
    const filter = patternToFilter(pattern);
    assert.equal(filterToPattern(filter), pattern, `seed ${SEED + 1} case ${i}: ${pattern} → ${filter}`);
  }
});

test(`every topic that decodes encodes back to itself (decoding is strict, ${RUNS} random topics)`, () => {
  const rnd = prng(SEED + 2);
  const chars = ["a", "b", "c", "/", "/", "%", "2", "F", "5", "$", ".", " ", "+", "#", "*"];
  let decoded = 0;
  for (let i = 0; i < RUNS; i++) {
    const n = 1 + Math.floor(rnd() * 10);
    let topic = "";
    for (let k = 0; k < n; k++) topic += chars[Math.floor(rnd() * chars.length)] ?? "a";
    let subject: string;
    try {
      subject = topicToSubject(topic);
    } catch (err) {
      assert.ok(err instanceof RangeError, `only RangeError for ${topic}`);
      continue;
    }
    decoded++;
    assert.equal(subjectToTopic(subject), topic, `seed ${SEED + 2} case ${i}: ${topic} → ${subject}`);
  }
  assert.ok(decoded > RUNS / 20, `enough random topics decoded to mean something (${decoded})`);
});

/** MQTT topic filter matching per MQTT 3.1.1 §4.7 (`#` also matches the parent level). */
function mqttMatches(filter: string, topic: string): boolean {
  const f = filter.split("/");
  const t = topic.split("/");
  for (let i = 0; i < f.length; i++) {
    if (f[i] === "#") return true;
    if (i >= t.length) return false;
    if (f[i] !== "+" && f[i] !== t[i]) return false;
  }
  return f.length === t.length;
}

function natsMatches(pattern: string, subject: string): boolean {
  const p = pattern.split(".");
  const s = subject.split(".");
  for (let i = 0; i < p.length; i++) {
    if (p[i] === ">") return s.length > i;
    if (i >= s.length) return false;
    if (p[i] !== "*" && p[i] !== s[i]) return false;
  }
  return p.length === s.length;
}

test("matching is preserved, except that MQTT `a/#` also matches `a` (adapters re-check with NATS rules)", () => {
  const rnd = prng(SEED + 3);
  let both = 0;
  for (let i = 0; i < RUNS; i++) {
    const subject = randomSubject(rnd, LITERAL);
    const tokens = subject.split(".");
    // patterns derived from the subject so that a good share of them match
    const pattern = tokens.map((t) => (rnd() < 0.3 ? "*" : rnd() < 0.1 ? "x" : t)).slice(0, 1 + Math.floor(rnd() * tokens.length));
    if (rnd() < 0.5) pattern.push(">");
    const p = pattern.join(".");
    const nats = natsMatches(p, subject);
    const mqtt = mqttMatches(patternToFilter(p), subjectToTopic(subject));
    if (nats) both++;
    if (nats) assert.ok(mqtt, `${p} matches ${subject} on NATS, so on MQTT too`);
    else if (mqtt) assert.ok(p.endsWith(".>") && pattern.length - 1 === tokens.length, `${p} vs ${subject}: only the parent-level case differs`);
  }
  assert.ok(both > RUNS / 10, `enough matching cases (${both})`);
  assert.equal(mqttMatches(patternToFilter("a.>"), subjectToTopic("a")), true);
  assert.equal(natsMatches("a.>", "a"), false);
});

test("topics and filters that no subject maps to are refused with a reason", () => {
  const badTopics = ["", "a//b", "/a", "a/", "a/%2f", "a/%41", "a/50%", "a/%2", "a/$SYS", "a.b/c", "a b/c", "a/+", "a/#", "a/*", ">/a", "x".repeat(1600)];
  for (const topic of badTopics) assert.throws(() => topicToSubject(topic), RangeError, JSON.stringify(topic));
  for (const filter of ["a/#/b", "a//b", "*/a", "a/%zz"]) assert.throws(() => filterToPattern(filter), RangeError, filter);
  for (const subject of ["", "a..b", "a.*", "a.>", "a b", "x".repeat(600)]) assert.throws(() => subjectToTopic(subject), RangeError, subject);
  for (const pattern of ["a.>.b", "a.b*", ""]) assert.throws(() => patternToFilter(pattern), RangeError, pattern);
  assert.throws(() => unescapeLevel("a.b"), /contains "\."/);
  assert.equal(escapeToken("%/+#$"), "%25%2F%2B%23%24");
});

test("the seed subject scheme", () => {
  assert.equal(agentCmd("tv-1"), "ada.agent.tv-1.cmd");
  assert.equal(agentEvt("tv-1"), "ada.agent.tv-1.evt");
  assert.equal(hubSubject("hub-a", ">"), "ada.hub.hub-a.>");
  assert.equal(hubSubject("hub-a", "directory.snapshot"), "ada.hub.hub-a.directory.snapshot");
  assert.equal(rootSubject("register"), "ada.root.register");
  assert.equal(rootSubject(">"), "ada.root.>");
  assert.equal(telemetrySubject("pi4", "heartbeat"), "telemetry.pi4.heartbeat");
  assert.equal(uplinkSubject("hub-1", "telemetry.reading"), "ada.root.uplink.hub-1.telemetry.reading");
  assert.throws(() => uplinkSubject("*", "telemetry.reading"), RangeError);
  assert.equal(skillSubject("weather", "forecast.ready"), "ada.skill.weather.forecast.ready");
  for (const bad of ["", "a.b", "*", ">", "a b"]) {
    assert.throws(() => agentCmd(bad), RangeError, bad);
    assert.throws(() => hubSubject(bad), RangeError, bad);
  }
  assert.throws(() => rootSubject(">", "x"), RangeError);
});
