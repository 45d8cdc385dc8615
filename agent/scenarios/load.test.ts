/**
 * Tests of the scenario loader (load.ts and its load-*.ts parts) and of duration.ts: every action
 * form and its normalisation, defaults, every trigger kind, the schedule, duration, expression and
 * template checks, YAML as untrusted input, includes, the catalog and effects checks, and that one
 * pass reports every problem with its pointer. Fragment files come from an in-memory readFile;
 * the few tests that need the file system use a temp dir removed in t.after.
 */
import { strict as assert } from "node:assert";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import schema from "../../abi/scenario.schema.json" with { type: "json" };
import { ScenarioInvalidError, type Issue } from "../core/errors.js";
import type { EventCatalog } from "../registry/catalog.js";
import { MemoryCatalog, entry } from "../registry/memory-catalog.js";
import { precompiledCatalog } from "../registry/precompiled.js";
import { formatDuration, parseDuration } from "./duration.js";
import { loadScenarioFile, MAX_FILE_BYTES, MAX_INCLUDE_DEPTH, parseScenario, type ParseOptions } from "./load.js";
import type { Scenario, Step } from "./scenario.js";

/** Strips the common indentation (and the first newline) of a YAML text written in a test. */
function yaml(text: string): string {
  const lines = text.replace(/^\n/, "").split("\n");
  const indent = Math.min(...lines.filter((l) => l.trim() !== "").map((l) => /^ */.exec(l)![0].length));
  return lines.map((l) => l.slice(indent)).join("\n");
}

/** A scenario with id `t` and these steps (YAML list items at column 0). */
function withSteps(steps: string, head = ""): string {
  const body = yaml(steps).split("\n").map((l) => `  ${l}`).join("\n");
  return `id: t\n${yaml(head)}\nsteps:\n${body}\n`;
}

/** The issues of a text that must not load. */
function issues(text: string, options: ParseOptions = {}): Issue[] {
  try {
    parseScenario(text, options);
  } catch (err) {
    assert.ok(err instanceof ScenarioInvalidError, `expected ScenarioInvalidError, got ${String(err)}`);
    assert.equal(err.code, "E_SCENARIO_INVALID");
    return [...err.issues];
  }
  assert.fail("the scenario loaded, but it should not have");
}

/** Asserts an issue at `pointer` whose message matches `message`. */
function hasIssue(list: readonly Issue[], pointer: string, message: RegExp): void {
  const found = list.some((i) => i.pointer === pointer && message.test(i.message));
  assert.ok(found, `no issue ${pointer} ${String(message)} in:\n${list.map((i) => `${i.pointer} ${i.message}`).join("\n")}`);
}

/** The steps of a scenario that must load. */
function steps(text: string, options: ParseOptions = {}): readonly Step[] {
  return parseScenario(text, options).steps;
}

/** An in-memory file system for includes; a missing path throws like fs does. */
function memoryFiles(files: Readonly<Record<string, string>>): (path: string) => string {
  return (path) => {
    const text = files[path];
    if (text === undefined) throw Object.assign(new Error(`ENOENT: no such file or directory, open '${path}'`), { code: "ENOENT" });
    return text;
  };
}

const DEFAULT_RETRIES = { max: 0, backoff_ms: 1000 };

// ---------------------------------------------------------------------------------------------
// durations

test("parseDuration: whole ms and text with ms, s, m, h", () => {
  assert.equal(parseDuration(0, "t"), 0);
  assert.equal(parseDuration(1500, "t"), 1500);
  assert.equal(parseDuration("250ms", "t"), 250);
  assert.equal(parseDuration("1.5s", "t"), 1500);
  assert.equal(parseDuration("5m", "t"), 300_000);
  assert.equal(parseDuration("2h", "t"), 7_200_000);
  assert.equal(parseDuration("0.0004s", "t"), 0);
});

test("parseDuration: anything else is a ScenarioInvalidError naming the value and the forms", () => {
  for (const bad of [-1, 1.5, Number.NaN, "5", "5x", "1h30m", "7d", " 5s", "-1s", "1e3ms", "", null, true, [], {}]) {
    assert.throws(() => parseDuration(bad, "timeout"), (e: unknown) => {
      assert.ok(e instanceof ScenarioInvalidError);
      assert.match(e.message, /^timeout .*expected a whole number of milliseconds or text such as "250ms"/);
      return true;
    }, `accepted ${JSON.stringify(bad)}`);
  }
  assert.throws(() => parseDuration("99999999999999h", "sleep"), /too long/);
});

test("formatDuration: the shortest text that reads back", () => {
  const cases: [number, string][] = [[0, "0ms"], [250, "250ms"], [1000, "1s"], [1500, "1.5s"], [90_000, "90s"], [300_000, "5m"], [7_200_000, "2h"], [86_400_000, "24h"]];
  for (const [ms, text] of cases) {
    assert.equal(formatDuration(ms), text);
    assert.equal(parseDuration(text, "t"), ms);
  }
});

// ---------------------------------------------------------------------------------------------
// normalisation

test("a minimal scenario gets every default", () => {
  const s = parseScenario("id: t\nsteps:\n  - name: nap\n    sleep: 1s\n");
  const expected: Scenario = {
    id: "t",
    triggers: [],
    ctx: {},
    steps: [{ name: "nap", action: { kind: "sleep", ms: 1000 }, retries: DEFAULT_RETRIES, locks: [] }],
    effects: [],
    priority: "NORM",
    max_concurrent: 1,
    timeout_ms: 300_000,
    on_restart: "interrupt",
  };
  assert.deepEqual(s, expected);
  assert.ok(Object.isFrozen(s) && Object.isFrozen(s.steps[0]) && Object.isFrozen(s.steps[0]?.retries));
});

test("scenario fields: priority, max_concurrent, timeout, on_restart, ctx, description", () => {
  const s = parseScenario(withSteps("- { name: a, sleep: 0 }", `
    description: All fields
    priority: HIGH
    max_concurrent: 3
    timeout: 1.5s
    on_restart: resume
    ctx: { name: Ada, n: 2, list: [1, 2] }
  `));
  assert.equal(s.description, "All fields");
  assert.equal(s.priority, "HIGH");
  assert.equal(s.max_concurrent, 3);
  assert.equal(s.timeout_ms, 1500);
  assert.equal(s.on_restart, "resume");
  assert.deepEqual(s.ctx, { name: "Ada", n: 2, list: [1, 2] });
  assert.equal(s.file, undefined);
});

test("effects: strings and {publish}, name alone is @1, unique and sorted", () => {
  const s = parseScenario(withSteps("- { name: a, sleep: 0 }", `
    effects: [ui.say@1, { publish: "test.event@2" }, ui.notify, "ui.notify@1", ui.say]
  `));
  assert.deepEqual(s.effects, ["test.event@2", "ui.notify@1", "ui.say@1"]);
});

test("call: command with and without @N, payload default {}, target", () => {
  const got = steps(withSteps(`
    - name: plain
      call: { command: repo.skill.install }
    - name: full
      call:
        command: "repo.skill.install@2"
        payload: { skill: "\${ctx.skill}", opts: [1, { a: true }] }
        target: "\${ctx.node}"
  `));
  assert.deepEqual(got.map((s) => s.action), [
    { kind: "call", command: "repo.skill.install", version: 1, payload: {} },
    { kind: "call", command: "repo.skill.install", version: 2, payload: { skill: "${ctx.skill}", opts: [1, { a: true }] }, target: "${ctx.node}" },
  ]);
});

test("publish: event with and without @N, payload default {}", () => {
  const got = steps(withSteps(`
    - { name: a, publish: { event: test.event } }
    - { name: b, publish: { event: "test.event@3", payload: { n: 1 } } }
  `));
  assert.deepEqual(got.map((s) => s.action), [
    { kind: "publish", event: "test.event", version: 1, payload: {} },
    { kind: "publish", event: "test.event", version: 3, payload: { n: 1 } },
  ]);
});

test("say: text or {text, voice, lang}; a say step always holds the tts lock", () => {
  const got = steps(withSteps(`
    - { name: a, say: "Hello \${ctx.name}" }
    - name: b
      say: { text: Hi, voice: anna, lang: en }
      locks: [mic, tts, mic, audio]
  `));
  assert.deepEqual(got[0], { name: "a", action: { kind: "say", text: "Hello ${ctx.name}" }, retries: DEFAULT_RETRIES, locks: ["tts"] });
  assert.deepEqual(got[1]?.action, { kind: "say", text: "Hi", voice: "anna", lang: "en" });
  assert.deepEqual(got[1]?.locks, ["audio", "mic", "tts"]);
});

test("notify: text or {text, level, title}; level defaults to info", () => {
  const got = steps(withSteps(`
    - { name: a, notify: Done }
    - { name: b, notify: { text: "Oops \${bag.n}", level: error, title: Backup } }
    - { name: c, notify: { text: Fine } }
  `));
  assert.deepEqual(got.map((s) => s.action), [
    { kind: "notify", text: "Done", level: "info" },
    { kind: "notify", text: "Oops ${bag.n}", level: "error", title: "Backup" },
    { kind: "notify", text: "Fine", level: "info" },
  ]);
});

test("wait: any version unless @N, filter, timeout default 30s", () => {
  const got = steps(withSteps(`
    - { name: a, wait: { event: nlp.intent.detected } }
    - name: b
      wait: { event: "nlp.intent.detected@1", filter: '$.payload.intent == "yes"', timeout: 20s }
      save_as: answer
  `));
  assert.deepEqual(got[0]?.action, { kind: "wait", event: "nlp.intent.detected", timeout_ms: 30_000 });
  assert.deepEqual(got[1]?.action, { kind: "wait", event: "nlp.intent.detected", version: 1, filter: '$.payload.intent == "yes"', timeout_ms: 20_000 });
  assert.equal(got[1]?.save_as, "answer");
});

test("set and sleep", () => {
  const got = steps(withSteps(`
    - { name: a, set: { greeting: "Good morning, \${ctx.name}", count: 3, deep: { list: ["\${bag.x}", null] } } }
    - { name: b, sleep: 250 }
    - { name: c, sleep: 2s }
  `));
  assert.deepEqual(got.map((s) => s.action), [
    { kind: "set", values: { greeting: "Good morning, ${ctx.name}", count: 3, deep: { list: ["${bag.x}", null] } } },
    { kind: "sleep", ms: 250 },
    { kind: "sleep", ms: 2000 },
  ]);
});

test("step options: timeout, retries (number or object), compensate, save_as, when", () => {
  const got = steps(withSteps(`
    - name: a
      call: { command: repo.skill.install, payload: { skill: x } }
      timeout: 5s
      retries: 2
      compensate: { publish: { event: test.undo, payload: { skill: x } } }
      save_as: result
      when: 'ctx.install == true'
    - { name: b, sleep: 0, retries: { max: 3, backoff: 200ms } }
    - { name: c, sleep: 0, retries: { backoff: 2s } }
    - { name: d, sleep: 0, retries: {} }
  `));
  assert.deepEqual(got[0], {
    name: "a",
    action: { kind: "call", command: "repo.skill.install", version: 1, payload: { skill: "x" } },
    timeout_ms: 5000,
    retries: { max: 2, backoff_ms: 1000 },
    compensate: { kind: "publish", event: "test.undo", version: 1, payload: { skill: "x" } },
    locks: [],
    save_as: "result",
    when: "ctx.install == true",
  });
  assert.deepEqual(got.slice(1).map((s) => s.retries), [{ max: 3, backoff_ms: 200 }, { max: 0, backoff_ms: 2000 }, DEFAULT_RETRIES]);
});

test("every trigger kind, with its defaults", () => {
  const s = parseScenario(withSteps("- { name: a, sleep: 0 }", `
    triggers:
      - event: "nlp.intent.detected@1"
        filter: '$.payload.intent == "weather.now"'
        ctx: { city: "\${$.payload.slots.city}", fixed: [1] }
      - event: system.boot.completed
      - { cron: "0 7 * * 1-5", tz: Europe/Berlin, catch_up: true, ctx: { who: Ada } }
      - { cron: "*/10 * * * * *" }
      - { at: "2026-09-21T07:00:00+02:00" }
      - { interval: 10s, catch_up: false }
      - { interval: 2000 }
  `));
  assert.deepEqual(s.triggers, [
    { kind: "event", event: "nlp.intent.detected", version: 1, filter: '$.payload.intent == "weather.now"', ctx: { city: "${$.payload.slots.city}", fixed: [1] } },
    { kind: "event", event: "system.boot.completed" },
    { kind: "cron", cron: "0 7 * * 1-5", tz: "Europe/Berlin", catch_up: true, ctx: { who: "Ada" } },
    { kind: "cron", cron: "*/10 * * * * *", catch_up: false },
    { kind: "at", at: "2026-09-21T07:00:00+02:00", catch_up: false },
    { kind: "interval", every_ms: 10_000, catch_up: false },
    { kind: "interval", every_ms: 2000, catch_up: false },
  ]);
});

test("no undefined-valued keys anywhere in a result", () => {
  const s = parseScenario(withSteps(`
    - { name: a, say: hi }
    - { name: b, wait: { event: x.y } }
    - { name: c, call: { command: x.y } }
  `, "triggers: [{ event: x.y }, { cron: '* * * * *' }]"));
  const walk = (v: unknown, at: string): void => {
    if (typeof v !== "object" || v === null) return;
    for (const [k, x] of Object.entries(v)) {
      assert.notEqual(x, undefined, `${at}/${k} is undefined`);
      walk(x, `${at}/${k}`);
    }
  };
  walk(s, "");
});

// ---------------------------------------------------------------------------------------------
// schedule, duration, structure and expression problems

test("a bad cron, time zone, at or interval is an issue at its field", () => {
  const list = issues(withSteps("- { name: a, sleep: 0 }", `
    triggers:
      - { cron: "61 * * * *" }
      - { cron: "0 7 * * *", tz: Mars/Olympus }
      - { cron: "0 7 * *" }
      - { at: "2026-02-30T07:00:00Z" }
      - { at: "tomorrow" }
      - { at: "2026-09-21T07:00:00" }
      - { interval: 500ms }
      - { interval: 0 }
  `));
  hasIssue(list, "/triggers/0/cron", /cron "61 \* \* \* \*":.*minute/);
  hasIssue(list, "/triggers/1/tz", /unknown time zone "Mars\/Olympus"/);
  hasIssue(list, "/triggers/2/cron", /cron "0 7 \* \*"/);
  hasIssue(list, "/triggers/3/at", /no such date/);
  hasIssue(list, "/triggers/4/at", /not an ISO-8601 time/);
  hasIssue(list, "/triggers/5/at", /not an ISO-8601 time with an offset/);
  hasIssue(list, "/triggers/6/interval", /interval must be at least 1s \(it is 500ms\)/);
  hasIssue(list, "/triggers/7/interval", /at least 1s/);
  assert.equal(list.length, 8);
});

test("a trigger must be exactly one kind, with only that kind's fields", () => {
  const list = issues(withSteps("- { name: a, sleep: 0 }", `
    triggers:
      - { event: x.y, cron: "* * * * *" }
      - { ctx: {} }
      - { cron: "* * * * *", filter: "true" }
      - { at: "2026-09-21T07:00:00Z", tz: UTC }
      - { event: x.y, catch_up: true }
  `));
  hasIssue(list, "/triggers/0", /a trigger is one kind, this one has event and cron/);
  hasIssue(list, "/triggers/1", /a trigger needs one of event, cron, at, interval/);
  hasIssue(list, "/triggers/2/filter", /not allowed/);
  hasIssue(list, "/triggers/3/tz", /not allowed/);
  hasIssue(list, "/triggers/4/catch_up", /not allowed/);
  assert.equal(list.length, 5, "one issue per problem, no ajv if/else noise");
});

test("duplicate step names are an issue at the second", () => {
  const list = issues(withSteps(`
    - { name: a, sleep: 0 }
    - { name: b, sleep: 0 }
    - { name: a, sleep: 0 }
  `));
  assert.deepEqual(list, [{ pointer: "/steps/2/name", message: 'duplicate step name "a" (first at /steps/0)' }]);
});

test("unknown keys are issues at their pointer, everywhere", () => {
  const list = issues(withSteps(`
    - { name: a, sleep: 0, colour: red }
    - { name: b, say: { text: hi, speed: 2 } }
    - { name: c, call: { command: x.y, body: {} } }
    - { name: d, sleep: 0, retries: { max: 1, jitter: 5 } }
    - { name: e, publish: { event: x.y }, compensate: { publish: { event: x.y }, name: z } }
  `, "owner: me\ntriggers: [{ event: x.y, when: 'true' }]"));
  for (const p of ["/owner", "/triggers/0/when", "/steps/0/colour", "/steps/1/say/speed", "/steps/2/call/body", "/steps/3/retries/jitter", "/steps/4/compensate/name"]) {
    hasIssue(list, p, /is not allowed \(unknown property\)/);
  }
  assert.equal(list.length, 7);
});

test("a step needs exactly one action; so does a compensation", () => {
  const list = issues(withSteps(`
    - { name: a, say: hi, notify: hi }
    - { name: b, timeout: 1s }
    - { name: c, call: { command: x.y }, compensate: { publish: { event: x.y }, call: { command: x.z } } }
    - { name: d, call: { command: x.y }, compensate: {} }
    - { say: hi }
  `));
  hasIssue(list, "/steps/0", /a step has 2 actions \(say, notify\); it must have exactly one/);
  hasIssue(list, "/steps/1", /a step has no action: give one of call, publish, say, notify, wait, set, sleep/);
  hasIssue(list, "/steps/2/compensate", /compensate has 2 actions \(call, publish\)/);
  hasIssue(list, "/steps/3/compensate", /compensate has no action/);
  hasIssue(list, "/steps/4/name", /is required/);
  assert.equal(list.length, 5);
});

test("only effectful steps take a compensation", () => {
  const list = issues(withSteps("- { name: a, sleep: 1s, compensate: { say: sorry } }"));
  assert.deepEqual(list, [{ pointer: "/steps/0/compensate", message: "only effectful steps (call, publish, say, notify) are compensated; a sleep step never would be" }]);
});

test("bad durations: form and bounds, at their pointer", () => {
  const list = issues(withSteps(`
    - { name: a, sleep: 5x }
    - { name: b, sleep: -1 }
    - { name: c, sleep: 1.5 }
    - { name: d, sleep: 25h }
    - { name: e, sleep: 0, timeout: 0 }
    - { name: f, wait: { event: x.y, timeout: 0ms } }
    - { name: g, wait: { event: x.y, timeout: 48h } }
    - { name: h, sleep: 0, retries: { backoff: 1d } }
    - { name: i, sleep: 0, timeout: "1h30m" }
  `, "timeout: 24.5h"));
  hasIssue(list, "/timeout", /timeout must be at most 24h \(it is 1470m\)/);
  hasIssue(list, "/steps/0/sleep", /must match pattern/);
  hasIssue(list, "/steps/1/sleep", /must be >= 0/);
  hasIssue(list, "/steps/2/sleep", /must be integer or string/);
  hasIssue(list, "/steps/3/sleep", /sleep must be at most 24h \(it is 25h\)/);
  hasIssue(list, "/steps/4/timeout", /timeout must be more than 0/);
  hasIssue(list, "/steps/5/wait/timeout", /wait timeout must be more than 0/);
  hasIssue(list, "/steps/6/wait/timeout", /at most 24h/);
  hasIssue(list, "/steps/7/retries/backoff", /must match pattern/);
  hasIssue(list, "/steps/8/timeout", /must match pattern/);
  assert.equal(list.length, 10, "a value the schema refused is not reported twice");
});

test("retries out of range and names, locks, save_as that do not match their patterns", () => {
  const list = issues(withSteps(`
    - { name: a, sleep: 0, retries: 21 }
    - { name: b, sleep: 0, retries: { max: -1 } }
    - { name: Bad Name, sleep: 0 }
    - { name: d, sleep: 0, locks: [Mic] }
    - { name: e, sleep: 0, save_as: "1x" }
    - { name: f, set: { "bad-key": 1 } }
    - { name: g, sleep: 0, save_as: __proto__ }
    - { name: h, set: { __proto__: 1 } }
  `, "priority: URGENT\nmax_concurrent: 0"));
  hasIssue(list, "/steps/6/save_as", /must match pattern/);
  hasIssue(list, "/steps/7/set/__proto__", /^key "__proto__" must match pattern/);
  hasIssue(list, "/steps/0/retries", /must be <= 20/);
  hasIssue(list, "/steps/1/retries/max", /must be >= 0/);
  hasIssue(list, "/steps/2/name", /must match pattern/);
  hasIssue(list, "/steps/3/locks/0", /must match pattern/);
  hasIssue(list, "/steps/4/save_as", /must match pattern/);
  hasIssue(list, "/steps/5/set/bad-key", /^key "bad-key" must match pattern/);
  hasIssue(list, "/priority", /must be one of "HIGH", "NORM", "LOW"/);
  hasIssue(list, "/max_concurrent", /must be >= 1/);
});

test("steps: required, at least one, at most 200", () => {
  hasIssue(issues("id: t\n"), "/steps", /is required/);
  hasIssue(issues("id: t\nsteps: []\n"), "/steps", /must NOT have fewer than 1 items/);
  const many = Array.from({ length: 201 }, (_, i) => `- { name: s${i}, sleep: 0 }`).join("\n");
  hasIssue(issues(withSteps(many)), "/steps", /must NOT have more than 200 items/);
  hasIssue(issues(withSteps("- { name: a, sleep: 0 }", "id: x")), "/", /YAML syntax error at line 2, column 1: Map keys must be unique/);
});

test("expressions and templates are checked, with the position of the mistake", () => {
  const list = issues(withSteps(`
    - { name: a, sleep: 0, when: "ctx.a = 1" }
    - { name: b, wait: { event: x.y, filter: "$.payload.(" } }
    - { name: c, say: "Hi \${ctx.name" }
    - { name: d, notify: { text: ok, title: "\${ctx..x}" } }
    - { name: e, call: { command: x.y, payload: { a: ["\${1 +}"] }, target: "\${ctx.node(1)}" } }
    - { name: f, publish: { event: x.y, payload: { "k": "\${!}" } } }
    - { name: g, set: { v: "\${bag.}" } }
    - { name: h, publish: { event: x.y }, compensate: { say: "\${)}" } }
  `, `triggers: [{ event: x.y, filter: "$.a &", ctx: { c: { d: "\${$.x +}" } } }]`));
  hasIssue(list, "/steps/0/when", /unexpected "=" at 7 in: ctx\.a = 1 \(use == to compare\)/);
  hasIssue(list, "/steps/1/wait/filter", /at 11 in: \$\.payload\.\(/);
  hasIssue(list, "/steps/2/say", /unterminated "\$\{" at 4/);
  hasIssue(list, "/steps/3/notify/title", /bad template part/);
  hasIssue(list, "/steps/4/call/payload/a/0", /bad template part \$\{1 \+\}/);
  hasIssue(list, "/steps/4/call/target", /calls are not allowed/);
  hasIssue(list, "/steps/5/publish/payload/k", /bad template part/);
  hasIssue(list, "/steps/6/set/v", /expected a property name/);
  hasIssue(list, "/steps/7/compensate/say", /bad template part/);
  hasIssue(list, "/triggers/0/filter", /use && for and/);
  hasIssue(list, "/triggers/0/ctx/c/d", /bad template part/);
  assert.equal(list.length, 11);
});

test("templates where nothing fills them are issues: default ctx, schedule trigger ctx, voice, lang", () => {
  const list = issues(withSteps("- { name: a, say: { text: hi, voice: \"${ctx.voice}\", lang: \"${ctx.lang}\" } }", `
    ctx: { who: "\${ctx.name}", escaped: "$\${not a template}" }
    triggers: [{ cron: "* * * * *", ctx: { when: "\${$.time}" } }]
  `));
  hasIssue(list, "/ctx/who", /is not filled in a scenario's default ctx/);
  hasIssue(list, "/triggers/0/ctx/when", /is not filled in the ctx of a schedule trigger/);
  hasIssue(list, "/steps/0/say/voice", /is not filled in a voice/);
  hasIssue(list, "/steps/0/say/lang", /is not filled in a lang/);
  assert.equal(list.length, 4, "an escaped $${ is literal text");
});

// ---------------------------------------------------------------------------------------------
// YAML as untrusted input

test("a YAML syntax error is an issue with its line and column", () => {
  const list = issues("id: t\nsteps:\n  - name: a\n    say: [hi\n  - name: b\n");
  assert.equal(list.length > 0, true);
  hasIssue(list, "/", /^YAML syntax error at line \d+, column \d+: /);
  const dup = issues("id: t\nsteps:\n  - name: a\n    sleep: 1s\n    sleep: 2s\n");
  assert.deepEqual(dup, [{ pointer: "/", message: "YAML syntax error at line 5, column 5: Map keys must be unique" }]);
});

test("YAML: unknown tags, several documents, non-JSON numbers and an alias bomb are refused", () => {
  hasIssue(issues("id: !!js/function t\nsteps: []\n"), "/", /YAML problem at line 1, column 5: Unresolved tag/);
  hasIssue(issues("id: t\n---\nid: u\n"), "/", /YAML syntax error .*multiple documents/i);
  hasIssue(issues(withSteps("- { name: a, set: { x: .inf } }")), "/steps/0/set/x", /finite number/);
  const bomb = ["a: &a [x, x, x, x, x, x, x, x]", ..."bcdefghij".split("").map((c, i) => `${c}: &${c} [*${"abcdefghij"[i]}, *${"abcdefghij"[i]}, *${"abcdefghij"[i]}, *${"abcdefghij"[i]}]`)].join("\n");
  hasIssue(issues(bomb), "/", /at most 64 aliases/);
  // A few aliases are fine: anchors reused across steps.
  const s = parseScenario("id: t\nsteps:\n  - &nap { name: a, sleep: 1s }\n  - { name: b, sleep: 1s }\n");
  assert.equal(s.steps.length, 2);
});

test("YAML nested deeper than 64 levels is refused", () => {
  const deep = `${"[".repeat(70)}1${"]".repeat(70)}`;
  hasIssue(issues(withSteps(`- { name: a, set: { x: ${deep} } }`)), "/steps/0/set/x/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0", /nested more than 64 levels deep/);
});

test("an oversized file is refused before it is parsed", (t) => {
  const big = `id: t\ndescription: x\nsteps: [{ name: a, sleep: 0 }]\n#${"x".repeat(MAX_FILE_BYTES)}\n`;
  hasIssue(issues(big), "/", /the file is 257 KiB, more than the 256 KiB a scenario file may have/);
  const dir = mkdtempSync(join(tmpdir(), "adaos-load-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, "big.yaml");
  writeFileSync(file, big);
  assert.throws(() => loadScenarioFile(file), (e: unknown) => e instanceof ScenarioInvalidError && /256 KiB/.test(e.message));
});

test("the document must be a mapping", () => {
  hasIssue(issues(""), "/", /must be object/);
  hasIssue(issues("- a\n- b\n"), "/", /must be object/);
});

// ---------------------------------------------------------------------------------------------
// includes

const COMMON = yaml(`
  ask_name:
    - { name: ask, say: "What is your name?" }
    - { name: listen, wait: { event: nlp.intent.detected, timeout: 20s }, save_as: answer }
  goodbye:
    - { name: bye, say: Bye }
    - include: "./more/extra.yaml#thanks"
`);
const EXTRA = yaml(`
  thanks:
    - { name: thanks, notify: Thanks }
`);

test("include: a fragment, nested fragments relative to their file, and a whole-file list", () => {
  const readFile = memoryFiles({
    "/s/fragments/common.yaml": COMMON,
    "/s/fragments/more/extra.yaml": EXTRA,
    "/s/list.yaml": "- { name: last, sleep: 0 }\n",
  });
  const got = steps(withSteps(`
    - { name: first, sleep: 0 }
    - include: "./fragments/common.yaml#ask_name"
    - include: "fragments/common.yaml#goodbye"
    - include: list.yaml
  `), { file: "/s/main.yaml", readFile });
  assert.deepEqual(got.map((s) => s.name), ["first", "ask", "listen", "bye", "thanks", "last"]);
  assert.deepEqual(got[2]?.action, { kind: "wait", event: "nlp.intent.detected", timeout_ms: 20_000 });
  assert.equal(got[2]?.save_as, "answer");
});

test("include: relative to baseDir without a file; an issue with neither", () => {
  const readFile = memoryFiles({ "/b/f.yaml": "x: [{ name: a, sleep: 0 }]\n" });
  assert.equal(steps(withSteps("- include: f.yaml#x"), { baseDir: "/b", readFile }).length, 1);
  hasIssue(issues(withSteps("- include: f.yaml#x"), { readFile }), "/steps/0/include", /an include needs a directory/);
});

test("include: a missing file or fragment names both", () => {
  const readFile = memoryFiles({ "/s/common.yaml": COMMON, "/s/list.yaml": "- { name: a, sleep: 0 }\n" });
  const list = issues(withSteps(`
    - include: "./nope.yaml#ask_name"
    - include: "./common.yaml#ask_nam"
    - include: "./common.yaml"
    - include: "./list.yaml#x"
    - include: "#x"
    - include: "./common.yaml#"
  `), { file: "/s/main.yaml", readFile });
  hasIssue(list, "/steps/0/include", /cannot include fragment "ask_name" of \.\/nope\.yaml: no such file/);
  hasIssue(list, "/steps/1/include", /cannot include fragment "ask_nam" of \.\/common\.yaml: common\.yaml has no fragment "ask_nam" \(it has ask_name, goodbye\)/);
  hasIssue(list, "/steps/2/include", /common\.yaml is not a list of steps; name one of its fragments with "#": ask_name, goodbye/);
  hasIssue(list, "/steps/3/include", /list\.yaml is not a mapping of fragment names to steps/);
  hasIssue(list, "/steps/4/include", /names no file/);
  hasIssue(list, "/steps/5/include", /empty fragment name/);
});

test("include: a cycle is an issue naming the chain", () => {
  const readFile = memoryFiles({
    "/s/a.yaml": "x: [{ include: 'b.yaml#y' }]\n",
    "/s/b.yaml": "y: [{ name: b, sleep: 0 }, { include: 'a.yaml#x' }]\n",
  });
  const list = issues(withSteps("- include: a.yaml#x"), { file: "/s/main.yaml", readFile });
  assert.deepEqual(list, [{ pointer: "b.yaml#/y/1/include", message: "include cycle: a.yaml#x → b.yaml#y → a.yaml#x" }]);
  hasIssue(issues(withSteps("- include: self.yaml"), { file: "/s/main.yaml", readFile: memoryFiles({ "/s/self.yaml": "- include: self.yaml\n" }) }), "self.yaml#/0/include", /include cycle: self\.yaml → self\.yaml/);
});

test(`include: at most ${MAX_INCLUDE_DEPTH} levels deep`, () => {
  const files: Record<string, string> = {};
  for (let i = 1; i <= 9; i++) files[`/s/f${i}.yaml`] = i < 9 ? `- { name: s${i}, sleep: 0 }\n- include: f${i + 1}.yaml\n` : "- { name: s9, sleep: 0 }\n";
  const deepest = (n: number): Record<string, string> => ({ ...files, [`/s/f${n}.yaml`]: `- { name: s${n}, sleep: 0 }\n` });
  assert.equal(steps(withSteps("- include: f1.yaml"), { file: "/s/main.yaml", readFile: memoryFiles(deepest(8)) }).length, 8);
  const list = issues(withSteps("- include: f1.yaml"), { file: "/s/main.yaml", readFile: memoryFiles(files) });
  assert.deepEqual(list, [{ pointer: "f8.yaml#/1/include", message: "cannot include file f9.yaml: includes are nested more than 8 deep" }]);
});

test("include: problems inside a fragment point into the fragment file", () => {
  const readFile = memoryFiles({
    "/s/frag/bad.yaml": "x:\n  - { name: a, sleep: 1s, colour: red }\n  - { name: b, sleep: 1s, when: 'a =' }\n",
    "/s/frag/broken.yaml": "x: [\n",
    "/s/frag/dup.yaml": "x: [{ name: first, sleep: 0 }]\n",
  });
  const list = issues(withSteps(`
    - { name: first, sleep: 0 }
    - include: frag/bad.yaml#x
    - include: frag/broken.yaml#x
    - include: frag/dup.yaml#x
  `), { file: "/s/main.yaml", readFile });
  hasIssue(list, "frag/bad.yaml#/x/0/colour", /is not allowed/);
  hasIssue(list, "frag/bad.yaml#/x/1/when", /use == to compare/);
  hasIssue(list, "frag/broken.yaml#/", /^YAML syntax error at line 2, column 1: /);
  hasIssue(list, "/steps/2/include", /cannot include fragment "x" of frag\/broken\.yaml: frag\/broken\.yaml has problems/);
  hasIssue(list, "frag/dup.yaml#/x/0/name", /duplicate step name "first" \(first at \/steps\/0\)/);
});

test("include: the same fragment twice repeats its step names; a fragment must not be empty", () => {
  const readFile = memoryFiles({ "/s/f.yaml": "x: [{ name: a, sleep: 0 }]\nempty: []\n" });
  const list = issues(withSteps("- include: f.yaml#x\n- include: f.yaml#x\n- include: f.yaml#empty"), { file: "/s/main.yaml", readFile });
  hasIssue(list, "f.yaml#/x/0/name", /duplicate step name "a" \(first at f\.yaml#\/x\/0\)/);
  hasIssue(list, "f.yaml#/empty", /must NOT have fewer than 1 items/);
});

test("include: more than 200 steps once expanded is an issue (and the expansion stops)", () => {
  const fifty = Array.from({ length: 50 }, (_, i) => `- { name: s${i}, sleep: 0 }`).join("\n");
  const readFile = memoryFiles({ "/s/fifty.yaml": `${fifty}\n`, "/s/many.yaml": "- include: fifty.yaml\n".repeat(100) });
  const list = issues(withSteps("- include: many.yaml"), { file: "/s/main.yaml", readFile });
  hasIssue(list, "/steps", /has more than 200 steps once includes are expanded/);
});

// ---------------------------------------------------------------------------------------------
// catalog and effects

const ANY = { type: "object" };

function catalog(): EventCatalog {
  const real = precompiledCatalog();
  const extra = new MemoryCatalog([
    { entry: entry("test.ping", "command", { reply: "test.ping.result@1" }), schema: { type: "object", required: ["n"], properties: { n: { type: "integer" } }, additionalProperties: false } },
    { entry: entry("test.ping.result", "reply"), schema: ANY },
    { entry: entry("test.event"), schema: { type: "object", required: ["n"], properties: { n: { type: "integer" }, m: { type: "integer", default: 2 } } } },
    { entry: entry("test.event", "event", { version: 2 }), schema: ANY },
  ]);
  return { get: (f, v) => extra.get(f, v) ?? real.get(f, v), list: () => [...real.list(), ...extra.list()], validateEnvelope: real.validateEnvelope };
}

test("catalog: known events, commands and literal payloads load", () => {
  const s = parseScenario(withSteps(`
    - { name: a, call: { command: test.ping, payload: { n: 1 } } }
    - { name: b, publish: { event: "test.event@2", payload: { anything: true } } }
    - { name: c, publish: { event: test.event, payload: { n: 3 } } }
    - { name: d, wait: { event: test.event } }
    - { name: e, say: { text: hi, lang: en } }
    - { name: f, notify: { text: hi, level: warning } }
  `, "triggers: [{ event: test.event }, { event: 'system.boot.completed@1' }]"), { catalog: catalog() });
  // The validators fill defaults in; the loaded payload stays as written.
  assert.deepEqual(s.steps[2]?.action, { kind: "publish", event: "test.event", version: 1, payload: { n: 3 } });
});

test("catalog: unknown events, wrong kinds and invalid literal payloads", () => {
  const list = issues(withSteps(`
    - { name: a, call: { command: test.event, payload: { n: 1 } } }
    - { name: b, publish: { event: test.ping, payload: { n: 1 } } }
    - { name: c, publish: { event: no.such } }
    - { name: d, call: { command: "test.ping@2" } }
    - { name: e, wait: { event: no.such } }
    - { name: f, wait: { event: "test.event@3" } }
    - { name: g, call: { command: test.ping, payload: { n: "one", extra: 1 } } }
    - { name: h, call: { command: test.ping, payload: { n: "\${ctx.n}" } } }
    - { name: i, say: { text: hi, lang: "not a language" } }
    - { name: j, notify: "" }
    - { name: k, publish: { event: test.event, payload: {} }, compensate: { call: { command: test.ping } } }
  `, "triggers: [{ event: no.such }, { event: 'test.event@9' }, { event: test.ping.result }]"), { catalog: catalog() });
  hasIssue(list, "/triggers/0/event", /unknown event no\.such: the event catalog does not have it/);
  hasIssue(list, "/triggers/1/event", /unknown event test\.event@9/);
  hasIssue(list, "/steps/0/call/command", /test\.event@1 is an event, not a command/);
  hasIssue(list, "/steps/1/publish/event", /test\.ping@1 is a command, not an event \(send a command with call\)/);
  hasIssue(list, "/steps/2/publish/event", /unknown event no\.such@1/);
  hasIssue(list, "/steps/3/call/command", /unknown command test\.ping@2/);
  hasIssue(list, "/steps/4/wait/event", /unknown event no\.such:/);
  hasIssue(list, "/steps/5/wait/event", /unknown event test\.event@3/);
  hasIssue(list, "/steps/6/call/payload/n", /must be integer \(payload of test\.ping@1\)/);
  hasIssue(list, "/steps/6/call/payload/extra", /is not allowed \(unknown property\) \(payload of test\.ping@1\)/);
  hasIssue(list, "/steps/8/say/lang", /must match pattern .* \(payload of ui\.say@1\)/);
  hasIssue(list, "/steps/9/notify", /must NOT have fewer than 1 characters/);
  hasIssue(list, "/steps/10/publish/payload/n", /is required \(payload of test\.event@1\)/);
  hasIssue(list, "/steps/10/compensate/call/payload/n", /is required \(payload of test\.ping@1\)/);
  assert.ok(!list.some((i) => i.pointer.startsWith("/steps/7/")), "a payload with a template is checked when it runs, not now");
  assert.ok(!list.some((i) => i.pointer === "/triggers/2/event"), "a trigger may listen to any registered kind");
});

test("catalog: say and notify need ui.say@1 and ui.notify@1", () => {
  const bare = new MemoryCatalog([]);
  const list = issues(withSteps("- { name: a, say: hi }\n- { name: b, notify: hi }"), { catalog: bare });
  assert.deepEqual(list, [
    { pointer: "/steps/0/say", message: "say needs ui.say@1, which the event catalog does not have" },
    { pointer: "/steps/1/notify", message: "notify needs ui.notify@1, which the event catalog does not have" },
  ]);
});

test("without a catalog, event names are only checked for their form", () => {
  assert.equal(steps(withSteps("- { name: a, publish: { event: no.such } }")).length, 1);
  hasIssue(issues(withSteps("- { name: a, publish: { event: NoDots } }")), "/steps/0/publish/event", /must match pattern/);
  hasIssue(issues(withSteps("- { name: a, publish: { event: 'a.b@0' } }")), "/steps/0/publish/event", /must match pattern/);
});

test("effects: every published event must be declared, compensations included", () => {
  const list = issues(withSteps(`
    - { name: a, say: hi }
    - { name: b, notify: hi }
    - { name: c, publish: { event: "test.event@2" } }
    - { name: d, call: { command: test.ping, payload: { n: 1 } }, compensate: { publish: { event: test.undo } } }
    - { name: e, publish: { event: test.event } }
  `, "effects: [ui.say, { publish: test.event }]"));
  assert.deepEqual(list, [
    { pointer: "/steps/1/notify", message: "publishes ui.notify@1, which effects does not declare" },
    { pointer: "/steps/2/publish", message: "publishes test.event@2, which effects does not declare" },
    { pointer: "/steps/3/compensate/publish", message: "publishes test.undo@1, which effects does not declare" },
  ]);
  // Without `effects` nothing is required.
  assert.equal(steps(withSteps("- { name: a, say: hi }")).length, 1);
});

test("effects: with a catalog, a declared effect must be a registered event", () => {
  const list = issues(withSteps("- { name: a, sleep: 0 }", "effects: [no.such, { publish: test.ping }]"), { catalog: catalog() });
  hasIssue(list, "/effects/0", /unknown event no\.such@1/);
  hasIssue(list, "/effects/1/publish", /test\.ping@1 is a command, not an event/);
});

// ---------------------------------------------------------------------------------------------
// reporting

test("one pass reports every problem, sorted, and the message has one line per issue", () => {
  let error: ScenarioInvalidError | undefined;
  try {
    parseScenario(withSteps(`
      - { name: a, sleep: 1s }
      - { name: a, sleep: 5x }
      - { name: c, say: hi, notify: hi }
      - { name: d, sleep: 0, retries: { max: 99 } }
      - { name: e, sleep: 0 }
      - { name: f, sleep: 0 }
      - { name: g, sleep: 0 }
      - { name: h, sleep: 0 }
      - { name: i, sleep: 0 }
      - { name: j, sleep: 0 }
      - { name: k, sleep: 0, when: "==" }
    `, "timeout: 30h\ntriggers: [{ cron: nope }]"), { file: "scenarios/x.yaml" });
  } catch (err) {
    if (err instanceof ScenarioInvalidError) error = err;
  }
  assert.ok(error !== undefined);
  const pointers = error.issues.map((i) => i.pointer);
  assert.deepEqual(pointers, ["/steps/1/name", "/steps/1/sleep", "/steps/2", "/steps/3/retries/max", "/steps/10/when", "/timeout", "/triggers/0/cron"]);
  const lines = error.message.split("\n");
  assert.equal(lines[0], "scenarios/x.yaml: invalid scenario (7 problems)");
  assert.deepEqual(lines.slice(1), error.issues.map((i) => `${i.pointer} ${i.message}`));
  assert.deepEqual(error.toWire().issues, error.issues);
});

test("loadScenarioFile: sets the absolute file, resolves includes next to it, names a missing file", (t) => {
  const dir = mkdtempSync(join(tmpdir(), "adaos-load-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, "main.yaml"), withSteps("- include: part.yaml#x"));
  writeFileSync(join(dir, "part.yaml"), "x: [{ name: a, say: hi }]\n");
  const s = loadScenarioFile(join(dir, "main.yaml"));
  assert.equal(s.file, join(dir, "main.yaml"));
  assert.deepEqual(s.steps.map((x) => x.name), ["a"]);
  assert.throws(() => loadScenarioFile(join(dir, "none.yaml")), (e: unknown) => {
    assert.ok(e instanceof ScenarioInvalidError);
    assert.deepEqual(e.issues, [{ pointer: "/", message: `cannot read ${join(dir, "none.yaml")}: no such file` }]);
    return true;
  });
  const viaReader = loadScenarioFile("/m/main.yaml", { readFile: memoryFiles({ "/m/main.yaml": withSteps("- { name: a, sleep: 0 }") }) });
  assert.equal(viaReader.file, "/m/main.yaml");
});

// ---------------------------------------------------------------------------------------------
// the schema itself

test("the schema: every property has a title and a description (its own or its definition's)", () => {
  const defs = schema.$defs as Record<string, Record<string, unknown>>;
  const missing: string[] = [];
  const visit = (node: unknown, at: string): void => {
    if (typeof node !== "object" || node === null) return;
    for (const [key, value] of Object.entries(node)) {
      if (key === "properties" && typeof value === "object" && value !== null) {
        for (const [name, prop] of Object.entries(value as Record<string, Record<string, unknown>>)) {
          const ref = typeof prop.$ref === "string" ? defs[prop.$ref.replace("#/$defs/", "")] : undefined;
          for (const k of ["title", "description"]) if (prop[k] === undefined && ref?.[k] === undefined) missing.push(`${at}/properties/${name}: no ${k}`);
        }
      }
      visit(value, `${at}/${key}`);
    }
  };
  visit(schema, "#");
  assert.deepEqual(missing, []);
  assert.ok(Object.keys(defs).length > 20, "the walk saw the definitions");
});
