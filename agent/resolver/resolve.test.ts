import { strict as assert } from "node:assert";
import { test } from "node:test";
import type { NodeFacts } from "./candidates.js";
import { cap, filmNodes, FILM_PLAN, input, node, plan, step } from "./fixture.js";
import { NO_RULES } from "./plan.js";
import { resolvePlan, type Resolution } from "./resolve.js";
import { DEFAULT_WEIGHTS, score } from "./score.js";

const bound = (r: Resolution): Record<string, string> => Object.fromEntries(r.bindings.map((b) => [b.step, b.node_id]));
const why = (r: Resolution, stepId: string, nodeId: string): string[] => r.rejected.filter((x) => x.step === stepId && x.node_id === nodeId).map((x) => x.reason);
const edit = (nodes: NodeFacts[], id: string, patch: Partial<NodeFacts>): NodeFacts[] => nodes.map((n) => (n.node_id === id ? { ...n, ...patch } : n));

test("the seed's film example: find and stream on plex1, display in the browser (hls), each loser with its reason", () => {
  const r = resolvePlan(input());
  assert.equal(r.ok, true, JSON.stringify(r.unresolved));
  assert.deepEqual(bound(r), { find: "plex1", stream: "plex1", display: "browser-abc" });
  const display = r.bindings.find((b) => b.step === "display");
  assert.deepEqual(display?.formats, { stream: ["hls", "dash"] });
  assert.match(why(r, "display", "tv")[0] ?? "", /formats: stream's outputs \[hls, dash\] ∩ inputs \[mp4\] = ∅/);
  assert.match(why(r, "find", "nas")[0] ?? "", /^lower score/);
  const stream = r.bindings.find((b) => b.step === "stream");
  assert.equal(stream?.score.inputs.rtt_ms, 0, "stream on the node that found it: no hop");
});

test("the score is the seed's formula, term by term, with the configured weights", () => {
  const n = node("x", "member", [cap("a.b", 80, { cost: 2 })], { prio_base: 60, load: 0.5, rtt_to: { hub: 10 } });
  const t = score({ candidate: { node: n, capability: n.capabilities[0] as never }, adjacent: [], hubId: "hub-1", policies: ["low-latency"], addressed: true, weights: DEFAULT_WEIGHTS });
  assert.deepEqual([t.prio, t.base, t.load, t.rtt, t.cost, t.addressed], [80, 30, -15, -2, -10, 1000]);
  assert.equal(t.policy, 20 * (1 - 10 / 50));
  assert.equal(t.total, 80 + 30 - 15 - 2 - 10 + 16 + 1000);
});

test("raising a node's load or rtt flips the choice to the other browser", () => {
  const nodes = [...filmNodes(), node("browser-def", "browser", [cap("ui.render.video", 95, { inputs: ["hls"] })], { rtt_to: { hub: 8, plex1: 10 } })];
  const base = bound(resolvePlan(input({ nodes })));
  assert.equal(base.display, "browser-abc", "tie broken by node id");
  assert.equal(bound(resolvePlan(input({ nodes: edit(nodes, "browser-abc", { load: 1.5 }) }))).display, "browser-def");
  assert.equal(bound(resolvePlan(input({ nodes: edit(nodes, "browser-abc", { rtt_to: { hub: 8, plex1: 300 } }) }))).display, "browser-def");
});

test("incompatible formats are never bound: with only an mp4 TV to show on, the stream moves to the mp4 NAS", () => {
  const nodes = filmNodes().filter((n) => n.node_id !== "browser-abc");
  const r = resolvePlan(input({ nodes }));
  assert.equal(r.ok, true);
  assert.deepEqual(bound(r), { find: "plex1", stream: "nas", display: "tv" });
  assert.deepEqual(r.bindings.find((b) => b.step === "display")?.formats, { stream: ["mp4"] });
});

test("routing.forbid: a metered member is never chosen for playback; data_residency local rules out cloud nodes", () => {
  const nodes = edit(filmNodes(), "plex1", { metered: true });
  const r = resolvePlan(input({ nodes, rules: { ...NO_RULES, forbid: { "media.playback": ["network:metered"] } } }));
  assert.equal(bound(r).stream, "nas");
  assert.deepEqual(why(r, "stream", "plex1"), ["forbidden by routing.forbid: network:metered"]);
  assert.equal(bound(r).find, "plex1", "search on a metered node is not forbidden");

  const cloudy = edit(filmNodes(), "plex1", { tags: ["cloud"] });
  const local = resolvePlan(input({ nodes: cloudy, plan: { ...FILM_PLAN, constraints: { policies: [], data_residency: "local" } } }));
  assert.deepEqual([bound(local).find, bound(local).stream], ["nas", "nas"]);
  assert.deepEqual(why(local, "find", "plex1"), ["data_residency local: node tagged cloud"]);
});

test("offline nodes and capabilities not up are candidates for nothing; no candidate left → unresolved with the reason", () => {
  const nodes = edit(edit(filmNodes(), "browser-abc", { online: false }), "tv", { capabilities: [cap("ui.render.video", 90, { inputs: ["mp4"], status: "down" } as never)] });
  const r = resolvePlan(input({ nodes }));
  assert.equal(r.ok, false);
  assert.deepEqual(r.unresolved, [{ step: "display", reason: "no candidate for capability://ui.render.video" }]);
  assert.deepEqual(why(r, "display", "browser-abc"), ["node offline"]);
  assert.deepEqual(why(r, "display", "tv"), ["capability down"]);
});

test("prefer hints narrow when they can and fall back when they cannot; prefer_agent likewise", () => {
  const p = plan([step("find", "media.search", { prefer: "member:any(tag:nothing)" }), step("display", "ui.render.video", { prefer: "browser:current" })]);
  const r = resolvePlan(input({ plan: p, ctx: { origin: "browser-abc" } }));
  assert.deepEqual(bound(r), { find: "plex1", display: "browser-abc" });
  assert.ok(r.bindings[0]?.reasons.some((x) => /no candidate matches, all kept/.test(x)));
  assert.deepEqual(why(r, "display", "tv"), ["not preferred (browser:current)"], "the TV would win on score alone");

  const tvOrigin = resolvePlan(input({ plan: plan([step("display", "ui.render.video", { prefer: "member:current" })]), ctx: { origin: "tv" } }));
  assert.equal(bound(tvOrigin).display, "tv");
  assert.deepEqual(why(tvOrigin, "display", "browser-abc"), ["not preferred (member:current)"]);

  const agent = resolvePlan(input({ plan: { ...FILM_PLAN, interpretation: { directives: { prefer_agent: "member:nas" } } } }));
  assert.equal(bound(agent).find, "nas");
  assert.equal(bound(agent).stream, "nas");
  assert.ok(why(agent, "display", "tv").length === 0 || why(agent, "display", "browser-abc").length === 0, "no display on nas: the step falls back to all displays");
  assert.ok(r.bindings.length === 2 && bound(agent).display !== "nas");
});

test("an addressed skill pins its step only when allowed; otherwise it adds w_addressed", () => {
  const directives = { addressed_skill: "skill://member/nas/media.search" };
  const weak = { ...DEFAULT_WEIGHTS, addressed: 1 };
  const notAllowed = resolvePlan(input({ plan: { ...FILM_PLAN, interpretation: { directives } }, weights: weak }));
  assert.equal(bound(notAllowed).find, "plex1", "a bonus of 1 does not beat plex1");
  const allowed = resolvePlan(input({ plan: { ...FILM_PLAN, interpretation: { directives } }, weights: weak, rules: { ...NO_RULES, overrides: [{ when: { addressed_skill: true }, action: "pin_to_addressed" }] } }));
  assert.equal(bound(allowed).find, "nas");
  assert.deepEqual(why(allowed, "find", "plex1"), ["pinned to the addressed skill on nas"]);
  const bonus = resolvePlan(input({ plan: { ...FILM_PLAN, interpretation: { directives } } }));
  assert.equal(bound(bonus).find, "nas", "the default w_addressed outweighs everything else");
});

test("re-planning input: excluded nodes and fixed bindings", () => {
  const r = resolvePlan(input({ exclude: new Map([["display", new Set(["browser-abc"])]]) }));
  assert.deepEqual(bound(r), { find: "plex1", stream: "nas", display: "tv" });
  assert.deepEqual(why(r, "display", "browser-abc"), ["excluded: failed earlier in this run"]);
  const fixed = resolvePlan(input({ fixed: new Map([["find", "nas"]]) }));
  assert.equal(bound(fixed).find, "nas");
});

test("a dependency cycle or an unknown dependency is unresolved, not a crash", () => {
  const r = resolvePlan(input({ plan: plan([step("a", "media.search", { depends_on: ["b"] }), step("b", "media.search", { depends_on: ["a"] })]) }));
  assert.equal(r.ok, false);
  assert.match(r.unresolved[0]?.reason ?? "", /cycle/);
  const u = resolvePlan(input({ plan: plan([step("a", "media.search", { depends_on: ["zzz"] })]) }));
  assert.match(u.unresolved[0]?.reason ?? "", /not in the plan/);
});
