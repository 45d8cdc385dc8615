import { strict as assert } from "node:assert";
import { mkdir, readFile } from "node:fs/promises";
import * as path from "node:path";
import { test, type TestContext } from "node:test";
import { UsageError } from "../core/errors.js";
import { checkEnvelope } from "./check.js";
import { lintRegistry } from "./lint.js";
import { scaffoldEvent } from "./scaffold.js";
import { loadSourceCatalog } from "./source.js";
import { tempRepo } from "./test-support.js";

async function tempRegistry(t: TestContext): Promise<string> {
  return path.join(await tempRepo(t), "abi/events");
}

async function readJsonFile(file: string): Promise<unknown> {
  return JSON.parse(await readFile(file, "utf8")) as unknown;
}

test("a scaffolded event lints clean of errors and its example validates", async (t) => {
  const root = await tempRegistry(t);
  const original = await readFile(path.join(root, "registry.yaml"), "utf8");
  const result = await scaffoldEvent({ root, fqdn: "media.playback.started", kind: "event", version: 1, nowMs: Date.UTC(2026, 0, 2) });
  assert.deepEqual(result.created, [
    "media/playback.started/v1/schema.json",
    "media/playback.started/v1/examples/basic.json",
    "media/playback.started/v1/fixtures/valid/basic.json",
    "media/playback.started/v1/fixtures/invalid/basic.json",
    "registry.yaml",
  ]);

  const report = await lintRegistry(root);
  assert.equal(report.errors, 0, JSON.stringify(report.problems, null, 1));
  assert.ok(report.problems.some((p) => p.level === "warning" && /TODO/.test(p.message)), "the placeholders are pointed out");

  const catalog = await loadSourceCatalog(root);
  const { envelope } = checkEnvelope(catalog, await readJsonFile(path.join(root, "media/playback.started/v1/examples/basic.json")));
  assert.equal(envelope.event_name, "media.playback.started");
  assert.equal(envelope.ts, "2026-01-02T00:00:00.000Z");
  assert.equal(catalog.get("media.playback.started", 1)?.entry.status, "draft");

  // A new namespace goes at the end: the existing file, comments included, is untouched.
  const after = await readFile(path.join(root, "registry.yaml"), "utf8");
  assert.ok(after.startsWith(original.trimEnd()), "registry.yaml keeps its text and comments");
  assert.match(after.slice(original.trimEnd().length), /\n\n {2}- fqdn: "media\.playback\.started"\n {4}version: 1\n/);
  assert.match(after, /producers: \[\]/);
});

test("an entry of an existing namespace goes after its last entry", async (t) => {
  const root = await tempRegistry(t);
  await scaffoldEvent({ root, fqdn: "ui.toast", kind: "event", version: 1 });
  const yaml = await readFile(path.join(root, "registry.yaml"), "utf8");
  const order = ["ui.notify", "ui.say", "ui.toast"].map((f) => yaml.indexOf(`fqdn: "${f}"`));
  assert.ok(order.every((pos, i) => pos > 0 && (i === 0 || pos > (order[i - 1] ?? 0))), `order ${order.join(",")}`);
  assert.equal((await lintRegistry(root)).errors, 0);
});

test("a command with a registered reply, and a new major from the previous one", async (t) => {
  const root = await tempRegistry(t);
  await scaffoldEvent({ root, fqdn: "media.play.result", kind: "reply", version: 1 });
  await scaffoldEvent({ root, fqdn: "media.play", kind: "command", version: 1, reply: "media.play.result@1", summary: "Play a media item." });
  const v2 = await scaffoldEvent({ root, fqdn: "nlp.intent.detected", kind: "event", version: 2 });
  assert.equal(v2.basedOn, "nlp.intent.detected@1");
  const schema = (await readJsonFile(path.join(root, "nlp/intent.detected/v2/schema.json"))) as Record<string, unknown>;
  assert.equal(schema.$id, "nlp.intent.detected.v2");
  assert.equal(schema["x-version"], "2.0.0");
  assert.ok("slots" in (schema.properties as object), "fields carried over from v1");

  const report = await lintRegistry(root);
  assert.equal(report.errors, 0, JSON.stringify(report.problems, null, 1));
  const catalog = await loadSourceCatalog(root);
  assert.equal(catalog.get("media.play", 1)?.entry.reply, "media.play.result@1");
  assert.equal(catalog.get("media.play.result", 1)?.entry.required_headers.includes("causation_id"), true);
  for (const rel of ["media/play/v1/examples/basic.json", "media/play.result/v1/examples/basic.json", "nlp/intent.detected/v2/examples/basic.json"]) {
    checkEnvelope(catalog, await readJsonFile(path.join(root, rel)));
  }
});

test("naming conventions are advice: an event named like a command gets a warning", async (t) => {
  const root = await tempRegistry(t);
  await scaffoldEvent({ root, fqdn: "media.play", kind: "event", version: 1, summary: "Playback started." });
  const report = await lintRegistry(root);
  assert.equal(report.errors, 0);
  assert.ok(report.problems.some((p) => p.level === "warning" && /"play" reads like a command verb/.test(p.message)), JSON.stringify(report.problems));
});

test("scaffold refuses existing entries, malformed names, bad replies and existing folders", async (t) => {
  const root = await tempRegistry(t);
  const refuse = (options: Omit<Parameters<typeof scaffoldEvent>[0], "root">, message: RegExp) =>
    assert.rejects(scaffoldEvent({ root, ...options }), (err: unknown) => err instanceof UsageError && message.test(err.message));
  await refuse({ fqdn: "ui.say", kind: "event", version: 1 }, /ui\.say@1 is already registered/);
  await refuse({ fqdn: "Media.Play", kind: "event", version: 1 }, /not a valid event name: it must be lower case/);
  await refuse({ fqdn: "media", kind: "event", version: 1 }, /needs at least two dot-separated tokens/);
  await refuse({ fqdn: "media..play", kind: "event", version: 1 }, /empty token/);
  await refuse({ fqdn: "media.play", kind: "event", version: 0 }, /--version must be an integer from 1/);
  await refuse({ fqdn: "media.play", kind: "command", version: 1, reply: "media.play.result@1" }, /is not registered/);
  await refuse({ fqdn: "media.play", kind: "command", version: 1, reply: "ui.say@1" }, /must be a reply/);
  await refuse({ fqdn: "media.play", kind: "event", version: 1, reply: "ui.say@1" }, /for commands only/);
  await mkdir(path.join(root, "media/stopped/v1"), { recursive: true });
  await refuse({ fqdn: "media.stopped", kind: "event", version: 1 }, /already exists without a registry entry/);
  assert.equal((await lintRegistry(root)).errors, 0, "refusals leave the registry as it was");
});
