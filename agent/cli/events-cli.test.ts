/** The registry commands, run in-process with a CliIo that collects lines. */
import { strict as assert } from "node:assert";
import { appendFile, readFile, readdir, rm, writeFile } from "node:fs/promises";
import * as path from "node:path";
import { test } from "node:test";
import { UsageError } from "../core/errors.js";
import { REPO_ROOT, captureIo, tempDir, tempRepo } from "../registry/test-support.js";
import { main as build } from "./events-registry-build.js";
import { main as lint } from "./events-registry-lint.js";
import { main as docs } from "./events-docs.js";
import { main as scaffold } from "./events-scaffold.js";
import { main as validate } from "./events-validate.js";

const EXAMPLE = "abi/events/nlp/intent.detected/v1/examples/basic.json";

test("lint: the shipped registry passes with a summary line", async () => {
  const io = captureIo(REPO_ROOT);
  assert.equal(await lint([], io), 0);
  assert.equal(io.lines.length, 1);
  assert.match(io.lines[0] ?? "", /^ok: abi\/events: \d+ entries, 0 error\(s\), 0 warning\(s\)$/);
});

test("lint: a broken registry prints one line per problem and exits 1", async (t) => {
  const repo = await tempRepo(t);
  await rm(path.join(repo, "abi/events/ui/say/v1/schema.json"));
  const yamlFile = path.join(repo, "abi/events/registry.yaml");
  await writeFile(yamlFile, (await readFile(yamlFile, "utf8")).replace('reply: "repo.skill.install.result@1"', 'reply: "repo.skill.install.done@1"'));
  const io = captureIo(repo);
  assert.equal(await lint(["--root", "abi/events"], io), 1);
  assert.ok(io.lines.includes("error abi/events/ui/say/v1/schema.json: schema of ui.say@1 does not exist"), io.lines.join("\n"));
  assert.ok(io.lines.some((l) => /^error abi\/events\/registry\.yaml:\d+: repo\.skill\.install@1: reply "repo\.skill\.install\.done@1" is not a registered entry$/.test(l)), io.lines.join("\n"));
  assert.match(io.lines.at(-1) ?? "", /^FAILED: abi\/events: \d+ entries, 2 error\(s\), 1 warning\(s\)$/);
});

test("lint: unknown flags are usage errors", async () => {
  await assert.rejects(lint(["--bogus"], captureIo(REPO_ROOT)), UsageError);
  await assert.rejects(lint(["extra"], captureIo(REPO_ROOT)), UsageError);
});

test("validate: an example passes through the precompiled and the source catalog", async () => {
  const io = captureIo(REPO_ROOT);
  assert.equal(await validate([EXAMPLE], io), 0);
  assert.equal(await validate([EXAMPLE, "--root", "abi/events"], io), 0);
  const ok = "ok nlp.intent.detected@1 0193f0c2-5b1a-7c3d-8e4f-0123456791ab";
  assert.deepEqual(io.lines, [ok, ok]);
});

test("validate: an invalid payload prints JSON pointers and exits 1", async (t) => {
  const dir = await tempDir(t);
  const env = JSON.parse(await readFile(path.join(REPO_ROOT, EXAMPLE), "utf8")) as { payload: Record<string, unknown> };
  env.payload.confidence = 1.5;
  delete env.payload.locale;
  const file = path.join(dir, "bad.json");
  await writeFile(file, JSON.stringify(env));
  const io = captureIo(dir);
  assert.equal(await validate(["bad.json"], io), 1);
  assert.deepEqual(io.lines.sort(), ["/payload/confidence must be <= 1", "/payload/locale is required"]);
  assert.deepEqual(io.errors, ["bad.json: PayloadInvalidError (E_PAYLOAD_INVALID)"]);
});

test("validate: malformed JSON, a missing file and an unknown event exit 1 with a clear message", async (t) => {
  const dir = await tempDir(t);
  await writeFile(path.join(dir, "broken.json"), '{"id": ');
  const env = JSON.parse(await readFile(path.join(REPO_ROOT, EXAMPLE), "utf8")) as Record<string, unknown>;
  await writeFile(path.join(dir, "unknown.json"), JSON.stringify({ ...env, version: 7 }));
  const io = captureIo(dir);
  assert.equal(await validate(["broken.json"], io), 1);
  assert.match(io.errors[0] ?? "", /^broken\.json: not valid JSON: /);
  assert.equal(await validate(["missing.json"], io), 1);
  assert.equal(io.errors[1], "missing.json: does not exist");
  assert.equal(await validate(["unknown.json"], io), 1);
  assert.deepEqual(io.lines, ["/version not in the event registry (registered versions: 1)"]);
  await assert.rejects(validate([], io), UsageError);
});

test("scaffold → lint → validate, all through the commands", async (t) => {
  const repo = await tempRepo(t);
  const io = captureIo(repo);
  assert.equal(await scaffold(["media.playback.started", "--kind", "event", "--version", "1"], io), 0);
  assert.ok(io.lines.includes("created abi/events/media/playback.started/v1/schema.json"), io.lines.join("\n"));
  assert.ok(io.lines.includes("updated abi/events/registry.yaml"));
  const lintIo = captureIo(repo);
  assert.equal(await lint([], lintIo), 0, lintIo.lines.join("\n"));
  const vIo = captureIo(repo);
  assert.equal(await validate(["abi/events/media/playback.started/v1/examples/basic.json", "--root", "abi/events"], vIo), 0);
  assert.match(vIo.lines[0] ?? "", /^ok media\.playback\.started@1 [0-9a-f-]{36}$/);

  await assert.rejects(scaffold(["media.playback.started"], io), /already registered/);
  await assert.rejects(scaffold(["media.x", "--kind", "signal"], io), /--kind must be one of event, command, reply/);
  await assert.rejects(scaffold(["media.x", "--version", "zero"], io), /--version must be an integer/);
  await assert.rejects(scaffold([], io), UsageError);
});

test("build: --check passes on a fresh copy, then lists a stale file and exits 1", async (t) => {
  const repo = await tempRepo(t);
  const io = captureIo(repo);
  assert.equal(await build(["--check"], io), 0, io.lines.join("\n") + io.errors.join("\n"));
  assert.match(io.lines[0] ?? "", /^ok: \d+ generated files are up to date$/);

  await appendFile(path.join(repo, "docs/errors.md"), "edited by hand\n");
  const stale = captureIo(repo);
  assert.equal(await build(["--check"], stale), 1);
  assert.deepEqual(stale.lines, ["stale docs/errors.md"]);
  assert.match(stale.errors[0] ?? "", /run `npm run codegen` to regenerate/);

  const write = captureIo(repo);
  assert.equal(await build([], write), 0);
  assert.deepEqual(write.lines.slice(0, 1), ["wrote docs/errors.md"]);
  assert.equal(await build(["--check"], captureIo(repo)), 0);
});

test("docs: writes the reference into --out", async (t) => {
  const out = await tempDir(t);
  const io = captureIo(REPO_ROOT);
  assert.equal(await docs(["--out", out], io), 0);
  const files = (await readdir(out)).sort();
  const events = (await readdir(path.join(REPO_ROOT, "docs", "events"))).filter((f) => f.endsWith(".v1.md") || /\.v\d+\.md$/.test(f)).length;
  assert.equal(files.length, events + 1, "one page per registered event plus the index");
  assert.ok(files.includes("README.md") && files.includes("scenario.completed.v1.md"));
  assert.match(io.lines.at(-1) ?? "", /^wrote (\d+) pages to .* \(README\.md and \d+ events\)$/);
  const page = await readFile(path.join(out, "ui.notify.v1.md"), "utf8");
  assert.ok(page.includes(`](${path.relative(out, path.join(REPO_ROOT, "abi/events")).split(path.sep).join("/")}/ui/notify/v1/schema.json)`), "schema link is relative to --out");
});
