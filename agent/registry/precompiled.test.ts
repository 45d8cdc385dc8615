import { strict as assert } from "node:assert";
import { readFile, readdir } from "node:fs/promises";
import * as path from "node:path";
import { test } from "node:test";
import { AdaosError, InternalError } from "../core/errors.js";
import type { CompiledValidator, EventCatalog } from "./catalog.js";
import { checkEnvelope } from "./check.js";
import { versionDir } from "./conventions.js";
import { issuesFromAjv } from "./issues.js";
import { catalogFromDist, precompiledCatalog, type DistRegistry } from "./precompiled.js";
import { loadSourceCatalog } from "./source.js";
import { REGISTRY_ROOT } from "./test-support.js";

async function jsonFiles(dir: string): Promise<string[]> {
  try {
    return (await readdir(dir)).filter((n) => n.endsWith(".json")).map((n) => path.join(dir, n));
  } catch {
    return [];
  }
}

async function readJsonFile(file: string): Promise<unknown> {
  return JSON.parse(await readFile(file, "utf8")) as unknown;
}

/** The outcome of the ingress check, comparable across catalogs. */
function outcome(catalog: EventCatalog, data: unknown): unknown {
  try {
    const { envelope } = checkEnvelope(catalog, structuredClone(data));
    return { ok: true, envelope };
  } catch (err) {
    if (!(err instanceof AdaosError)) throw err;
    return { ok: false, code: err.code, issues: err.issues };
  }
}

test("the precompiled catalog is built once and lists the registry", async () => {
  const catalog = precompiledCatalog();
  assert.equal(precompiledCatalog(), catalog);
  const source = await loadSourceCatalog(REGISTRY_ROOT);
  assert.deepEqual(catalog.list(), source.list());
});

test("precompiled and source catalogs agree on every example and fixture", async () => {
  const pre = precompiledCatalog();
  const src = await loadSourceCatalog(REGISTRY_ROOT);
  let compared = 0;
  for (const entry of src.list()) {
    const dir = path.join(REGISTRY_ROOT, versionDir(entry.fqdn, entry.version));
    for (const file of await jsonFiles(path.join(dir, "examples"))) {
      const env = await readJsonFile(file);
      const a = outcome(pre, env);
      assert.deepEqual(a, outcome(src, env), file);
      assert.equal((a as { ok: boolean }).ok, true, `${file} validates through the precompiled catalog`);
      compared++;
    }
    const validators: [string, CompiledValidator | undefined][] = [
      ["precompiled", pre.get(entry.fqdn, entry.version)?.validatePayload],
      ["source", src.get(entry.fqdn, entry.version)?.validatePayload],
    ];
    for (const sub of ["valid", "invalid"]) {
      for (const file of await jsonFiles(path.join(dir, "fixtures", sub))) {
        const payload = await readJsonFile(file);
        const results = validators.map(([name, v]) => {
          if (v === undefined) throw new Error(`${name} has no validator for ${entry.fqdn}`);
          const ok = v(structuredClone(payload));
          return { ok, issues: issuesFromAjv(v.errors) };
        });
        assert.deepEqual(results[0], results[1], file);
        assert.equal(results[0]?.ok, sub === "valid", file);
        compared++;
      }
    }
  }
  assert.ok(compared > 30, `compared ${compared} documents`);
});

test("the precompiled envelope validator fills defaults and reports pointers", async () => {
  const catalog = precompiledCatalog();
  const env = (await readJsonFile(path.join(REGISTRY_ROOT, "ui/notify/v1/examples/basic.json"))) as Record<string, unknown>;
  const { tenant: _t, priority: _p, headers: _h, ...bare } = env;
  const { envelope } = checkEnvelope(catalog, bare);
  assert.equal(envelope.tenant, "default");
  assert.equal(envelope.priority, 3);
  const bad = outcome(catalog, { ...env, priority: 9, payload: { text: "hi", level: "loud" } }) as { ok: boolean; issues: { pointer: string }[] };
  assert.equal(bad.ok, false);
  assert.ok(bad.issues.some((i) => i.pointer === "/priority"), JSON.stringify(bad));
});

test("payload defaults are filled by the generated validators too", () => {
  const v = precompiledCatalog().get("ui.notify", 1)?.validatePayload;
  if (v === undefined) throw new Error("no validator for ui.notify@1");
  const payload: Record<string, unknown> = { text: "hi" };
  assert.equal(v(payload), true);
  assert.equal(payload.level, "info");
});

test("catalogFromDist refuses generated files that disagree", () => {
  const entry = precompiledCatalog().list()[0];
  if (entry === undefined) throw new Error("empty catalog");
  const always: CompiledValidator = () => true;
  const dist: DistRegistry = { format: 1, events: [entry] };
  assert.throws(() => catalogFromDist(dist, always, {}), (err: unknown) => err instanceof InternalError && /no validator for/.test(err.message) && /npm run codegen/.test(err.message));
  assert.throws(() => catalogFromDist({ format: 99, events: [] }, always, {}), /format 99/);
  const extra = catalogFromDist(dist, always, { [`${entry.fqdn}@${entry.version}`]: always });
  assert.equal(extra.list().length, 1);
  assert.throws(() => catalogFromDist(dist, always, { [`${entry.fqdn}@${entry.version}`]: always, "x.y@1": always }), /validators without an entry: x\.y@1/);
});
