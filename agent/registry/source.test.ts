import { strict as assert } from "node:assert";
import { readFile, readdir, rm, writeFile } from "node:fs/promises";
import * as path from "node:path";
import { test } from "node:test";
import { EnvelopeInvalidError, PayloadInvalidError, RegistryInvalidError, UnknownEventError } from "../core/errors.js";
import { eventKey } from "./catalog.js";
import { checkEnvelope } from "./check.js";
import { versionDir } from "./conventions.js";
import { issuesFromAjv } from "./issues.js";
import { compileRegistry, loadSourceCatalog } from "./source.js";
import { REGISTRY_ROOT, tempRepo } from "./test-support.js";

const SEED_EVENTS = [
  "system.boot.completed@1", "timer.tick@1", "repo.skill.installed@1", "repo.skill.install@1",
  "repo.skill.install.result@1", "scenario.run@1", "scenario.run.result@1", "scenario.completed@1",
  "nlp.intent.detected@1", "ui.notify@1", "ui.say@1",
];

async function readJsonFile(file: string): Promise<unknown> {
  return JSON.parse(await readFile(file, "utf8")) as unknown;
}

async function jsonIn(dir: string): Promise<string[]> {
  return (await readdir(dir)).filter((n) => n.endsWith(".json")).map((n) => path.join(dir, n));
}

test("the shipped registry compiles without problems and has the seed's events", async () => {
  const compiled = await compileRegistry(REGISTRY_ROOT);
  assert.deepEqual(compiled.problems, []);
  const catalog = await loadSourceCatalog(REGISTRY_ROOT);
  const keys = catalog.list().map((e) => eventKey(e.fqdn, e.version));
  for (const k of SEED_EVENTS) assert.ok(keys.includes(k), `${k} is registered`);
  assert.equal(catalog.get("scenario.run", 1)?.entry.reply, "scenario.run.result@1");
  assert.equal(catalog.get("repo.skill.install", 1)?.entry.kind, "command");
});

test("every example is a valid envelope of its own entry (source catalog)", async () => {
  const catalog = await loadSourceCatalog(REGISTRY_ROOT);
  for (const entry of catalog.list()) {
    assert.ok(entry.example !== undefined, `${entry.fqdn} has an example`);
    for (const file of await jsonIn(path.join(REGISTRY_ROOT, versionDir(entry.fqdn, entry.version), "examples"))) {
      const { envelope, event } = checkEnvelope(catalog, await readJsonFile(file));
      assert.equal(event.entry, entry, file);
      assert.equal(envelope.event_name, entry.fqdn);
    }
  }
});

test("valid fixtures pass and invalid fixtures fail with a JSON pointer", async () => {
  const catalog = await loadSourceCatalog(REGISTRY_ROOT);
  for (const entry of catalog.list()) {
    const validate = catalog.get(entry.fqdn, entry.version)?.validatePayload;
    if (validate === undefined) throw new Error(`no validator for ${entry.fqdn}`);
    const base = path.join(REGISTRY_ROOT, versionDir(entry.fqdn, entry.version), "fixtures");
    const valid = await jsonIn(path.join(base, "valid"));
    const invalid = await jsonIn(path.join(base, "invalid"));
    assert.ok(valid.length > 0 && invalid.length > 0, `${entry.fqdn} has valid and invalid fixtures`);
    for (const f of valid) assert.equal(validate(await readJsonFile(f)), true, `${f}: ${JSON.stringify(validate.errors)}`);
    for (const f of invalid) {
      assert.equal(validate(await readJsonFile(f)), false, `${f} must fail`);
      const issues = issuesFromAjv(validate.errors);
      assert.ok(issues.length > 0, f);
      for (const i of issues) assert.match(i.pointer, /^\//, `${f}: ${i.pointer}`);
    }
  }
});

test("the envelope validator fills defaults and the ingress check reports each failure kind", async () => {
  const catalog = await loadSourceCatalog(REGISTRY_ROOT);
  const example = (await readJsonFile(path.join(REGISTRY_ROOT, "ui/say/v1/examples/basic.json"))) as Record<string, unknown>;
  const { tenant: _t, priority: _p, headers: _h, ...bare } = example;
  const { envelope } = checkEnvelope(catalog, structuredClone(bare));
  assert.equal(envelope.tenant, "default");
  assert.equal(envelope.priority, 3);
  assert.deepEqual(envelope.headers, {});

  assert.throws(() => checkEnvelope(catalog, { ...structuredClone(example), event_name: "ui.shout" }), UnknownEventError);
  assert.throws(() => checkEnvelope(catalog, { ...structuredClone(example), kind: "command" }), EnvelopeInvalidError);
  assert.throws(
    () => checkEnvelope(catalog, { ...structuredClone(example), payload: { text: "" } }),
    (err: unknown) => err instanceof PayloadInvalidError && err.issues.some((i) => i.pointer === "/payload/text"),
  );
});

test("required_headers of an entry are enforced (repo.skill.install needs idempotency_key)", async () => {
  const catalog = await loadSourceCatalog(REGISTRY_ROOT);
  const example = (await readJsonFile(path.join(REGISTRY_ROOT, "repo/skill.install/v1/examples/basic.json"))) as { headers: Record<string, string> };
  delete example.headers.idempotency_key;
  assert.throws(
    () => checkEnvelope(catalog, example),
    (err: unknown) => err instanceof EnvelopeInvalidError && err.issues.some((i) => i.pointer === "/headers/idempotency_key"),
  );
});

test("loading a broken registry throws RegistryInvalidError listing the problems", async (t) => {
  const repo = await tempRepo(t);
  const root = path.join(repo, "abi/events");
  await rm(path.join(root, "ui/say/v1/schema.json"));
  await writeFile(path.join(root, "timer/tick/v1/schema.json"), "{ not json");
  await assert.rejects(loadSourceCatalog(root), (err: unknown) => {
    if (!(err instanceof RegistryInvalidError)) return false;
    assert.ok(err.issues.some((i) => i.pointer === "ui/say/v1/schema.json" && /does not exist/.test(i.message)), JSON.stringify(err.issues));
    assert.ok(err.issues.some((i) => i.pointer === "timer/tick/v1/schema.json" && /not valid JSON/.test(i.message)), JSON.stringify(err.issues));
    return true;
  });
});

test("a missing registry folder is one clear problem, not a crash", async () => {
  const compiled = await compileRegistry(path.join(REGISTRY_ROOT, "no-such-folder"));
  assert.ok(compiled.problems.some((p) => p.where === "registry.yaml" && /does not exist/.test(p.message)));
  assert.equal(compiled.entries.length, 0);
});
