import { strict as assert } from "node:assert";
import { appendFile, readFile, rm, writeFile } from "node:fs/promises";
import * as path from "node:path";
import { test } from "node:test";
import { RegistryInvalidError } from "../core/errors.js";
import { ERRORS_DOC, EVENTS_DOCS, generate, staleFiles, writeGeneration } from "./codegen.js";
import { DOCS_MARKER } from "./docs.js";
import { REPO_ROOT, tempRepo } from "./test-support.js";

test("the checked-in generated files are up to date", async () => {
  const gen = await generate({ cwd: REPO_ROOT });
  const stale = await staleFiles(gen);
  assert.deepEqual(stale.map((f) => path.relative(REPO_ROOT, f)), [], "run `npm run codegen`");
});

test("generation is deterministic and lists every output", async () => {
  const a = await generate({ cwd: REPO_ROOT });
  const b = await generate({ cwd: REPO_ROOT });
  assert.deepEqual(a, b);
  const rel = a.files.map((f) => path.relative(REPO_ROOT, f.path).split(path.sep).join("/"));
  for (const f of ["abi/events/_dist/registry.json", "abi/events/_dist/validators.ts", "agent/config/schema.validator.ts", "docs/errors.md", "docs/events/README.md", "docs/events/ui.say.v1.md"]) {
    assert.ok(rel.includes(f), `${f} is generated`);
  }
  for (const f of a.files) assert.doesNotMatch(f.content, /\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z.*generated/i, "no build timestamps");
});

test("--check finds a changed file, a missing file and an obsolete page", async (t) => {
  const repo = await tempRepo(t);
  assert.deepEqual(await staleFiles(await generate({ cwd: repo })), [], "a fresh copy is up to date");

  await appendFile(path.join(repo, "abi/events/_dist/validators.ts"), "// hand edit\n");
  await rm(path.join(repo, EVENTS_DOCS, "ui.say.v1.md"));
  await writeFile(path.join(repo, EVENTS_DOCS, "ui.shout.v1.md"), `${DOCS_MARKER}\n# ui.shout v1\n`);
  await writeFile(path.join(repo, EVENTS_DOCS, "notes.md"), "# hand-written, not generated\n");

  const gen = await generate({ cwd: repo });
  const stale = (await staleFiles(gen)).map((f) => path.relative(repo, f).split(path.sep).join("/")).sort();
  assert.deepEqual(stale, ["abi/events/_dist/validators.ts", "docs/events/ui.say.v1.md", "docs/events/ui.shout.v1.md"]);

  const { written, removed } = await writeGeneration(gen);
  assert.equal(written.length, 2);
  assert.equal(removed.length, 1);
  assert.deepEqual(await staleFiles(await generate({ cwd: repo })), []);
  assert.equal(await readFile(path.join(repo, EVENTS_DOCS, "notes.md"), "utf8"), "# hand-written, not generated\n", "hand-written pages are kept");
});

test("a change in a schema makes the generated files stale", async (t) => {
  const repo = await tempRepo(t);
  const file = path.join(repo, "abi/events/ui/say/v1/schema.json");
  const schema = JSON.parse(await readFile(file, "utf8")) as { properties: { text: { maxLength: number } } };
  schema.properties.text.maxLength = 500;
  await writeFile(file, JSON.stringify(schema, null, 2));
  const stale = (await staleFiles(await generate({ cwd: repo }))).map((f) => path.relative(repo, f).split(path.sep).join("/")).sort();
  assert.deepEqual(stale, ["abi/events/_dist/registry.json", "abi/events/_dist/validators.ts", "docs/events/ui.say.v1.md"]);
});

test("generation refuses a registry with errors", async (t) => {
  const repo = await tempRepo(t);
  await rm(path.join(repo, "abi/events/ui/say/v1/schema.json"));
  await assert.rejects(generate({ cwd: repo }), RegistryInvalidError);
});

test("docs/errors.md lists every code of abi/errors.json", async () => {
  const catalog = JSON.parse(await readFile(path.join(REPO_ROOT, "abi/errors.json"), "utf8")) as { errors: { code: string; name: string; http_status: number }[] };
  const doc = await readFile(path.join(REPO_ROOT, ERRORS_DOC), "utf8");
  assert.match(doc, /^\| code \| name \| HTTP status \| summary \|$/m);
  for (const e of catalog.errors) assert.match(doc, new RegExp(`^\\| \`${e.code}\` \\| ${e.name} \\| ${e.http_status} \\|`, "m"));
});

test("the generated config validator fills defaults and reports errors", async () => {
  const { validateConfig } = await import("../config/schema.validator.js");
  const config: Record<string, unknown> = {};
  assert.equal(validateConfig(config), true);
  assert.equal(config.role, "hub");
  assert.deepEqual((config.api as Record<string, unknown>).host, "127.0.0.1");
  assert.equal(validateConfig({ role: "root", api: { port: "x" } }), false);
  const paths = (validateConfig.errors ?? []).map((e) => e.instancePath).sort();
  assert.deepEqual(paths, ["/api/port", "/role"]);
});
