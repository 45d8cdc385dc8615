import { strict as assert } from "node:assert";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { BadRequestError } from "../core/errors.js";
import { createRecognizer, EXACT_CONFIDENCE, TOLERANT_CONFIDENCE } from "./recognizer.js";
import { loadIntentRules, parseIntentRulesText } from "./rules-load.js";

const EXAMPLE = fileURLToPath(new URL("../../../examples/voice/intents.yaml", import.meta.url));
const example = createRecognizer(loadIntentRules(EXAMPLE));

/** intent, slots and lang of a recognition, or null. */
function what(text: string, lang?: string): [string, Record<string, string>, string] | null {
  const r = example.recognize(text, lang);
  return r === null ? null : [r.intent, { ...r.slots }, r.lang];
}

test("Russian and English commands give the same intent and the same canonical slots", () => {
  const ru = example.recognize("Покажи «Начало» на телевизоре!");
  const en = example.recognize("Show Inception on the TV.");
  assert.deepEqual(ru, { intent: "media.find_and_show", slots: { title: "Inception" }, confidence: EXACT_CONFIDENCE, lang: "ru", pattern: "покажи {title} на телевизоре" });
  assert.deepEqual(en, { intent: "media.find_and_show", slots: { title: "Inception" }, confidence: EXACT_CONFIDENCE, lang: "en", pattern: "show {title} on the tv" });
  assert.deepEqual(what("останови телевизор"), ["media.stop", {}, "ru"]);
  assert.deepEqual(what("stop the tv"), ["media.stop", {}, "en"]);
});

test("every phrase of every title, in every pattern of both languages, gives its canonical value", () => {
  const titles = { Inception: { en: ["inception"], ru: ["начало", "inception"] }, Interstellar: { en: ["interstellar"], ru: ["интерстеллар", "interstellar"] }, Arrival: { en: ["arrival"], ru: ["прибытие", "arrival"] } };
  const patterns = {
    en: ["show {t} on the tv", "play {t} on the tv", "find {t} and show it", "find the film {t} and show it on the tv"],
    ru: ["покажи {t} на телевизоре", "включи {t} на телевизоре", "найди {t} и покажи", "найди фильм {t} и покажи на телевизоре"],
  };
  let n = 0;
  for (const [value, byLang] of Object.entries(titles)) {
    for (const lang of ["en", "ru"] as const) {
      for (const phrase of byLang[lang]) {
        for (const p of patterns[lang]) {
          const text = p.replace("{t}", phrase.toUpperCase());
          assert.deepEqual(what(text), ["media.find_and_show", { title: value }, lang], text);
          assert.deepEqual(what(text, lang), ["media.find_and_show", { title: value }, lang], `${text} (${lang} given)`);
          n++;
        }
      }
    }
  }
  assert.equal(n, 36);
});

test("the seed's example sentence, ё spelled either way, and the language tag ru-RU", () => {
  assert.deepEqual(what("найди фильм Inception и покажи на телевизоре", "ru-RU"), ["media.find_and_show", { title: "Inception" }, "ru"]);
  const rules = parseIntentRulesText("version: 1\nintents:\n  tree.show: { patterns: { ru: [покажи ёлку] } }\n", "r.yaml");
  assert.equal(createRecognizer(rules).recognize("Покажи елку")?.intent, "tree.show");
  assert.equal(createRecognizer(rules).recognize("ПОКАЖИ ЁЛКУ")?.intent, "tree.show");
});

test("no match: unknown words, a title not in the list, a partial or longer sentence, empty text", () => {
  for (const text of ["hello there", "show Tenet on the tv", "show inception", "show inception on the tv now and then", "", "?!", "stop"]) {
    assert.equal(example.recognize(text), null, text);
  }
  assert.equal(example.recognize("покажи начало на телевизоре", "en"), null, "Russian words are not English patterns");
});

test("filler words: a match only once they are dropped has the lower confidence", () => {
  const r = example.recognize("Please, show Arrival on the TV now");
  assert.deepEqual(r && [r.intent, r.slots, r.confidence], ["media.find_and_show", { title: "Arrival" }, TOLERANT_CONFIDENCE]);
  const ru = example.recognize("Покажи-ка, пожалуйста, Прибытие на телевизоре");
  assert.deepEqual(ru && [ru.intent, ru.slots, ru.confidence, ru.lang], ["media.find_and_show", { title: "Arrival" }, TOLERANT_CONFIDENCE, "ru"]);
  assert.equal(example.recognize("пожалуйста стоп", "en"), null, "a language's fillers are its own");
  assert.equal(example.recognize("please please"), null, "fillers alone are nothing");
});

test("a filler that a pattern spells out matches exactly", () => {
  const rules = parseIntentRulesText("version: 1\nfillers: { en: [please] }\nintents:\n  a.thanks: { patterns: { en: [please stop] } }\n  a.stop: { patterns: { en: [stop] } }\n", "r.yaml");
  const r = createRecognizer(rules).recognize("please stop");
  assert.equal(r?.intent, "a.thanks");
  assert.equal(r?.confidence, EXACT_CONFIDENCE);
});

const FREE = `
version: 1
slots:
  query: { type: text }
  who: { type: text }
  title: { values: { "The Arrival": { en: [the arrival, arrival] } } }
intents:
  web.search:
    patterns: { en: ["search for {query}", "search for {query} and show it"] }
  media.show:
    patterns: { en: ["search for {title} and show it"] }
  note.add:
    patterns: { en: ["note {query} for {who}"] }
`;

test("free-text slots take the fewest words that let the rest match; a more specific pattern wins", () => {
  const rules = parseIntentRulesText(FREE, "free.yaml");
  const rec = createRecognizer(rules);
  assert.deepEqual(rec.recognize("Search for black and white cats"), { intent: "web.search", slots: { query: "black and white cats" }, confidence: 1, lang: "en", pattern: "search for {query}" });
  assert.deepEqual(rec.recognize("search for black and white and show it")?.slots, { query: "black and white" });
  assert.deepEqual(rec.recognize("search for the arrival and show it"), {
    intent: "media.show", slots: { title: "The Arrival" }, confidence: 1, lang: "en", pattern: "search for {title} and show it",
  }, "the enumerated title covers more words than free text, so it wins over the earlier intent");
  assert.deepEqual(rec.recognize("note buy milk for me for mum")?.slots, { query: "buy milk", who: "me for mum" });
});

test("without a language every language is tried; a language the rules lack is a BadRequestError", () => {
  assert.equal(example.recognize("стоп")?.lang, "ru");
  assert.throws(() => example.recognize("stop the tv", "de"), (e: Error) => e instanceof BadRequestError && /language "de".*en, ru/.test(e.message));
  assert.deepEqual(example.languages, ["en", "ru"]);
});

test("ties: the language declared first, then the intent declared first", () => {
  const rules = parseIntentRulesText("version: 1\nintents:\n  a.first: { patterns: { ru: [ok], en: [ok] } }\n  a.second: { patterns: { en: [fine], ru: [fine] } }\n  a.third: { patterns: { en: [ok go] } }\n", "r.yaml");
  const rec = createRecognizer(rules);
  assert.deepEqual([rec.recognize("ok")?.intent, rec.recognize("ok")?.lang], ["a.first", "ru"]);
  assert.deepEqual([rec.recognize("fine")?.intent, rec.recognize("fine")?.lang], ["a.second", "ru"]);
  assert.equal(rec.recognize("ok", "en")?.lang, "en");
});

test("figures: recognition time over the example rules", () => {
  const texts = ["Покажи «Начало» на телевизоре!", "please show arrival on the tv now", "hello there how are you"];
  const rounds = 2000;
  const started = performance.now();
  for (let i = 0; i < rounds; i++) for (const t of texts) example.recognize(t);
  const perCall = (performance.now() - started) / (rounds * texts.length);
  console.log(`# recognize: ${(perCall * 1000).toFixed(1)} µs per call (example rules, ${rounds * texts.length} calls)`);
  assert.ok(perCall < 50, "generous bound: 50 ms per call");
});
