import { strict as assert } from "node:assert";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { compileGrammar, cutDictionary, DEFAULT_DICTIONARY, jsgfGrammar, loadGrammar, normalisePhrase, type GrammarSource } from "./grammar.js";

const TV: GrammarSource = {
  patterns: ["show {title} on the tv", "play {title} on the tv", "stop the tv"],
  slots: { title: ["inception", "interstellar", "arrival", "the matrix"] },
};

const DICT = ["on AA N", "on(2) AO N", "show SH OW", "stop  S T AA P ", "the DH AH", "the(2) DH IY", "theatre TH IY AH T ER", "tv T IY V IY", "inception IH N S EH P SH AH N", ""].join("\n");

test("normalisePhrase: lower case, punctuation to spaces, edge apostrophes dropped, spaces collapsed", () => {
  assert.equal(normalisePhrase("  Show 'Inception'  on the TV! "), "show inception on the tv");
  assert.equal(normalisePhrase("Spider-Man: No Way Home"), "spider man no way home");
  assert.equal(normalisePhrase("don't stop"), "don't stop");
  assert.equal(normalisePhrase("?!"), "");
});

test("jsgfGrammar: one rule per used slot, the public rule of every distinct pattern", () => {
  const g = jsgfGrammar({ patterns: [...TV.patterns, "Stop the TV.", "show {title}"], slots: { ...TV.slots, unused: ["xyzzy"] } });
  assert.equal(
    g,
    [
      "#JSGF V1.0;",
      "grammar commands;",
      "<slot_title> = inception | interstellar | arrival | the matrix;",
      "public <command> = show <slot_title> on the tv | play <slot_title> on the tv | stop the tv | show <slot_title>;",
      "",
    ].join("\n"),
  );
});

test("jsgfGrammar: a slot may be called command; placeholders need no spaces around them", () => {
  const g = jsgfGrammar({ patterns: ["run{command}now"], slots: { command: ["Backup!"] } });
  assert.match(g, /^<slot_command> = backup;$/m);
  assert.match(g, /^public <command> = run <slot_command> now;$/m);
});

test("jsgfGrammar: every problem reported at once, with its pattern", () => {
  assert.throws(
    () => jsgfGrammar({ patterns: ["show {film} now", "{ bad name }", "...", "pick {empty}"], slots: { empty: ["!!"] } }),
    (err: Error) => {
      assert.match(err.message, /pattern "show \{film\} now": slot \{film\} has no values \(slots: empty\)/);
      assert.match(err.message, /\{bad name\} is not a slot name/);
      assert.match(err.message, /pattern "\.\.\." has no words/);
      assert.match(err.message, /slot \{empty\} has no values with words/);
      return true;
    },
  );
  assert.throws(() => jsgfGrammar({ patterns: [], slots: {} }), /there are no patterns/);
});

test("cutDictionary: all variants of each word in dictionary order, spacing normalised", () => {
  const dict = cutDictionary(new Map([["the", []], ["on", []], ["stop", []]]), DICT);
  assert.equal(dict, "on AA N\non(2) AO N\nstop S T AA P\nthe DH AH\nthe(2) DH IY\n");
});

test("compileGrammar: words missing from the dictionary are listed with the pattern or slot value they came from", () => {
  assert.throws(
    () => compileGrammar(TV, DICT, "test.dict"),
    (err: Error) => {
      assert.match(err.message, /^stt grammar: 4 words are not in test\.dict: /);
      assert.match(err.message, /"arrival" \(slot title: "arrival"\)/);
      assert.match(err.message, /"matrix" \(slot title: "the matrix"\)/);
      assert.match(err.message, /"play" \(pattern "play \{title\} on the tv"\)/);
      assert.match(err.message, /"interstellar" \(slot title: "interstellar"\)/);
      assert.match(err.message, /Spell them as dictionary words/);
      assert.doesNotMatch(err.message, /"tv"|"the"|"show"/);
      return true;
    },
  );
});

test("loadGrammar with the real cmudict-en-us.dict: the TV commands, every variant of 'the', 'on' and 'tv'", async () => {
  const g = await loadGrammar(TV);
  assert.deepEqual(g.words, ["arrival", "inception", "interstellar", "matrix", "on", "play", "show", "stop", "the", "tv"]);
  const lines = g.dict.trim().split("\n");
  assert.ok(lines.includes("the DH AH") && lines.includes("the(2) DH IY"), g.dict);
  assert.ok(lines.includes("on(2) AO N"), g.dict);
  assert.ok(lines.includes("tv(2) T EH L AH V IH ZH AH N"), g.dict);
  assert.equal(new Set(lines.map((l) => l.split(" ")[0]?.replace(/\(\d+\)$/, ""))).size, g.words.length);
  assert.match(g.jsgf, /<slot_title> = inception \| interstellar \| arrival \| the matrix;/);
});

test("loadGrammar: an unknown word of the real dictionary is named; a missing dictionary file says so", async (t) => {
  await assert.rejects(loadGrammar({ patterns: ["show {title}"], slots: { title: ["blorptastic"] } }), new RegExp(`1 word is not in ${DEFAULT_DICTIONARY}: "blorptastic" \\(slot title: "blorptastic"\\)`));
  const dir = await mkdtemp(join(tmpdir(), "stt-grammar-"));
  t.after(() => rm(dir, { recursive: true, force: true }));
  await assert.rejects(loadGrammar(TV, join(dir, "none.dict")), /cannot read the pronunciation dictionary .*none\.dict/);
  await writeFile(join(dir, "mini.dict"), "stop S T AA P\nthe DH AH\ntv T IY V IY\n");
  const g = await loadGrammar({ patterns: ["stop the tv"], slots: {} }, join(dir, "mini.dict"));
  assert.equal(g.dict, "stop S T AA P\nthe DH AH\ntv T IY V IY\n");
});
