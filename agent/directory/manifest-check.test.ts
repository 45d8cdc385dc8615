/** manifest-check: the example and built manifests pass; bad ones are refused with JSON pointers. */
import { strict as assert } from "node:assert";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import type { CapabilityDecl, Manifest } from "../../abi/manifest.js";
import { BadRequestError } from "../core/errors.js";
import { buildManifest, revisionOf } from "./manifest.js";
import { checkManifest, manifestChanged, parseManifest } from "./manifest-check.js";

const EXAMPLE = fileURLToPath(new URL("../../../abi/examples/manifest.tv.json", import.meta.url));
const example = JSON.parse(readFileSync(EXAMPLE, "utf8")) as Manifest;

const display: CapabilityDecl = { id: "capability://display.play", prio: 90, cost: 1, inputs: ["video/mp4"], outputs: [], probe: { kind: "http", url: "http://127.0.0.1:8778/health/display", timeout_ms: 1000 } };
const tv = buildManifest({ nodeId: "tv", kind: "member", capabilities: [display] });

/** The issues of a manifest that must be refused, as "pointer message" lines. */
function issuesOf(value: unknown): string[] {
  const result = checkManifest(value);
  assert.equal(result.ok, false, "expected the manifest to be refused");
  return result.ok ? [] : result.issues.map((i) => `${i.pointer} ${i.message}`);
}

test("abi/examples/manifest.tv.json is valid and its revision is the hash of its content", () => {
  const result = checkManifest(example);
  assert.equal(result.ok, true, JSON.stringify(result));
  const { revision, ...body } = example;
  assert.equal(revision, revisionOf(body), "regenerate the example's revision after editing it");
  assert.deepEqual(example.capacity.io.map((e) => e.io_type), ["display", "audio_out"]);
  assert.ok(example.capabilities.some((c) => c.id === "capability://media.playback.stream" && c.probe !== undefined));
});

test("built hub and TV manifests pass parseManifest unchanged", () => {
  const hub = buildManifest({ nodeId: "hub-1", kind: "hub", prioBase: 50, tags: ["mains-powered"], capabilities: [{ id: "capability://tts.speak", prio: 40, cost: 0, inputs: ["text/plain"], outputs: [], probe: { kind: "internal", check: "tts" } }] });
  assert.deepEqual(parseManifest(hub), hub);
  assert.deepEqual(parseManifest(tv), tv);
  assert.equal(hub.agent, "agent://hub/hub-1");
  assert.deepEqual(hub.capacity.io, [{ io_type: "say", capabilities: ["capability://tts.speak"], priority: 40 }]);
});

test("a bad agent URI or capability id is refused at its pointer", () => {
  assert.deepEqual(issuesOf({ ...tv, agent: "member/tv" }), ['/agent must match pattern "^agent://(hub|member|browser)/[a-z0-9][a-z0-9_-]{0,62}$"']);
  assert.deepEqual(issuesOf({ ...tv, agent: "agent://fridge/tv" }).map((l) => l.split(" ")[0]), ["/agent"]);
  const badId = issuesOf({ ...tv, capabilities: [{ ...display, id: "display.play" }] });
  assert.equal(badId.length, 1);
  assert.match(badId[0] ?? "", /^\/capabilities\/0\/id must match pattern/);
});

test("an unknown probe kind is one issue; a known kind reports only its own branch", () => {
  assert.deepEqual(issuesOf({ ...tv, capabilities: [display, { ...display, probe: { kind: "ping", host: "tv" } }] }), [
    '/capabilities/1/probe/kind must be one of "http", "command", "internal"',
  ]);
  assert.deepEqual(issuesOf({ ...tv, capabilities: [{ ...display, probe: { kind: "command", argv: [] } }] }), [
    "/capabilities/0/probe/argv must NOT have fewer than 1 items",
  ]);
  assert.deepEqual(issuesOf({ ...tv, capabilities: [{ ...display, probe: { kind: "http" } }] }), ["/capabilities/0/probe/url is required"]);
  assert.deepEqual(issuesOf({ ...tv, capabilities: [{ ...display, probe: "GET /health" }] }), ["/capabilities/0/probe must be object"]);
});

test("missing and unknown fields are refused with pointers; parseManifest throws a 400 with them", () => {
  const { capacity: _capacity, revision: _revision, ...missing } = tv;
  assert.deepEqual(issuesOf(missing).sort(), ["/capacity is required", "/revision is required"]);
  const { prio: _prio, ...noPrio } = display;
  assert.deepEqual(issuesOf({ ...tv, capabilities: [noPrio] }), ["/capabilities/0/prio is required"]);
  assert.deepEqual(issuesOf({ ...tv, extra: 1 }), ["/extra is not allowed (unknown property)"]);
  assert.deepEqual(issuesOf({ ...tv, kind: "fridge" }), ['/kind must be one of "hub", "member", "browser"']);
  assert.deepEqual(issuesOf(null), ["/ must be object"]);
  assert.throws(() => parseManifest({ ...tv, revision: "xyz" }), (err: unknown) => {
    assert.ok(err instanceof BadRequestError);
    assert.equal(err.code, "E_BAD_REQUEST");
    assert.deepEqual(err.issues.map((i) => i.pointer), ["/revision"]);
    return true;
  });
});

test("manifestChanged compares revisions; a first manifest counts as a change", () => {
  const again = buildManifest({ capabilities: [display], kind: "member", nodeId: "tv" });
  const louder = buildManifest({ nodeId: "tv", kind: "member", capabilities: [{ ...display, prio: 95 }] });
  assert.equal(manifestChanged(tv, again), false);
  assert.equal(manifestChanged(tv, louder), true);
  assert.equal(manifestChanged(undefined, tv), true);
});
