import { strict as assert } from "node:assert";
import { existsSync, readFileSync } from "node:fs";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { BadRequestError } from "../core/errors.js";
import { grammarSource } from "./grammar-source.js";
import { loadIntentRules, parseIntentRulesText } from "./rules-load.js";

const EXAMPLE = fileURLToPath(new URL("../../../examples/voice/intents.yaml", import.meta.url));
const CMUDICT = "/usr/share/pocketsphinx/model/en-us/cmudict-en-us.dict";

test("the example's English source: normalised patterns with placeholders and the title phrases", () => {
  assert.deepEqual(grammarSource(loadIntentRules(EXAMPLE), "en"), {
    patterns: ["show {title} on the tv", "play {title} on the tv", "find {title} and show it", "find the film {title} and show it on the tv", "stop the tv", "stop the film"],
    slots: { title: ["inception", "interstellar", "arrival"] },
  });
});

test("the example's Russian source, by the tag ru-RU", () => {
  assert.deepEqual(grammarSource(loadIntentRules(EXAMPLE), "ru-RU"), {
    patterns: ["покажи {title} на телевизоре", "включи {title} на телевизоре", "найди {title} и покажи", "найди фильм {title} и покажи на телевизоре", "останови телевизор", "останови фильм", "стоп"],
    slots: { title: ["начало", "inception", "интерстеллар", "interstellar", "прибытие", "arrival"] },
  });
});

test("every English word of the example is in the CMU dictionary the speech grammar is cut from", () => {
  assert.ok(existsSync(CMUDICT), `${CMUDICT} is missing: apt-get install pocketsphinx-en-us`);
  const dict = new Set(readFileSync(CMUDICT, "utf8").split("\n").map((l) => l.split(" ")[0]));
  const src = grammarSource(loadIntentRules(EXAMPLE), "en");
  const used = new Set([...src.patterns.flatMap((p) => p.split(" ").filter((w) => !w.startsWith("{"))), ...Object.values(src.slots).flat().flatMap((p) => p.split(" "))]);
  assert.deepEqual([...used].filter((w) => !dict.has(w)), []);
  assert.ok(used.size >= 12, `${used.size} words checked`);
});

test("patterns with a free-text slot are left out; slots hold only what the kept patterns name, longest phrase first", () => {
  const rules = parseIntentRulesText(`
version: 1
slots:
  query: { type: text }
  room: { values: { Kitchen: { en: [kitchen] }, LivingRoom: { en: [living room, lounge], ru: [гостиная] } } }
  colour: { values: { Red: { en: [red] } } }
intents:
  web.search: { patterns: { en: ["search for {query}", "search in the {room} for {query}"] } }
  light.on: { patterns: { en: ["lights on in the {room}"], ru: ["включи свет {room}"] } }
`, "r.yaml");
  assert.deepEqual(grammarSource(rules, "en"), { patterns: ["lights on in the {room}"], slots: { room: ["living room", "kitchen", "lounge"] } });
  assert.deepEqual(grammarSource(rules, "ru"), { patterns: ["включи свет {room}"], slots: { room: ["гостиная"] } });
  assert.throws(() => grammarSource(rules, "de"), BadRequestError);
});
