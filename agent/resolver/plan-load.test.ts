import { strict as assert } from "node:assert";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { BadRequestError, ConfigInvalidError } from "../core/errors.js";
import { loadRouting, parsePlan, parsePlanText } from "./plan-load.js";
import { NO_RULES } from "./plan.js";
import { filmNodes, input } from "./fixture.js";
import { resolvePlan } from "./resolve.js";

const SEED_PLAN = `
intent: { name: media.find_and_show, slots: { title: Inception }, confidence: 0.84 }
directives: { addressed_skill: null, prefer_agent: any, plan_hint: [find, stream, display] }
plan:
  steps:
    - id: find
      need: capability://media.search
      args: { title: "\${intent.slots.title}" }
    - id: stream
      need: capability://media.playback
      depends_on: [find]
    - id: display
      need: capability://ui.render.video
      depends_on: [stream]
      prefer: browser:current
  constraints: { policies: [low-latency], data_residency: local }
`;

test("the seed's plan, interpretation and constraints load into the model with defaults", () => {
  const p = parsePlanText(SEED_PLAN, "film.yaml");
  assert.deepEqual(p.steps.map((s) => [s.id, s.need, s.depends_on, s.prefer ?? null]), [
    ["find", "capability://media.search", [], null],
    ["stream", "capability://media.playback", ["find"], null],
    ["display", "capability://ui.render.video", ["stream"], "browser:current"],
  ]);
  assert.deepEqual(p.constraints, { policies: ["low-latency"], data_residency: "local" });
  assert.deepEqual(p.interpretation?.intent, { name: "media.find_and_show", slots: { title: "Inception" }, confidence: 0.84 });
  assert.equal(p.interpretation?.directives?.prefer_agent, "any");
  assert.deepEqual(parsePlan({ steps: [{ id: "a", need: "x.y" }] }).constraints, { policies: [], data_residency: "cloud-ok" });
});

test("every problem of a bad plan is reported with its pointer", () => {
  const bad = { steps: [{ id: "a", need: "nope" }, { id: "a", need: "x.y", prefer: "somewhere" }, { id: "c", need: "x.y", depends_on: ["zz"] }], extra: 1 };
  assert.throws(() => parsePlan(bad), (e: unknown) => e instanceof BadRequestError && e.issues.some((i) => i.pointer === "/steps/0/need") && e.issues.some((i) => i.pointer === "/extra"));
  assert.throws(() => parsePlan({ steps: [{ id: "a", need: "x.y" }, { id: "a", need: "x.y", prefer: "somewhere" }] }), (e: unknown) =>
    e instanceof BadRequestError && e.issues.some((i) => i.pointer === "/steps/1/id") && e.issues.some((i) => i.pointer === "/steps/1/prefer"));
  assert.throws(() => parsePlan({ steps: [{ id: "a", need: "x.y", depends_on: ["b"] }, { id: "b", need: "x.y", depends_on: ["a"] }] }), /cycle/);
  assert.throws(() => parsePlanText("steps: [", "broken.yaml"), /broken.yaml: not valid YAML/);
});

test("routing rules: the seed's DSL loads; bad conditions and hints are config errors; no file = no rules", (t) => {
  const dir = mkdtempSync(join(tmpdir(), "adaos-routing-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, "routing.yaml");
  writeFileSync(file, [
    "scenario: media_server",
    "defaults: { policies: [low-latency], data_residency: local }",
    "routing:",
    "  prefer: { media.search: tag:server, media.playback: tag:server, ui.render.video: browser:current }",
    "  forbid: { media.playback: network:metered }",
    "overrides:",
    "  - { when: { addressed_skill: true }, action: pin_to_addressed }",
    "  - { when: { prefer_agent: member:self }, action: pin_if_available }",
    "",
  ].join("\n"));
  const r = loadRouting(file);
  assert.deepEqual(r.forbid, { "media.playback": ["network:metered"] });
  assert.equal(r.prefer["ui.render.video"], "browser:current");
  assert.deepEqual(r.defaults, { policies: ["low-latency"], data_residency: "local" });
  assert.equal(r.overrides.length, 2);
  writeFileSync(file, "routing: { forbid: { media.playback: [network:metered, battery:empty] } }\n");
  assert.throws(() => loadRouting(file), (e: unknown) => e instanceof ConfigInvalidError && e.issues.some((i) => i.pointer === "/routing/forbid/media.playback/1"));
  writeFileSync(file, "routing: { sometimes: {} }\n");
  assert.throws(() => loadRouting(file), ConfigInvalidError);
  assert.equal(loadRouting(null), NO_RULES);
  assert.throws(() => loadRouting(join(dir, "missing.yaml")), /resolver.routing/);
});

test("the shipped examples load, and the film example binds as the seed says with the example routing rules", () => {
  const examples = fileURLToPath(new URL("../../../examples", import.meta.url));
  const read = (name: string) => parsePlanText(readFileSync(join(examples, "plans", name), "utf8"), name);
  const rules = loadRouting(join(examples, "routing.yaml"));
  assert.deepEqual(rules.forbid["media.playback"], ["network:metered"]);
  const film = read("film.yaml");
  const nodes = filmNodes().map((n) => (n.node_id === "nas" ? { ...n, metered: true } : n));
  const r = resolvePlan(input({ plan: film, nodes, rules, ctx: { origin: "browser-abc" } }));
  assert.equal(r.ok, true, JSON.stringify(r.unresolved));
  assert.deepEqual(Object.fromEntries(r.bindings.map((b) => [b.step, b.node_id])), { find: "plex1", stream: "plex1", display: "browser-abc" });
  assert.ok(r.rejected.some((x) => x.step === "stream" && x.node_id === "nas" && x.reason === "forbidden by routing.forbid: network:metered"));
  const nas = resolvePlan(input({ plan: read("on-the-nas.yaml"), rules, ctx: { allow_addressed: true } }));
  assert.deepEqual(Object.fromEntries(nas.bindings.map((b) => [b.step, b.node_id])), { find: "nas", stream: "nas" });
});
