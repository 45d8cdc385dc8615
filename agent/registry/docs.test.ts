import { strict as assert } from "node:assert";
import { readFile, writeFile } from "node:fs/promises";
import * as path from "node:path";
import { test } from "node:test";
import { fieldRows, typeText } from "./docs-fields.js";
import { DOCS_MARKER, pageName, renderDocs } from "./docs.js";
import { compileRegistry } from "./source.js";
import { REGISTRY_ROOT, REPO_ROOT, tempRepo } from "./test-support.js";

test("a page per event plus an index that links every page", async () => {
  const compiled = await compileRegistry(REGISTRY_ROOT);
  const pages = await renderDocs(compiled, path.join(REPO_ROOT, "docs/events"));
  assert.equal(pages.size, compiled.entries.length + 1);
  const index = pages.get("README.md") ?? "";
  for (const { entry } of compiled.entries) {
    const name = pageName(entry);
    const page = pages.get(name) ?? "";
    assert.notEqual(page, "", name);
    assert.ok(page.startsWith(DOCS_MARKER));
    assert.match(page, new RegExp(`^# ${entry.fqdn.replace(/\./g, "\\.")} v${entry.version}$`, "m"));
    assert.match(page, /^\| field \| type \| required \| default \| description \|$/m);
    assert.match(page, /^## Example\n\n```json\n\{/m);
    assert.ok(page.includes(`(../../abi/events/${entry.schema})`), "links the schema");
    assert.ok(index.includes(`](${name})`), `index links ${name}`);
  }
  const command = pages.get("scenario.run.v1.md") ?? "";
  assert.match(command, /\| reply \| \[scenario\.run\.result v1\]\(scenario\.run\.result\.v1\.md\) \|/);
  assert.match(command, /\| `priority` \| integer \(0\.\.5\) \| no \| `3` \|/);
});

test("deprecated entries carry a warning in the docs", async (t) => {
  const repo = await tempRepo(t);
  const yamlFile = path.join(repo, "abi/events/registry.yaml");
  const yaml = await readFile(yamlFile, "utf8");
  const at = yaml.indexOf('fqdn: "ui.say"');
  await writeFile(yamlFile, yaml.slice(0, at) + yaml.slice(at).replace('status: "stable"', 'status: "deprecated"'));
  const pages = await renderDocs(await compileRegistry(path.join(repo, "abi/events")), path.join(repo, "docs/events"));
  assert.match(pages.get("ui.say.v1.md") ?? "", /^> \*\*Deprecated\.\*\*/m);
  assert.match(pages.get("README.md") ?? "", /\| \[ui\.say\]\(ui\.say\.v1\.md\) \| 1 \| event \| \*\*deprecated\*\* \|/);
});

test("field rows describe types, constraints, nesting and defaults", () => {
  const schema = {
    type: "object",
    required: ["a"],
    properties: {
      a: { type: "string", minLength: 1, maxLength: 5, pattern: "^x|y$", description: "A | B" },
      b: { type: "object", properties: { c: { type: "integer", minimum: 0 } } },
      d: { enum: ["x", "y"], default: "x" },
      e: { type: "array", items: { type: "string" }, maxItems: 3 },
      f: { type: ["string", "null"] },
    },
  };
  const rows = fieldRows(schema);
  assert.deepEqual(rows.map((r) => r.name), ["a", "b", "b.c", "d", "e", "f"]);
  assert.equal(rows[0]?.type, "string (1..5 chars, pattern `^x|y$`)");
  assert.equal(rows[0]?.required, true);
  assert.equal(rows[2]?.type, "integer (≥ 0)");
  assert.equal(rows[3]?.default, '"x"');
  assert.equal(rows[4]?.type, "array of string (≤ 3 items)");
  assert.equal(typeText({ type: ["string", "null"] }), "string or null");
});
