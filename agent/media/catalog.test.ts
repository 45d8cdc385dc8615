/**
 * The catalog: the shipped example loads; search by title and alias, exact before contains,
 * case/accents/punctuation ignored; a broken catalog names every problem with its item index.
 */
import { strict as assert } from "node:assert";
import { copyFile, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test, type TestContext } from "node:test";
import { fileURLToPath } from "node:url";
import { ConfigInvalidError, ConfigReadError } from "../core/errors.js";
import { loadCatalog, normalise } from "./catalog.js";

const MEDIA = fileURLToPath(new URL("../../../examples/media/", import.meta.url));

async function tempDir(t: TestContext): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "adaos-catalog-"));
  t.after(() => rm(dir, { recursive: true, force: true }));
  await copyFile(join(MEDIA, "inception.webm"), join(dir, "a.webm"));
  await copyFile(join(MEDIA, "poster.png"), join(dir, "a.png"));
  return dir;
}

test("the example catalog loads with absolute paths and formats from the extension", async () => {
  const catalog = await loadCatalog(join(MEDIA, "catalog.yaml"));
  assert.deepEqual(catalog.titles(), ["Inception", "Interstellar"]);
  const item = catalog.get("inception");
  assert.equal(item?.file, join(MEDIA, "inception.webm"));
  assert.equal(item?.poster, join(MEDIA, "poster.png"));
  assert.equal(item?.format, "webm");
  assert.equal(catalog.get("nope"), undefined);
});

test("search: exact title or alias first, then contains, then a title inside a sentence", async () => {
  const catalog = await loadCatalog(join(MEDIA, "catalog.yaml"));
  const id = (q: string): string | undefined => catalog.search(q)?.item_id;
  assert.deepEqual(catalog.search("Inception"), { item_id: "inception", title: "Inception", format: "webm", poster_path: join(MEDIA, "poster.png") });
  assert.equal(id("  INCEPTION!! "), "inception");
  assert.equal(id("inter-stellar"), undefined, "punctuation inside a word splits it");
  assert.equal(id("interstellar."), "interstellar");
  assert.equal(id("начало"), "inception", "a Cyrillic alias, case folded");
  assert.equal(id("stellar"), "interstellar", "contains");
  assert.equal(id("in"), "inception", "contains: the first in catalog order wins");
  assert.equal(id("play interstellar please"), "interstellar", "a title inside a spoken sentence");
  assert.equal(id("play interstellarx"), undefined);
  assert.equal(id("Matrix"), undefined);
  assert.equal(id(" ?! "), undefined, "nothing left after normalising");
});

test("exact beats contains even when the containing item comes first", async (t) => {
  const dir = await tempDir(t);
  const file = join(dir, "c.json");
  await writeFile(file, JSON.stringify({
    version: 1,
    items: [
      { id: "alien-2", title: "Aliens", file: "a.webm" },
      { id: "alien", title: "Alien", file: "a.webm", format: "webm" },
    ],
  }));
  const catalog = await loadCatalog(file);
  assert.equal(catalog.search("alien")?.item_id, "alien");
  assert.equal(catalog.search("ALIENS")?.item_id, "alien-2");
  assert.equal(catalog.search("ali")?.item_id, "alien-2");
});

test("normalise folds case, accents and punctuation", () => {
  assert.equal(normalise("  Amélie: Le Fabuleux—Destin! "), "amelie le fabuleux destin");
  assert.equal(normalise("ЁЛКИ 2"), "елки 2");
});

test("a broken catalog names every problem with its item index", async (t) => {
  const dir = await tempDir(t);
  const file = join(dir, "catalog.yaml");
  await writeFile(file, [
    "version: 2",
    "extra: 1",
    "items:",
    "  - { id: ok, title: Fine, file: a.webm, poster: a.png }",
    "  - { id: Bad Id, title: '', file: missing.webm, colour: red }",
    "  - { id: ok, title: Dup, file: a.webm }",
    "  - { id: fmt, title: Fmt, file: a.png }",
    "  - { id: fmt2, title: Fmt2, file: a.webm, format: avi, aliases: [1] }",
    "  - just text",
  ].join("\n"));
  const err = await loadCatalog(file).then(() => undefined, (e: unknown) => e);
  assert.ok(err instanceof ConfigInvalidError, String(err));
  const lines = err.message.split("\n").slice(1).map((l) => l.trim());
  assert.deepEqual(lines.map((l) => l.slice(0, l.indexOf(":"))), [
    "extra", "version",
    "items[1].colour", "items[1].id", "items[1].title", "items[1].file", "items[1].format",
    "items[2].id",
    "items[3].format",
    "items[4].aliases", "items[4].format",
    "items[5]",
  ]);
  assert.match(err.message, /items\[1\]\.file: no such file .*missing\.webm/);
  assert.match(err.message, /items\[2\]\.id: duplicate id ok/);
  assert.match(err.message, /items\[4\]\.format: must be webm or mp4, got "avi"/);
  assert.equal(err.issues.find((i) => i.pointer === "/items/1/file")?.message.startsWith("no such file"), true);
});

test("an unreadable or unparsable catalog is a ConfigReadError naming the file", async (t) => {
  const dir = await tempDir(t);
  await assert.rejects(loadCatalog(join(dir, "none.yaml")), (e: unknown) => e instanceof ConfigReadError && /none\.yaml cannot be read/.test(e.message));
  await writeFile(join(dir, "bad.json"), "{ nope");
  await assert.rejects(loadCatalog(join(dir, "bad.json")), (e: unknown) => e instanceof ConfigReadError && /is not valid JSON/.test(e.message));
  await writeFile(join(dir, "bad.yaml"), "items: [a, b");
  await assert.rejects(loadCatalog(join(dir, "bad.yaml")), (e: unknown) => e instanceof ConfigReadError && /is not valid YAML/.test(e.message));
  await writeFile(join(dir, "empty.yaml"), "version: 1\nitems: []\n");
  await assert.rejects(loadCatalog(join(dir, "empty.yaml")), /items: must be a non-empty list/);
});
