import { strict as assert } from "node:assert";
import { test } from "node:test";
import { normalizePattern, normalizeText, words } from "./normalize.js";

test("lower case, ё → е (either case, composed or not), punctuation gone, whitespace collapsed", () => {
  assert.equal(normalizeText("  Покажи «Начало»,   на ТЕЛЕВИЗОРЕ!!! "), "покажи начало на телевизоре");
  assert.equal(normalizeText("Ёлка и ёж"), "елка и еж");
  assert.equal(normalizeText("е\u0308лка"), "елка", "a decomposed ё is still ё");
  assert.equal(normalizeText("Show\tInception\non the TV."), "show inception on the tv");
  assert.equal(normalizeText("wi-fi / 5G…"), "wi fi 5g");
  assert.equal(normalizeText("ＴＶ"), "tv", "full-width letters fold");
  assert.equal(normalizeText("за\u0301мок"), "замок", "stress marks are dropped");
});

test("apostrophes: kept between letters (as '), word breaks elsewhere", () => {
  assert.equal(normalizeText("Don’t stop"), "don't stop");
  assert.equal(normalizeText("'quoted' rock 'n' roll"), "quoted rock n roll");
});

test("words: the normalised words, none for punctuation only", () => {
  assert.deepEqual(words("Stop, the TV!"), ["stop", "the", "tv"]);
  assert.deepEqual(words(" ?! … "), []);
});

test("a pattern keeps its {slot} placeholders as whole words and normalises the rest", () => {
  assert.equal(normalizePattern("Покажи «{title}» на Телевизоре!"), "покажи {title} на телевизоре");
  assert.equal(normalizePattern("{title}, please"), "{title} please");
  assert.equal(normalizePattern("find {a} and {b}"), "find {a} and {b}");
});
