/**
 * Tests of the scenario library (library.ts): loading the files of scenario directories (bad
 * files reported, the others kept; missing directories empty; duplicate ids refused for the later
 * file), lookups, scenarios built in code, and the shipped examples against the real catalog.
 */
import { strict as assert } from "node:assert";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { test } from "node:test";
import { ScenarioInvalidError } from "../core/errors.js";
import { silentLogger } from "../core/logger.js";
import { precompiledCatalog } from "../registry/precompiled.js";
import { evaluateExpr, interpolate, interpolateDeep } from "./expr.js";
import { ScenarioLibrary } from "./library.js";
import type { Scenario } from "./scenario.js";

/** The repository's examples/scenarios (tests run from dist/agent/scenarios). */
const EXAMPLES = fileURLToPath(new URL("../../../examples/scenarios", import.meta.url));

type TestContext = { after(fn: () => void): void };

function tempDir(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), "adaos-library-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const scenarioText = (id: string, say = "hi"): string => `id: ${id}\nsteps:\n  - name: a\n    say: ${JSON.stringify(say)}\n`;

function inCode(id: string): Scenario {
  return { id, triggers: [], ctx: {}, steps: [], effects: [], priority: "NORM", max_concurrent: 1, timeout_ms: 1000, on_restart: "interrupt" };
}

test("load: every .yaml/.yml file directly in each directory; a bad file is reported, the rest load", (t) => {
  const dir = tempDir(t);
  writeFileSync(join(dir, "b.yaml"), scenarioText("bravo"));
  writeFileSync(join(dir, "a.yml"), scenarioText("alpha"));
  writeFileSync(join(dir, "bad.yaml"), "id: bad\nsteps:\n  - name: a\n    sleep: soon\n");
  writeFileSync(join(dir, "notes.txt"), "not a scenario");
  mkdirSync(join(dir, "fragments"));
  writeFileSync(join(dir, "fragments", "c.yaml"), scenarioText("charlie"));
  mkdirSync(join(dir, "dir.yaml"));
  const { library, errors } = ScenarioLibrary.load([dir], { logger: silentLogger() });
  assert.deepEqual(library.list().map((s) => s.id), ["alpha", "bravo"]);
  assert.equal(errors.length, 1);
  assert.equal(errors[0]?.file, join(dir, "bad.yaml"));
  assert.ok(errors[0]?.error instanceof ScenarioInvalidError);
  assert.deepEqual(errors[0]?.error.issues.map((i) => i.pointer), ["/steps/0/sleep"]);
  assert.equal(library.get("alpha")?.file, join(dir, "a.yml"));
  assert.equal(library.get("charlie"), undefined, "subdirectories are not scanned");
});

test("load: a missing directory holds nothing; several directories add up", (t) => {
  const one = tempDir(t);
  const two = tempDir(t);
  writeFileSync(join(one, "x.yaml"), scenarioText("x"));
  writeFileSync(join(two, "y.yaml"), scenarioText("y"));
  const { library, errors } = ScenarioLibrary.load([join(one, "absent"), two, one, one]);
  assert.deepEqual(errors, []);
  assert.deepEqual(library.list().map((s) => s.id), ["x", "y"]);
  assert.deepEqual(ScenarioLibrary.load([]).library.list(), []);
});

test("load: a scenario id already taken is an error of the later file", (t) => {
  const one = tempDir(t);
  const two = tempDir(t);
  writeFileSync(join(one, "a.yaml"), scenarioText("same", "first"));
  writeFileSync(join(one, "b.yaml"), scenarioText("same", "second"));
  writeFileSync(join(two, "c.yaml"), scenarioText("same", "third"));
  const { library, errors } = ScenarioLibrary.load([one, two]);
  assert.equal(library.list().length, 1);
  assert.deepEqual(library.get("same")?.steps[0]?.action, { kind: "say", text: "first" });
  assert.deepEqual(errors.map((e) => e.file), [join(one, "b.yaml"), join(two, "c.yaml")]);
  const first = errors[0]?.error;
  assert.ok(first instanceof ScenarioInvalidError);
  assert.deepEqual(first.issues, [{ pointer: "/id", message: `scenario id "same" is already used by ${join(one, "a.yaml")}` }]);
  assert.match(first.message, /b\.yaml: invalid scenario \(1 problem\)\n\/id scenario id "same"/);
});

test("load: the catalog is used when given", (t) => {
  const dir = tempDir(t);
  writeFileSync(join(dir, "a.yaml"), "id: a\nsteps:\n  - name: a\n    publish: { event: no.such }\n");
  assert.deepEqual(ScenarioLibrary.load([dir]).errors, []);
  const { errors } = ScenarioLibrary.load([dir], { catalog: precompiledCatalog() });
  assert.deepEqual(errors[0]?.error.issues, [{ pointer: "/steps/0/publish/event", message: "unknown event no.such@1: the event catalog does not have it" }]);
});

test("of: scenarios built in code, sorted by id; a repeated id throws", () => {
  const library = ScenarioLibrary.of([inCode("b"), inCode("a"), inCode("c")]);
  assert.deepEqual(library.list().map((s) => s.id), ["a", "b", "c"]);
  assert.equal(library.get("b")?.id, "b");
  assert.equal(library.get("z"), undefined);
  assert.throws(() => ScenarioLibrary.of([inCode("a"), inCode("a")]), (e: unknown) => e instanceof ScenarioInvalidError && /"a" is used twice/.test(e.message));
});

test("the examples in examples/scenarios load against the real catalog", () => {
  const { library, errors } = ScenarioLibrary.load([EXAMPLES], { catalog: precompiledCatalog() });
  assert.deepEqual(errors.map((e) => e.error.message), []);
  assert.deepEqual(library.list().map((s) => s.id), ["greet_on_boot", "morning_brief", "weather_now"]);
  const brief = library.get("morning_brief");
  assert.deepEqual(brief?.triggers, [{ kind: "cron", cron: "0 7 * * 1-5", tz: "Europe/Berlin", catch_up: false }]);
  assert.deepEqual(brief?.steps.map((s) => s.action.kind), ["set", "say", "notify"], "the fragment's steps are included");
  const greet = library.get("greet_on_boot");
  assert.deepEqual(greet?.triggers[0], { kind: "event", event: "system.boot.completed", version: 1, filter: '$.payload.role == "hub"', ctx: { node: "${$.payload.node_id}", version: "${$.payload.version}" } });
  const weather = library.get("weather_now");
  assert.ok(weather?.steps.every((s) => s.when !== undefined && s.locks.includes("tts")));
});

test("weather_now: its filter, trigger ctx and when guards do what the example says", () => {
  const weather = ScenarioLibrary.load([EXAMPLES]).library.get("weather_now");
  const trigger = weather?.triggers[0];
  assert.ok(trigger?.kind === "event" && trigger.filter !== undefined);
  const intent = (intent: string, slots: Record<string, string>): unknown => ({ payload: { intent_id: "i1", intent, slots, locale: "en" } });
  assert.equal(evaluateExpr(trigger.filter, { $: intent("weather.now", {}) }), true);
  assert.equal(evaluateExpr(trigger.filter, { $: intent("media.play", {}) }), false);
  const said = (slots: Record<string, string>): string[] => {
    const ctx = interpolateDeep(trigger.ctx, { $: intent("weather.now", slots) }) as Record<string, unknown>;
    const scope = { ctx, bag: {}, run: { id: "r", scenario_id: "weather_now" } };
    return (weather?.steps ?? []).filter((s) => evaluateExpr(s.when ?? "true", scope) === true).map((s) => String(s.action.kind === "say" ? interpolate(s.action.text, scope) : ""));
  };
  assert.deepEqual(said({ city: "Berlin" }), ["Weather in Berlin: I cannot tell you yet, because no forecast service is configured on this node."]);
  assert.deepEqual(said({}), ["Which city? Ask me, for example: what is the weather in Berlin."]);
});
