import { strict as assert } from "node:assert";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { BadRequestError } from "../core/errors.js";
import { parsePlan } from "../resolver/plan-load.js";
import { interpolateDeep } from "../scenarios/expr.js";
import { createRecognizer } from "./recognizer.js";
import { loadIntentRules, parseIntentRulesText } from "./rules-load.js";
import { fillSlots, hasOtherSlotUse, planTemplates, slotRefs } from "./templates.js";

const EXAMPLE = fileURLToPath(new URL("../../../examples/voice/intents.yaml", import.meta.url));

test("the example: a Russian command becomes the seed's find → stream → display plan, ready for the resolver", () => {
  const rules = loadIntentRules(EXAMPLE);
  const found = createRecognizer(rules).recognize("Покажи Интерстеллар на телевизоре");
  assert.ok(found !== null);
  const plan = planTemplates(rules).planFor(found.intent, found.slots, found.confidence);
  assert.ok(plan !== undefined);
  assert.equal(plan.id, "media.find_and_show");
  assert.deepEqual(plan.intent, { name: "media.find_and_show", slots: { title: "Interstellar" }, confidence: 1 });
  assert.deepEqual(plan.steps, [
    { id: "find", need: "capability://media.search", args: { title: "Interstellar" } },
    { id: "stream", need: "capability://media.playback", depends_on: ["find"], args: { item_id: "${steps.find.item_id}" } },
    { id: "display", need: "capability://display.play", depends_on: ["stream"], args: { url: "${steps.stream.url}", title: "${steps.find.title}", poster: "${steps.find.poster}" } },
  ]);
  const parsed = parsePlan(plan);
  assert.deepEqual(parsed.steps.map((s) => s.id), ["find", "stream", "display"]);
  assert.deepEqual(parsed.constraints, { policies: ["low-latency"], data_residency: "local" });
  assert.deepEqual(parsed.interpretation?.intent, { name: "media.find_and_show", slots: { title: "Interstellar" }, confidence: 1 });
});

test("an intent without a plan gives undefined; an unknown intent and a missing slot are BadRequestErrors", () => {
  const t = planTemplates(loadIntentRules(EXAMPLE));
  assert.equal(t.planFor("media.stop", {}), undefined);
  assert.throws(() => t.planFor("media.nope", {}), (e: Error) => e instanceof BadRequestError && /no intent media\.nope.*media\.find_and_show, media\.stop/.test(e.message));
  assert.throws(() => t.planFor("media.find_and_show", { room: "x" }), (e: Error) => e instanceof BadRequestError && /needs slot title, which was not given \(given: room\)/.test(e.message));
});

test("slots inside longer text are joined in; a value with ${ stays text for the plan runtime; $${slots.x} is literal", () => {
  const rules = parseIntentRulesText(`
version: 1
slots:
  query: { type: text }
intents:
  web.search: { patterns: { en: ["search for {query}"] }, plan: search }
plans:
  search:
    id: web-search
    steps:
      - { id: q, need: web.search, args: { q: "\${slots.query}", label: "Results for \${slots.query}!", keep: "$\${slots.query}", list: ["\${slots.query}", 3] } }
`, "r.yaml");
  const plan = planTemplates(rules).planFor("web.search", { query: "a ${steps.q.secret} b" });
  assert.equal(plan?.id, "web-search", "the template's own id is kept");
  const args = (plan?.steps[0] as { args: Record<string, unknown> }).args;
  assert.deepEqual(args, { q: "a $${steps.q.secret} b", label: "Results for a $${steps.q.secret} b!", keep: "$${slots.query}", list: ["a $${steps.q.secret} b", 3] });
  assert.deepEqual(interpolateDeep(args, { steps: { q: { secret: "leak" } } }), { q: "a ${steps.q.secret} b", label: "Results for a ${steps.q.secret} b!", keep: "${slots.query}", list: ["a ${steps.q.secret} b", 3] }, "the runtime reads them as text");
});

test("slotRefs, hasOtherSlotUse and fillSlots see only the exact ${slots.<name>} form", () => {
  assert.deepEqual(slotRefs("${slots.a} and ${slots.b_2}, $${slots.c}, ${steps.x.y}"), ["a", "b_2"]);
  assert.equal(hasOtherSlotUse("${slots.a}"), false);
  assert.equal(hasOtherSlotUse("${slots.a + 'x'}"), true);
  assert.equal(hasOtherSlotUse("${ slots.a }"), true);
  assert.equal(hasOtherSlotUse("$${slots.a + 1}"), false);
  assert.deepEqual(fillSlots({ a: ["${slots.t}"], n: 1, b: null }, () => "T"), { a: ["T"], n: 1, b: null });
});
