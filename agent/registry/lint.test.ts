import { strict as assert } from "node:assert";
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import * as path from "node:path";
import { test, type TestContext } from "node:test";
import { lintRegistry, type LintReport } from "./lint.js";
import type { Problem } from "./problems.js";
import { REGISTRY_ROOT, tempRepo } from "./test-support.js";

/** Lint a temporary copy of the shipped registry after `mutate` has broken it. */
async function lintBroken(t: TestContext, mutate: (root: string) => Promise<void>): Promise<LintReport> {
  const root = path.join(await tempRepo(t), "abi/events");
  await mutate(root);
  return lintRegistry(root);
}

async function editText(file: string, edit: (text: string) => string): Promise<void> {
  const before = await readFile(file, "utf8");
  const after = edit(before);
  assert.notEqual(after, before, `the edit of ${file} changed nothing`);
  await writeFile(file, after);
}

async function editJson(file: string, edit: (value: Record<string, unknown>) => void): Promise<void> {
  const value = JSON.parse(await readFile(file, "utf8")) as Record<string, unknown>;
  edit(value);
  await writeFile(file, JSON.stringify(value, null, 2));
}

function expectProblem(report: LintReport, level: Problem["level"], where: RegExp, message: RegExp): void {
  const found = report.problems.some((p) => p.level === level && where.test(p.where) && message.test(p.message));
  assert.ok(found, `expected ${level} at ${where} matching ${message}; got:\n${report.problems.map((p) => `${p.level} ${p.where}: ${p.message}`).join("\n")}`);
}

const registryYaml = (root: string) => path.join(root, "registry.yaml");

test("the shipped registry lints clean: no errors and no warnings", async () => {
  const report = await lintRegistry(REGISTRY_ROOT);
  assert.deepEqual(report.problems, []);
  assert.ok(report.entries >= 11, `the seed's starter set and more: ${report.entries} entries`);
});

test("a missing schema file is an error", async (t) => {
  const report = await lintBroken(t, (root) => rm(path.join(root, "ui/say/v1/schema.json")));
  expectProblem(report, "error", /^ui\/say\/v1\/schema\.json$/, /does not exist/);
});

test("a schema that does not compile is an error", async (t) => {
  const report = await lintBroken(t, (root) =>
    editJson(path.join(root, "timer/tick/v1/schema.json"), (s) => {
      (s.properties as Record<string, Record<string, unknown>>).seq = { type: "int" };
    }),
  );
  expectProblem(report, "error", /^timer\/tick\/v1\/schema\.json$/, /does not compile/);
});

test("an example whose payload is invalid is an error with a pointer", async (t) => {
  const report = await lintBroken(t, (root) =>
    editJson(path.join(root, "ui/notify/v1/examples/basic.json"), (e) => {
      (e.payload as Record<string, unknown>).level = "loud";
    }),
  );
  expectProblem(report, "error", /^ui\/notify\/v1\/examples\/basic\.json$/, /^\/payload\/level must be one of/);
});

test("an example of another event or kind is an error", async (t) => {
  const report = await lintBroken(t, (root) =>
    editJson(path.join(root, "ui/say/v1/examples/basic.json"), (e) => {
      e.kind = "command";
    }),
  );
  expectProblem(report, "error", /^ui\/say\/v1\/examples\/basic\.json$/, /\/kind must be "event"/);
});

test("a duplicate fqdn@version is an error pointing at both lines", async (t) => {
  const report = await lintBroken(t, (root) =>
    editText(registryYaml(root), (y) => {
      const start = y.indexOf('  - fqdn: "ui.say"');
      return `${y}\n${y.slice(start)}`;
    }),
  );
  expectProblem(report, "error", /^registry\.yaml:\d+$/, /duplicate entry ui\.say@1; first defined at registry\.yaml:\d+/);
});

test("a reply reference to nothing, or to a non-reply, is an error", async (t) => {
  const missing = await lintBroken(t, (root) => editText(registryYaml(root), (y) => y.replace('reply: "scenario.run.result@1"', 'reply: "scenario.run.result@2"')));
  expectProblem(missing, "error", /^registry\.yaml:\d+$/, /reply "scenario\.run\.result@2" is not a registered entry \(registered versions: 1\)/);
  const wrongKind = await lintBroken(t, (root) => editText(registryYaml(root), (y) => y.replace('reply: "scenario.run.result@1"', 'reply: "scenario.completed@1"')));
  expectProblem(wrongKind, "error", /^registry\.yaml:\d+$/, /must have kind "reply", not "event"/);
});

test("YAML syntax errors carry the line number", async (t) => {
  const report = await lintBroken(t, (root) => editText(registryYaml(root), (y) => y.replace('    version: 1\n    kind: "event"', '    version: 1\n   kind: [')));
  expectProblem(report, "error", /^registry\.yaml:\d+$/, /^YAML: /);
});

test("entry shape: bad fqdn characters, unknown keys and bad enums are errors", async (t) => {
  const report = await lintBroken(t, (root) =>
    editText(registryYaml(root), (y) =>
      y.replace('fqdn: "timer.tick"', 'fqdn: "Timer.tick"').replace('status: "stable"', 'status: "final"').replace('    kind: "event"\n', '    kind: "event"\n    colour: "red"\n'),
    ),
  );
  expectProblem(report, "error", /^registry\.yaml:\d+$/, /fqdn "Timer\.tick" must be lower case/);
  expectProblem(report, "error", /^registry\.yaml:\d+$/, /status must be one of "draft", "stable", "deprecated"/);
  expectProblem(report, "error", /^registry\.yaml:\d+$/, /colour is not allowed/);
});

test("schema path convention, $id and x-version are checked", async (t) => {
  const report = await lintBroken(t, async (root) => {
    await editJson(path.join(root, "ui/say/v1/schema.json"), (s) => {
      s.$id = "ui.speak.v1";
      s["x-version"] = "2.0.0";
    });
    await editText(registryYaml(root), (y) => y.replace('schema: "ui/notify/v1/schema.json"', 'schema: "ui/notify/v1/../v1/schema.json"'));
  });
  expectProblem(report, "error", /^ui\/say\/v1\/schema\.json$/, /\$id must be "ui\.say\.v1"/);
  expectProblem(report, "error", /^ui\/say\/v1\/schema\.json$/, /x-version "2\.0\.0" has major 2 but the entry is version 1/);
  expectProblem(report, "error", /^registry\.yaml:\d+$/, /schema must be "ui\/notify\/v1\/schema\.json"/);
});

test("fixtures: a failing valid one and a passing invalid one are errors", async (t) => {
  const report = await lintBroken(t, async (root) => {
    await writeFile(path.join(root, "ui/say/v1/fixtures/valid/broken.json"), JSON.stringify({ voice: "irina" }));
    await writeFile(path.join(root, "ui/say/v1/fixtures/invalid/passes.json"), JSON.stringify({ text: "fine" }));
  });
  expectProblem(report, "error", /fixtures\/valid\/broken\.json$/, /valid fixture fails: \/text is required/);
  expectProblem(report, "error", /fixtures\/invalid\/passes\.json$/, /invalid fixture passes the schema/);
});

test("orphan folders and stray files are reported", async (t) => {
  const report = await lintBroken(t, async (root) => {
    await mkdir(path.join(root, "media/played/v1"), { recursive: true });
    await writeFile(path.join(root, "media/played/v1/schema.json"), "{}");
    await writeFile(path.join(root, "ui/say/v1/notes.txt"), "hi");
  });
  expectProblem(report, "error", /^media\/played\/v1$/, /not referenced by any registry entry/);
  expectProblem(report, "warning", /^ui\/say\/v1\/notes\.txt$/, /unexpected/);
});

test("deprecated entries and naming conventions are warnings, not errors", async (t) => {
  const report = await lintBroken(t, (root) =>
    editText(registryYaml(root), (y) => {
      const i = y.indexOf('fqdn: "ui.say"');
      return y.slice(0, i) + y.slice(i).replace('status: "stable"', 'status: "deprecated"');
    }),
  );
  assert.equal(report.errors, 0, JSON.stringify(report.problems));
  expectProblem(report, "warning", /^registry\.yaml:\d+$/, /ui\.say@1 is deprecated/);

  const naming = await lintBroken(t, async (root) => {
    await editText(registryYaml(root), (y) => y.replace('- fqdn: "timer.tick"\n    version: 1\n    kind: "event"', '- fqdn: "timer.tick"\n    version: 1\n    kind: "command"'));
    await editJson(path.join(root, "timer/tick/v1/examples/basic.json"), (e) => {
      e.kind = "command";
    });
  });
  expectProblem(naming, "warning", /^registry\.yaml:\d+$/, /timer\.tick@1: command without a `reply`/);
});

test("a missing envelope schema is an error", async (t) => {
  const report = await lintBroken(t, (root) => rm(path.join(root, "..", "envelope.schema.json")));
  expectProblem(report, "error", /^\.\.\/envelope\.schema\.json$/, /does not exist/);
});
