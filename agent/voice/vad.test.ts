/**
 * Tests of the energy VAD on synthetic frames: the dBFS scale, the margin over the noise floor,
 * the floor following the room down at once and up within its window, and the absolute gate.
 */
import { strict as assert } from "node:assert";
import { test } from "node:test";
import { EnergyVad, FRAME_SAMPLES, frameDbfs } from "./vad.js";

let seed = 7;
/** Deterministic uniform noise in [-1, 1). */
function random(): number {
  seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
  return seed / 2 ** 31 - 1;
}

/** One frame of white noise (uniform) with the given RMS level in dBFS. */
const noise = (dbfs: number) => Int16Array.from({ length: FRAME_SAMPLES }, () => Math.round(random() * 10 ** (dbfs / 20) * Math.sqrt(3) * 32767));
/** One frame of a 300 Hz sine with the given RMS level in dBFS. */
const tone = (dbfs: number) => Int16Array.from({ length: FRAME_SAMPLES }, (_, i) => Math.round(10 ** (dbfs / 20) * Math.SQRT2 * 32767 * Math.sin((2 * Math.PI * 300 * i) / 16_000)));

function feed(vad: EnergyVad, frame: () => Int16Array, n: number): boolean[] {
  return Array.from({ length: n }, () => vad.isSpeech(frame()));
}

test("frameDbfs: full-scale square 0 dB, sine -3 dB, digital silence -100 dB", () => {
  assert.equal(FRAME_SAMPLES, 480);
  assert.ok(Math.abs(frameDbfs(Int16Array.from({ length: FRAME_SAMPLES }, (_, i) => (i % 2 === 0 ? -32768 : 32767)))) < 0.01);
  assert.ok(Math.abs(frameDbfs(tone(-3.01)) + 3.01) < 0.05);
  assert.ok(Math.abs(frameDbfs(noise(-40)) + 40) < 0.5);
  assert.equal(frameDbfs(new Int16Array(FRAME_SAMPLES)), -100);
});

test("speech is a frame standing marginDb over the noise floor", () => {
  const vad = new EnergyVad();
  assert.deepEqual(feed(vad, () => noise(-40), 50), new Array<boolean>(50).fill(false), "steady noise is not speech");
  assert.equal(vad.isSpeech(tone(-20)), true, "20 dB over the noise");
  assert.equal(vad.isSpeech(noise(-40)), false);
  assert.equal(vad.isSpeech(tone(-36)), false, "4 dB over the floor is within the margin");
  const keen = new EnergyVad({ marginDb: 3 });
  feed(keen, () => noise(-40), 50);
  assert.equal(keen.isSpeech(tone(-36)), true, "a smaller margin hears it");
});

test("the floor follows quieter noise at once and louder noise within floorWindowMs", () => {
  const vad = new EnergyVad({ floorWindowMs: 900 }); // 30 frames
  feed(vad, () => noise(-30), 40);
  feed(vad, () => noise(-50), 1);
  assert.ok(Math.abs(vad.noiseFloorDb() + 50) < 1, "down at once");
  assert.equal(vad.isSpeech(noise(-38)), true, "so -38 dBFS now stands out");
  const afterStep = feed(vad, () => noise(-30), 40);
  assert.equal(afterStep.slice(-10).some(Boolean), false, "the louder noise became the floor once the quiet frames left the window");
  assert.ok(Math.abs(vad.noiseFloorDb() + 30) < 1.5);
  assert.ok(Math.abs(vad.lastDbfs() + 30) < 1.5);
});

test("nothing under minSpeechDbfs is speech, even over digital silence", () => {
  const vad = new EnergyVad();
  feed(vad, () => new Int16Array(FRAME_SAMPLES), 20);
  assert.equal(vad.isSpeech(noise(-60)), false, "-60 dBFS hiss after digital silence");
  assert.equal(vad.isSpeech(tone(-50)), true, "-50 dBFS is over the -55 gate");
  const strict = new EnergyVad({ minSpeechDbfs: -40 });
  feed(strict, () => new Int16Array(FRAME_SAMPLES), 20);
  assert.equal(strict.isSpeech(tone(-45)), false);
});
