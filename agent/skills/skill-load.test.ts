/**
 * Tests of skill-load.ts: a good skill and what the loader makes of it, every kind of problem
 * with its pointer, a bad skill skipped while the others load, duplicates, missing dirs, the
 * tool reference parser, and that examples/skills loads.
 */
import { strict as assert } from "node:assert";
import { chmodSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import type { Issue } from "../core/errors.js";
import { loadSkill, loadSkills, MAX_SKILL_FILE_BYTES, parseToolRef, problemText } from "./skill-load.js";
import { tempDir, writeSkill } from "./test-fixture.js";

const WEATHER = `
name: weather
version: 1.2.0
description: Weather lookups
tools:
  now:
    argv: ["./now.sh", "--fast"]
    timeout_ms: 5000
    description: The weather now
    input_schema:
      type: object
      properties: { city: { type: string, minLength: 1 } }
      required: [city]
      additionalProperties: false
  env:
    argv: ["env"]
`;

const EXAMPLES = fileURLToPath(new URL("../../../examples/skills", import.meta.url));

function issuesOf(dir: string): Issue[] {
  const loaded = loadSkill(dir);
  assert.equal(loaded.ok, false, "the skill loaded, but it should not have");
  return loaded.ok ? [] : [...loaded.problem.issues];
}

function hasIssue(list: readonly Issue[], pointer: string, message: RegExp): void {
  assert.ok(list.some((i) => i.pointer === pointer && message.test(i.message)), `no issue ${pointer} ${String(message)} in:\n${list.map((i) => `${i.pointer} ${i.message}`).join("\n")}`);
}

test("a skill loads: name, version, tools with argv[0] made absolute, a bare program left for PATH, the input check", (t) => {
  const root = tempDir(t);
  const dir = writeSkill(root, "weather", WEATHER, { "now.sh": "#!/bin/sh\necho '{}'\n" });
  const loaded = loadSkill(dir);
  assert.ok(loaded.ok, loaded.ok ? "" : problemText(loaded.problem));
  const { skill } = loaded;
  assert.equal(skill.name, "weather");
  assert.equal(skill.version, "1.2.0");
  assert.equal(skill.description, "Weather lookups");
  assert.equal(skill.dir, dir);
  assert.deepEqual([...skill.tools.keys()], ["now", "env"]);
  const now = skill.tools.get("now");
  assert.deepEqual(now?.argv, [join(dir, "now.sh"), "--fast"]);
  assert.equal(now?.cwd, dir);
  assert.equal(now?.timeoutMs, 5000);
  assert.equal(now?.description, "The weather now");
  assert.deepEqual(now?.checkArguments?.({ city: "Oslo" }), []);
  const refused = now?.checkArguments?.({ town: "Oslo" }) ?? [];
  assert.ok(refused.some((i) => i.pointer === "/arguments/city" && i.message === "is required"), JSON.stringify(refused));
  assert.ok(refused.some((i) => i.pointer === "/arguments/town"), JSON.stringify(refused));
  const env = skill.tools.get("env");
  assert.deepEqual(env?.argv, ["env"]);
  assert.equal(env?.timeoutMs, undefined);
  assert.equal(env?.checkArguments, undefined, "no input_schema: anything goes");
});

test("schema problems come with pointers, every one in one pass; bad keys are reported at the key", (t) => {
  const root = tempDir(t);
  const dir = writeSkill(root, "bad", `
name: bad
version: ""
colour: red
tools:
  Now:
    argv: []
  ok_tool:
    argv: ["x"]
    timeout_ms: 0
    shell: true
`);
  const issues = issuesOf(dir);
  hasIssue(issues, "/colour", /not allowed/);
  hasIssue(issues, "/version", /pattern/);
  hasIssue(issues, "/tools/Now", /is not a valid name/);
  hasIssue(issues, "/tools/Now/argv", /fewer than 1/);
  hasIssue(issues, "/tools/ok_tool/timeout_ms", />= 1/);
  hasIssue(issues, "/tools/ok_tool/shell", /not allowed/);
  assert.ok(!issues.some((i) => i.pointer === "/tools" && /property name/.test(i.message)), "no second report at the parent");
  hasIssue(issuesOf(writeSkill(root, "empty", "name: empty\nversion: 1.0.0\ntools: {}\n")), "/tools", /fewer than 1/);
  hasIssue(issuesOf(writeSkill(root, "notools", "name: notools\nversion: 1.0.0\n")), "/tools", /is required/);
});

test("YAML is untrusted input: syntax errors, duplicate keys, custom tags and oversized files are problems", (t) => {
  const root = tempDir(t);
  hasIssue(issuesOf(writeSkill(root, "syntax", "name: [unclosed\n")), "/", /YAML syntax error at line/);
  hasIssue(issuesOf(writeSkill(root, "dup", "name: dup\nname: dup\nversion: 1.0.0\ntools: {a: {argv: [x]}}\n")), "/", /YAML syntax error.*[Uu]nique|duplicate/i);
  hasIssue(issuesOf(writeSkill(root, "tag", "name: !!js/function x\nversion: 1.0.0\ntools: {a: {argv: [x]}}\n")), "/", /YAML problem|YAML syntax error/);
  hasIssue(issuesOf(writeSkill(root, "big", `name: big\n#${"x".repeat(MAX_SKILL_FILE_BYTES)}\n`)), "/", /more than the 64 KiB/);
  hasIssue(issuesOf(writeSkill(root, "list", "- a\n- b\n")), "/", /must be object/);
});

test("the loader's own checks: folder name, programs that are missing, not files or not executable, unusable input schemas", (t) => {
  const root = tempDir(t);
  const dir = writeSkill(root, "other", `
name: weather
version: 1.0.0
tools:
  a: { argv: ["./missing.sh"] }
  b: { argv: ["./plain.txt"] }
  c: { argv: ["./sub"] }
  d: { argv: ["x"], input_schema: { type: object, propertys: {} } }
  e: { argv: ["x"], input_schema: { $ref: "https://example.com/remote.json" } }
  f: { argv: ["x"], input_schema: { $schema: "http://json-schema.org/draft-07/schema#" } }
  g: { argv: ["x"], input_schema: { type: object, properties: { when: { type: string, format: date-time } } } }
`);
  writeFileSync(join(dir, "plain.txt"), "not a program");
  chmodSync(join(dir, "plain.txt"), 0o644);
  mkdirSync(join(dir, "sub"));
  const issues = issuesOf(dir);
  hasIssue(issues, "/name", /must equal the skill folder's name "other"/);
  hasIssue(issues, "/tools/a/argv/0", /no such program: .*missing\.sh/);
  hasIssue(issues, "/tools/b/argv/0", /is not executable \(chmod \+x\)/);
  hasIssue(issues, "/tools/c/argv/0", /is not a file/);
  hasIssue(issues, "/tools/d/input_schema", /is not a usable JSON Schema: .*propertys/);
  hasIssue(issues, "/tools/e/input_schema", /is not a usable JSON Schema/);
  hasIssue(issues, "/tools/f/input_schema/$schema", /must be draft 2020-12/);
  assert.ok(!issues.some((i) => i.pointer.startsWith("/tools/g")), "a format is an annotation, not a problem");
  assert.match(problemText({ dir, file: join(dir, "skill.yaml"), issues }), /skill\.yaml: invalid skill \(7 problems\)\n\/name must equal/);
});

test("loadSkills: a bad skill is reported and skipped, the others load in name order; a missing dir holds none; hidden entries and files are ignored", (t) => {
  const root = tempDir(t);
  writeSkill(root, "zeta", "name: zeta\nversion: 1.0.0\ntools: {a: {argv: [x]}}\n");
  writeSkill(root, "alpha", "name: alpha\nversion: 2.0.0\ntools: {a: {argv: [x]}}\n");
  writeSkill(root, "broken", "name: broken\n");
  mkdirSync(join(root, "nofile"));
  mkdirSync(join(root, ".git"));
  writeFileSync(join(root, "README.md"), "not a skill");
  const { skills, problems } = loadSkills([join(root, "does-not-exist"), root]);
  assert.deepEqual(skills.map((s) => s.name), ["alpha", "zeta"]);
  assert.deepEqual(problems.map((p) => p.dir), [join(root, "broken"), join(root, "nofile")]);
  hasIssue(problems[1]?.issues ?? [], "/", /no skill\.yaml in the skill folder/);
  assert.deepEqual(loadSkills([]), { skills: [], problems: [] });
});

test("loadSkills: a second skill of the same name (in a later dir) is a problem; the first stays", (t) => {
  const first = tempDir(t);
  const second = tempDir(t);
  writeSkill(first, "echo", "name: echo\nversion: 1.0.0\ntools: {a: {argv: [x]}}\n");
  writeSkill(second, "echo", "name: echo\nversion: 9.0.0\ntools: {a: {argv: [x]}}\n");
  const { skills, problems } = loadSkills([first, second]);
  assert.deepEqual(skills.map((s) => [s.name, s.version]), [["echo", "1.0.0"]]);
  assert.equal(problems.length, 1);
  hasIssue(problems[0]?.issues ?? [], "/name", new RegExp(`already loaded from ${join(first, "echo")}`));
});

test("parseToolRef: <skill>:<tool> and nothing else", () => {
  assert.deepEqual(parseToolRef("weather:now"), { skill: "weather", tool: "now" });
  assert.deepEqual(parseToolRef("my-skill_2:do_it"), { skill: "my-skill_2", tool: "do_it" });
  for (const bad of ["weather", "weather:", ":now", "Weather:now", "weather:now:x", "weather:no-w", " weather:now", ""]) assert.equal(parseToolRef(bad), undefined, bad);
});

test("examples/skills loads without problems", () => {
  const { skills, problems } = loadSkills([EXAMPLES]);
  assert.deepEqual(problems.map(problemText), []);
  assert.deepEqual(skills.map((s) => s.name), ["echo"]);
});
