import { strict as assert } from "node:assert";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test, type TestContext } from "node:test";
import type { Envelope } from "../../abi/envelope.js";
import { createEnvelope } from "../core/envelope.js";
import { ConfigInvalidError, ConfigReadError } from "../core/errors.js";
import {
  DEFAULT_ROUTE_RULES, MAX_RULES_BYTES, loadRouteRules, parseRouteRules, pickRule, type IoType, type LoadedRouteRules, type RouteRule,
} from "./route-rules.js";

function tempDir(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), "adaos-route-rules-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const notify = (payload: Record<string, unknown>): Envelope => createEnvelope({ event_name: "ui.notify", version: 1, payload, source: "skill://weather" });
const say = (payload: Record<string, unknown>): Envelope => createEnvelope({ event_name: "ui.say", version: 1, payload, source: "skill://weather" });

/** The node a rule set sends `env` to (undefined: no rule decides). */
function nodeFor(rules: LoadedRouteRules, env: Envelope, ioType: IoType): string | undefined {
  return pickRule(rules, env, ioType)?.target.node_id;
}

function invalid(yaml: string): ConfigInvalidError {
  try {
    parseRouteRules(yaml, "route_rules.yaml");
  } catch (err) {
    assert.ok(err instanceof ConfigInvalidError, `expected ConfigInvalidError, got ${String(err)}`);
    return err;
  }
  assert.fail("the rules were accepted");
}

const pointers = (err: ConfigInvalidError): string[] => err.issues.map((i) => i.pointer);

test("minimal form: one rule, stdout is the console, kind optional, priority 50 by default", () => {
  const r = parseRouteRules('node_id: "this"\nkind: "io_type"\nio_type: "stdout"\n', "f.yaml");
  assert.deepEqual(r.rules, [{ match: {}, target: { node_id: "this", io_type: "console" }, priority: 50 }]);
  assert.equal(r.source, "f.yaml");
  assert.deepEqual(r.skipped, []);

  const noKind = parseRouteRules("node_id: kitchen\nio_type: say\npriority: 7\n", "f.yaml");
  assert.deepEqual(noKind.rules, [{ match: {}, target: { node_id: "kitchen", io_type: "say" }, priority: 7 }]);
});

test("verbose form: rules sorted by priority, highest first, file order among equals; the result is frozen", () => {
  const r = parseRouteRules(
    [
      "version: 1",
      "rules:",
      "  - target: { node_id: a, kind: io_type, io_type: stdout }",
      "    priority: 10",
      "  - match: { level: error }",
      "    target: { node_id: b, io_type: console }",
      "    priority: 90",
      "  - target: { node_id: c, io_type: say }",
      "    priority: 10",
      "  - match: {}",
      "    target: { node_id: d, io_type: console }",
    ].join("\n"),
    "f.yaml",
  );
  assert.deepEqual(
    r.rules.map((x) => [x.target.node_id, x.priority]),
    [["b", 90], ["d", 50], ["a", 10], ["c", 10]],
  );
  assert.deepEqual(r.rules[0]?.match, { level: "error" });
  assert.ok(Object.isFrozen(r) && Object.isFrozen(r.rules) && Object.isFrozen(r.rules[0]?.match));
  assert.throws(() => (r.rules as RouteRule[]).push(r.rules[0] as RouteRule), TypeError);

  const noVersion = parseRouteRules("rules:\n  - target: { node_id: x, io_type: say }\n", "f.yaml");
  assert.equal(noVersion.rules.length, 1, "version may be left out when rules are given");
  assert.deepEqual(parseRouteRules("version: 1\nrules: []\n", "f.yaml").rules, []);
});

test("defaults: no path or a missing file → everything to this node's console and TTS", (t) => {
  const dir = tempDir(t);
  for (const r of [loadRouteRules(null), loadRouteRules(join(dir, "route_rules.yaml"))]) {
    assert.equal(r.source, null);
    assert.deepEqual(r.rules, DEFAULT_ROUTE_RULES.rules);
    assert.equal(nodeFor(r, notify({ text: "hi", level: "error" }), "console"), "this");
    assert.equal(nodeFor(r, say({ text: "hi" }), "say"), "this");
  }
});

test("loadRouteRules reads the file; a directory is ConfigReadError", (t) => {
  const dir = tempDir(t);
  const path = join(dir, "route_rules.yaml");
  writeFileSync(path, "node_id: kitchen\nio_type: stdout\n");
  const r = loadRouteRules(path);
  assert.equal(r.source, path);
  assert.equal(nodeFor(r, notify({ text: "hi" }), "console"), "kitchen");
  assert.equal(nodeFor(r, say({ text: "hi" }), "say"), undefined, "no say rule: nothing decides (the router uses this node)");

  const sub = join(dir, "sub");
  mkdirSync(sub);
  assert.throws(() => loadRouteRules(sub), (err: unknown) => err instanceof ConfigReadError && err.message.includes("not a file"));
});

test("pickRule: only rules of the event's io_type; the first whose match holds wins", () => {
  const r = parseRouteRules(
    [
      "rules:",
      "  - { match: { level: error }, target: { node_id: alarm, io_type: console }, priority: 90 }",
      "  - { match: { level: error }, target: { node_id: speaker, io_type: say }, priority: 90 }",
      "  - { target: { node_id: screen, io_type: stdout }, priority: 10 }",
    ].join("\n"),
    "f.yaml",
  );
  assert.equal(nodeFor(r, notify({ text: "x", level: "error" }), "console"), "alarm");
  assert.equal(nodeFor(r, notify({ text: "x", level: "info" }), "console"), "screen");
  assert.equal(nodeFor(r, notify({ text: "x" }), "say"), undefined, "level error never holds for a say without level");
  assert.equal(nodeFor(r, say({ text: "x" }), "say"), undefined);
});

test("match keys: event (exact and pattern), level (absent = info), origin, target, text_contains, when; all given must hold", () => {
  const rules = (match: string): LoadedRouteRules => parseRouteRules(`rules:\n  - { match: ${match}, target: { node_id: n, io_type: console } }\n`, "f.yaml");
  const holds = (match: string, env: Envelope): boolean => nodeFor(rules(match), env, "console") === "n";
  const base = notify({ text: "Door OPEN in the hall", origin: "security", level: "warning" });
  // With payload.target only rules that match on target decide (see the test below).
  const targeted = notify({ ...base.payload, target: "hall" });

  assert.ok(holds("{}", notify({ text: "x" })));
  assert.ok(holds("{ event: ui.notify }", notify({ text: "x" })));
  assert.ok(holds("{ event: 'ui.*' }", notify({ text: "x" })));
  assert.ok(holds("{ event: 'ui.>' }", notify({ text: "x" })));
  assert.ok(!holds("{ event: ui.say }", notify({ text: "x" })));
  assert.ok(!holds("{ event: 'sys.*' }", notify({ text: "x" })));

  assert.ok(holds("{ level: info }", notify({ text: "x" })), "a notification without level is info");
  assert.ok(holds("{ level: warning }", base));
  assert.ok(!holds("{ level: error }", base));

  assert.ok(holds("{ origin: security }", base));
  assert.ok(!holds("{ origin: weather }", base));
  assert.ok(!holds("{ origin: security }", notify({ text: "x" })));

  assert.ok(holds("{ target: hall }", targeted));
  assert.ok(!holds("{ target: kitchen }", targeted));
  assert.ok(!holds("{ target: hall }", base));

  assert.ok(holds("{ text_contains: 'door open' }", base), "case does not matter");
  assert.ok(!holds("{ text_contains: window }", base));

  assert.ok(holds(`{ when: '$.payload.level == "warning" && "hall" in $.payload.text' }`, base));
  assert.ok(!holds(`{ when: '$.payload.level == "error"' }`, base));
  assert.ok(!holds("{ when: '$.payload.level' }", base), "a value that is not true does not hold");

  assert.ok(holds("{ event: 'ui.*', level: warning, origin: security, target: hall, text_contains: door, when: '$.payload.text.length > 3' }", targeted));
  assert.ok(!holds("{ event: 'ui.*', level: warning, origin: security, target: hall, text_contains: cat }", targeted), "one key that fails is enough");
});

test("a `when` that cannot be evaluated on an envelope does not hold and is reported", () => {
  const r = parseRouteRules("rules:\n  - { match: { when: '$.payload.text * 2 > 1' }, target: { node_id: n, io_type: console } }\n", "f.yaml");
  const errors: unknown[] = [];
  assert.equal(pickRule(r, notify({ text: "abc" }), "console", (_rule, err) => errors.push(err)), undefined);
  assert.equal(errors.length, 1);
});

test("an envelope with payload.target is decided only by rules that match on target", () => {
  const r = parseRouteRules(
    [
      "rules:",
      "  - { match: { target: tv }, target: { node_id: living-room, io_type: say }, priority: 10 }",
      "  - { target: { node_id: hub, io_type: say }, priority: 99 }",
    ].join("\n"),
    "f.yaml",
  );
  assert.equal(nodeFor(r, say({ text: "x", target: "tv" }), "say"), "living-room", "a redirect of a targeted envelope");
  assert.equal(nodeFor(r, say({ text: "x", target: "kitchen" }), "say"), undefined, "the envelope's own target then wins");
  assert.equal(nodeFor(r, say({ text: "x" }), "say"), "hub");
});

test("bad YAML: ConfigInvalidError with line and column; duplicate keys and unknown tags too", () => {
  const syntax = invalid("rules:\n  - target: { node_id: a\n");
  assert.equal(syntax.code, "E_CONFIG_INVALID");
  assert.deepEqual([...new Set(pointers(syntax))], ["/"]);
  assert.match(syntax.message, /^route_rules\.yaml: invalid route rules \(\d+ problems?\)\n\/ YAML syntax error at line \d+, column \d+/);

  assert.match(invalid("node_id: a\nnode_id: b\nio_type: say\n").message, /Map keys must be unique/);
  assert.match(invalid("node_id: !secret a\nio_type: say\n").message, /\/ YAML problem at line 1/);
  const aliases = ["a: &a [x, x, x, x]", ...Array.from({ length: 40 }, (_, i) => `k${i}: *a`)].join("\n");
  assert.match(invalid(aliases).message, /at most 32 aliases/);
});

test("bad shape: every problem with its pointer, one 'pointer message' line each", () => {
  const err = invalid(
    [
      "version: 1",
      "rules:",
      "  - target: { io_type: stdout }",
      "  - match: { colour: red }",
      "    target: { node_id: a, io_type: stdout }",
      "  - target: { node_id: Not-An-Id, io_type: stdout }",
      "    priority: high",
      "  - target: { node_id: a, io_type: stdout, kind: socket }",
      "  - match: { level: loud, when: '$.payload.(' , event: 'ui.>.x' }",
      "    target: { node_id: a, io_type: stdout }",
    ].join("\n"),
  );
  const want = [
    "/rules/0/target/node_id",
    "/rules/1/match/colour",
    "/rules/2/target/node_id",
    "/rules/2/priority",
    "/rules/3/target/kind",
    "/rules/4/match/level",
  ];
  for (const p of want) assert.ok(pointers(err).includes(p), `${p} in ${pointers(err).join(", ")}`);
  assert.ok(err.message.split("\n").slice(1).every((line) => /^\/\S* \S/.test(line)), err.message);
  assert.match(err.message, /\n\/rules\/1\/match\/colour is not allowed/);

  // Once the shape is right, the loader's own checks: the expression and the event pattern.
  const own = invalid("rules:\n  - match: { when: '$.payload.(', event: 'ui.>.x' }\n    target: { node_id: a, io_type: stdout }\n");
  assert.deepEqual(pointers(own).sort(), ["/rules/0/match/event", "/rules/0/match/when"]);

  assert.deepEqual(pointers(invalid("version: 2\nrules: []\n")), ["/version"]);
  assert.deepEqual(pointers(invalid("node_id: a\n")), ["/io_type"], "the minimal form is tried without rules or version");
  assert.deepEqual(pointers(invalid("node_id: a\nio_type: say\nmatch: {}\n")), ["/match"], "the minimal form takes no match");
  assert.deepEqual(pointers(invalid("- a\n- b\n")), ["/"]);
  assert.deepEqual(pointers(invalid("")), ["/"], "an empty file is not a rule set");
  assert.deepEqual(pointers(invalid("node_id: a\nio_type: say\npriority: .inf\n")), ["/priority"]);
});

test("unknown io_types load and are skipped, each reported with its pointer", () => {
  const r = parseRouteRules(
    "rules:\n  - { target: { node_id: a, io_type: telegram }, priority: 99 }\n  - { target: { node_id: b, io_type: say } }\n",
    "f.yaml",
  );
  assert.deepEqual(r.rules.map((x) => x.target.node_id), ["b"]);
  assert.equal(r.skipped.length, 1);
  assert.equal(r.skipped[0]?.pointer, "/rules/0/target/io_type");
  assert.match(r.skipped[0]?.message ?? "", /"telegram" is not one the router knows .*rule skipped/);

  const minimal = parseRouteRules("node_id: a\nio_type: screen\n", "f.yaml");
  assert.deepEqual(minimal.rules, []);
  assert.equal(minimal.skipped[0]?.pointer, "/io_type");
});

test("a file over 64 KiB is refused before it is parsed", (t) => {
  const big = `# ${"x".repeat(MAX_RULES_BYTES)}\nnode_id: a\nio_type: say\n`;
  assert.match(invalid(big).message, /\n\/ the file is 65 KiB, more than the 64 KiB/);
  const path = join(tempDir(t), "route_rules.yaml");
  writeFileSync(path, big);
  assert.throws(() => loadRouteRules(path), (err: unknown) => err instanceof ConfigInvalidError && err.message.startsWith(`${path}: invalid route rules (1 problem)\n/ the file is`));
});
