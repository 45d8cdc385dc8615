import { strict as assert } from "node:assert";
import { test } from "node:test";
import { DRIVER_NAMES, isDriverName, loadDriver } from "./registry.js";

test("every registered driver loads lazily and exports a create factory", async () => {
  assert.deepEqual([...DRIVER_NAMES].sort(), ["display", "mic", "speaker", "stt", "tts"]);
  for (const name of DRIVER_NAMES) {
    const mod = await loadDriver(name);
    assert.equal(typeof mod.create, "function", `${name} exports create`);
  }
});

test("an unknown driver name fails with the list of valid ones", async () => {
  assert.equal(isDriverName("camera"), false);
  assert.equal(isDriverName("toString"), false, "no inherited names");
  await assert.rejects(loadDriver("camera"), { message: 'unknown driver "camera"; valid drivers: mic, stt, tts, speaker, display' });
});
