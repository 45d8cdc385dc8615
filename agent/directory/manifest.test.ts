import { strict as assert } from "node:assert";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { Ajv2020 } from "ajv/dist/2020.js";
import type { CapabilityDecl } from "../../abi/manifest.js";
import { buildManifest, ioTypeOf } from "./manifest.js";

const schema = JSON.parse(readFileSync(fileURLToPath(new URL("../../../abi/manifest.schema.json", import.meta.url)), "utf8")) as object;
const validate = new Ajv2020({ allErrors: true, strict: true }).compile(schema);

const display: CapabilityDecl = { id: "capability://display.play", prio: 60, cost: 1, inputs: ["video/mp4", "video/webm"], outputs: [], probe: { kind: "http", url: "http://127.0.0.1:8778/health/ready", timeout_ms: 1000 } };
const stream: CapabilityDecl = { id: "capability://media.playback.stream", prio: 40, cost: 2, inputs: ["text/uri-list"], outputs: ["video/mp4"], probe: { kind: "internal", check: "player" } };

test("a TV member's manifest validates, maps display to the upstream io, and has a stable revision", () => {
  const tv = buildManifest({ nodeId: "tv", kind: "member", prioBase: 5, tags: ["living-room"], capabilities: [display, stream], skills: [{ name: "player", version: "1.0.0", active: true }] });
  assert.equal(validate(tv), true, JSON.stringify(validate.errors));
  assert.equal(tv.agent, "agent://member/tv");
  assert.deepEqual(tv.capacity.io, [{ io_type: "display", capabilities: ["capability://display.play"], priority: 60 }]);
  assert.match(tv.revision, /^[0-9a-f]{16}$/);
  const reordered = buildManifest({ capabilities: [display, stream], tags: ["living-room"], kind: "member", nodeId: "tv", prioBase: 5, skills: [{ active: true, version: "1.0.0", name: "player" }] });
  assert.equal(reordered.revision, tv.revision, "key order does not matter");
  const changed = buildManifest({ nodeId: "tv", kind: "member", prioBase: 5, tags: ["living-room"], capabilities: [{ ...display, prio: 70 }, stream], skills: [{ name: "player", version: "1.0.0", active: true }] });
  assert.notEqual(changed.revision, tv.revision);
  const hub = buildManifest({ nodeId: "hub-1", kind: "hub", capabilities: [{ id: "capability://mic.capture", prio: 50, cost: 0, inputs: [], outputs: ["audio/l16"] }, { id: "capability://tts.speak", prio: 50, cost: 0, inputs: ["text/plain"], outputs: [] }] });
  assert.equal(validate(hub), true, JSON.stringify(validate.errors));
  assert.deepEqual(hub.capacity.io.map((e) => e.io_type), ["audio_in", "say"]);
});

test("io types by family; invalid manifests are refused with pointers", () => {
  assert.deepEqual(["capability://speaker.play", "capability://audio.out", "capability://console.print", "capability://media.search.find"].map(ioTypeOf), ["audio_out", "audio_out", "stdout", undefined]);
  const good = buildManifest({ nodeId: "tv", kind: "member", capabilities: [display] });
  const bad = (patch: object) => {
    assert.equal(validate({ ...good, ...patch }), false);
    return (validate.errors ?? []).map((e) => e.instancePath);
  };
  assert.ok(bad({ agent: "tv" }).includes("/agent"));
  assert.ok(bad({ capabilities: [{ ...display, id: "display.play" }] }).includes("/capabilities/0/id"));
  assert.ok(bad({ capabilities: [{ ...display, probe: { kind: "ping" } }] }).some((p) => p.startsWith("/capabilities/0/probe")));
  assert.ok(bad({ revision: "xyz" }).includes("/revision"));
  const { capacity: _c, ...missing } = good;
  assert.equal(validate(missing), false);
});
