import { strict as assert } from "node:assert";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { BadRequestError, ConfigInvalidError, type Issue } from "../core/errors.js";
import { loadIntentRules, parseIntentRulesText, ruleLanguage } from "./rules-load.js";

const EXAMPLE = fileURLToPath(new URL("../../../examples/voice/intents.yaml", import.meta.url));

const GOOD = `
version: 1
slots:
  title:
    values:
      Inception: { en: [inception], ru: [начало] }
  query: { type: text }
intents:
  media.find_and_show:
    patterns:
      en: ["show {title} on the tv"]
      ru: ["покажи {title} на телевизоре"]
    plan: show
  web.search:
    patterns: { en: ["search for {query}"] }
plans:
  show:
    steps:
      - { id: find, need: capability://media.search, args: { title: "\${slots.title}" } }
`;

/** The issues of rules that must fail to load. */
function issuesOf(yaml: string): Issue[] {
  try {
    parseIntentRulesText(yaml, "rules.yaml");
  } catch (err) {
    assert.ok(err instanceof ConfigInvalidError, String(err));
    assert.match(err.message, /^rules\.yaml: the intent rules are invalid \(\d+ problems?\)\n/);
    for (const i of err.issues) assert.ok(err.message.includes(`\n${i.pointer} ${i.message}`), "every issue is in the message");
    return [...err.issues];
  }
  assert.fail("the rules loaded");
}

function has(issues: readonly Issue[], pointer: string, message: RegExp): void {
  assert.ok(issues.some((i) => i.pointer === pointer && message.test(i.message)), `no issue ${pointer} ${String(message)} in ${JSON.stringify(issues, null, 1)}`);
}

test("good rules compile: languages in order, normalised patterns, enum phrases per language, text slots", () => {
  const r = parseIntentRulesText(GOOD, "rules.yaml");
  assert.deepEqual(r.languages, ["en", "ru"]);
  assert.deepEqual([...r.intents.keys()], ["media.find_and_show", "web.search"]);
  const show = r.intents.get("media.find_and_show");
  assert.equal(show?.plan, "show");
  assert.deepEqual(show?.patterns.get("ru")?.map((p) => p.source), ["покажи {title} на телевизоре"]);
  assert.deepEqual(show?.patterns.get("en")?.[0]?.parts, [
    { kind: "word", word: "show" },
    { kind: "enum", slot: "title", phrases: [{ value: "Inception", words: ["inception"] }] },
    { kind: "word", word: "on" },
    { kind: "word", word: "the" },
    { kind: "word", word: "tv" },
  ]);
  assert.deepEqual(r.slots.get("query"), { kind: "text" });
  assert.equal(r.plans.size, 1);
  assert.equal(r.fillers.size, 0);
});

test("schema problems come together, each with its JSON pointer", () => {
  const issues = issuesOf(`
version: 2
colour: blue
slots:
  title:
    values: { Inception: { en: [inception], ru: [] } }
    synonyms: {}
  Bad-Name: { type: text }
  query: { type: text, greedy: true }
intents:
  Media.Show:
    patterns: { en: ["x"] }
  media.stop:
    patterns: { en: "stop" }
    plans: x
`);
  has(issues, "/version", /must be equal to constant/);
  has(issues, "/colour", /unknown property/);
  has(issues, "/slots/title/synonyms", /unknown property/);
  has(issues, "/slots/title/values/Inception/ru", /must NOT have fewer than 1 items/);
  has(issues, "/slots/query/greedy", /unknown property/);
  has(issues, "/slots/Bad-Name", /is not a valid name: must match pattern/);
  has(issues, "/intents/Media.Show", /is not a valid name: must match pattern/);
  assert.ok(!issues.some((i) => i.pointer === "/slots" || i.pointer === "/intents"), "a bad name points at the property, not its parent");
  has(issues, "/intents/media.stop/patterns/en", /must be array/);
  has(issues, "/intents/media.stop/plans", /unknown property/);
  assert.ok(!issues.some((i) => /"then"|"else"/.test(i.message)), "only the failing branch's own errors");
});

test("a pattern naming an undeclared slot, an intent naming an unknown plan", () => {
  const issues = issuesOf(`
version: 1
slots:
  title: { values: { Inception: { en: [inception] } } }
intents:
  media.find_and_show:
    patterns: { en: ["show {film} on the tv", "show {title}"] }
    plan: nowhere
`);
  assert.deepEqual(issues, [
    { pointer: "/intents/media.find_and_show/patterns/en/0", message: "names slot {film}, which slots does not declare (declared: title)" },
    { pointer: "/intents/media.find_and_show/plan", message: "names plan nowhere, which plans does not declare (declared: none)" },
  ]);
});

test("pattern problems: braces, glued placeholders, repeats, missing phrases, text slots, duplicates, empties", () => {
  const issues = issuesOf(`
version: 1
fillers: { en: [please, "thank you", "!"] }
slots:
  title: { values: { Inception: { en: [inception, "Inception!"], ru: [начало] }, Arrival: { en: [arrival, "…"] } } }
  q: { type: text }
  r: { type: text }
  s: { type: text }
intents:
  a.one:
    patterns:
      en: ["show {Title}", "show{title}", "{title} and {title}", "find {q} {r}", "{q}", "a {q} b {r} c {s}", "?!", "show {title}"]
      de: ["zeige {title}"]
  a.two:
    patterns: { en: ["Show {title}!"] }
`);
  const at = (i: number): string => `/intents/a.one/patterns/en/${i}`;
  has(issues, "/fillers/en/1", /must be one word \(it normalises to "thank you"\)/);
  has(issues, "/fillers/en/2", /empty once punctuation is removed/);
  has(issues, "/slots/title/values/Inception/en/1", /"inception" already names Inception at \/slots\/title\/values\/Inception\/en\/0/);
  has(issues, "/slots/title/values/Arrival/en/1", /empty once punctuation is removed/);
  has(issues, at(0), /braces only enclose a slot name/);
  has(issues, at(1), /\{title\} must stand as a whole word/);
  has(issues, at(2), /names \{title\} twice/);
  has(issues, at(3), /\{r\} follows another free-text slot/);
  has(issues, at(4), /free-text slots only, which would match any input/);
  has(issues, at(5), /has 3 free-text slots; at most 2/);
  has(issues, at(6), /empty once punctuation is removed/);
  has(issues, "/intents/a.one/patterns/de/0", /\{title\} has no de phrases/);
  has(issues, "/intents/a.two/patterns/en/0", /is the same as \/intents\/a\.one\/patterns\/en\/7 once normalised \("show \{title\}"\)/);
});

test("plan templates: checked by parsePlan with pointers under /plans, slots only in args and captured by every pattern", () => {
  const issues = issuesOf(`
version: 1
slots:
  title: { values: { Inception: { en: [inception] } } }
  room: { values: { Kitchen: { en: [kitchen] } } }
intents:
  media.show:
    patterns: { en: ["show {title}", "show {title} in the {room}"] }
    plan: show
plans:
  show:
    intent: { name: media.show }
    prefer: "\${slots.room}"
    steps:
      - { id: find, need: capability://media.search, args: { title: "\${slots.title}", room: "\${slots.room}", n: "\${slots.title + 1}", x: "\${slots.nope}" } }
      - { id: play, need: not-a-capability, depends_on: [ghost], args: { url: "\${steps.later.url}" } }
`);
  has(issues, "/plans/show/intent", /is set by planFor/);
  has(issues, "/plans/show/prefer", /unknown property/);
  has(issues, "/plans/show/prefer", /\$\{slots\.<name>\} may only be used in step args/);
  has(issues, "/plans/show/steps/0/args/n", /alone inside the braces/);
  has(issues, "/plans/show/steps/0/args/x", /slots does not declare nope/);
  has(issues, "/plans/show/steps/1/need", /must match pattern/);
  has(issues, "/intents/media.show/plan", /plan show uses \{room\}, \{nope\}, which "show \{title\}" \(en\) does not capture/);
});

test("a template with a bad DAG fails at load, not at run time", () => {
  const issues = issuesOf(`
version: 1
intents:
  a.b: { patterns: { en: [go] }, plan: p }
plans:
  p:
    steps:
      - { id: one, need: a.b, depends_on: [two] }
      - { id: two, need: a.b, depends_on: [one], args: { v: "\${steps.three.x}" } }
`);
  assert.ok(issues.some((i) => i.pointer === "/plans/p/steps" && /cycle/i.test(i.message)), JSON.stringify(issues));
});

test("not YAML, a missing file and a duplicate key are reported with the file name", (t) => {
  assert.throws(() => parseIntentRulesText("version: [1", "bad.yaml"), (e: Error) => e instanceof ConfigInvalidError && /^bad\.yaml: not valid YAML/.test(e.message));
  assert.throws(() => parseIntentRulesText("version: 1\nversion: 1\n", "dup.yaml"), /dup\.yaml: not valid YAML[\s\S]*unique/i);
  const dir = mkdtempSync(join(tmpdir(), "intent-rules-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  assert.throws(() => loadIntentRules(join(dir, "none.yaml")), (e: Error) => e instanceof ConfigInvalidError && /none\.yaml: no such file/.test(e.message));
  writeFileSync(join(dir, "ok.yaml"), GOOD);
  assert.deepEqual(loadIntentRules(join(dir, "ok.yaml")).languages, ["en", "ru"]);
});

test("the example file loads: both languages, two intents, one plan", () => {
  const r = loadIntentRules(EXAMPLE);
  assert.deepEqual(r.languages, ["en", "ru"]);
  assert.deepEqual([...r.intents.keys()], ["media.find_and_show", "media.stop"]);
  assert.equal(r.intents.get("media.find_and_show")?.plan, "media.find_and_show");
  assert.equal(r.intents.get("media.stop")?.plan, undefined);
  assert.deepEqual([...(r.fillers.get("ru") ?? [])], ["пожалуйста", "теперь", "ка", "давай"]);
});

test("ruleLanguage: a tag's primary language when the rules have it, else a BadRequestError naming theirs", () => {
  const r = parseIntentRulesText(GOOD, "rules.yaml");
  assert.equal(ruleLanguage(r, "ru-RU"), "ru");
  assert.equal(ruleLanguage(r, "en"), "en");
  assert.throws(() => ruleLanguage(r, "de"), (e: Error) => e instanceof BadRequestError && e.message === 'no intent rules for language "de" (the rules have en, ru)');
});
