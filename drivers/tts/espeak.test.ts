/**
 * The tts driver against the real espeak-ng (apt-get install espeak-ng sox): the shared driver
 * contract, the WAV it makes (well-formed, as long as the text needs), voices from lang, the
 * text safe from option parsing, and failures that name what went wrong.
 */
import { strict as assert } from "node:assert";
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { childPids, driverContract, memoryLogger } from "../contract.js";
import { create, type TtsOptions } from "./index.js";

const PHRASE = "play inception on the tv";

function tts(options: TtsOptions = {}, logger = memoryLogger()) {
  return create(options, { logger });
}

/** A started driver, stopped after the test. */
async function started(t: { after(fn: () => Promise<void>): void }, options: TtsOptions = {}, logger = memoryLogger()) {
  const d = tts(options, logger);
  t.after(() => d.stop());
  await d.start();
  return d;
}

/** The WAV's format and length, read from its header (sizes included, so they must be true). */
function header(wav: Buffer) {
  assert.equal(wav.toString("latin1", 0, 4), "RIFF");
  assert.equal(wav.toString("latin1", 8, 12), "WAVE");
  assert.equal(wav.readUInt32LE(4), wav.length - 8, "RIFF size is the file's");
  assert.equal(wav.toString("latin1", 12, 16), "fmt ");
  const fmtSize = wav.readUInt32LE(16);
  const dataAt = 20 + fmtSize;
  assert.equal(wav.toString("latin1", dataAt, dataAt + 4), "data");
  const dataBytes = wav.readUInt32LE(dataAt + 4);
  assert.equal(dataBytes, wav.length - dataAt - 8, "data size is the samples'");
  const byteRate = wav.readUInt32LE(28);
  return { format: wav.readUInt16LE(20), channels: wav.readUInt16LE(22), rate: wav.readUInt32LE(24), bits: wav.readUInt16LE(34), seconds: dataBytes / byteRate };
}

driverContract("tts", () => tts());

test("tts: synthesize makes a well-formed PCM WAV as long as the phrase needs", async (t) => {
  const d = await started(t);
  const { wav, ms } = await d.synthesize(PHRASE);
  const h = header(wav);
  assert.deepEqual({ format: h.format, channels: h.channels, bits: h.bits }, { format: 1, channels: 1, bits: 16 });
  // Five words at 160 words per minute: about 1.9 s of speech.
  assert.ok(h.seconds > 1 && h.seconds < 4, `${h.seconds} s for "${PHRASE}"`);
  const dir = mkdtempSync(join(tmpdir(), "tts-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, "say.wav"), wav);
  const soxSeconds = Number(execFileSync("soxi", ["-D", join(dir, "say.wav")], { encoding: "utf8" }));
  assert.ok(Math.abs(soxSeconds - h.seconds) < 0.01, `sox reads ${soxSeconds} s, the header says ${h.seconds} s`);
  assert.ok(ms > 0 && ms < 10_000, `${ms} ms`);
  t.diagnostic(`"${PHRASE}": ${h.seconds.toFixed(2)} s of ${h.rate} Hz audio, ${wav.length} bytes, synthesized in ${ms.toFixed(1)} ms`);
});

test("tts: rate is words per minute", async (t) => {
  const slow = header((await (await started(t, { rate: 100 })).synthesize(PHRASE)).wav).seconds;
  const fast = header((await (await started(t, { rate: 300 })).synthesize(PHRASE)).wav).seconds;
  assert.ok(fast < slow * 0.6, `300 wpm took ${fast} s, 100 wpm ${slow} s`);
});

test("tts: a text starting with '-' is spoken, not read as an option", async (t) => {
  const d = await started(t);
  const h = header((await d.synthesize("--version -v xx is what I said")).wav);
  assert.ok(h.seconds > 1, `${h.seconds} s`);
});

test("tts: lang picks the voice (en → en-us, ru → ru); an unknown lang speaks with en-us and warns", async (t) => {
  const logger = memoryLogger();
  const d = await started(t, {}, logger);
  const same = async (a: Promise<{ wav: Buffer }>, b: Promise<{ wav: Buffer }>) => (await a).wav.equals((await b).wav);
  assert.ok(await same(d.synthesize("hello", { lang: "en" }), d.synthesize("hello", { voice: "en-us" })));
  assert.ok(await same(d.synthesize("hello", { lang: "en-GB" }), d.synthesize("hello", { voice: "en-us" })));
  assert.ok(await same(d.synthesize("привет", { lang: "ru" }), d.synthesize("привет", { voice: "ru" })));
  assert.ok(!(await same(d.synthesize("привет", { lang: "ru" }), d.synthesize("привет", { voice: "en-us" }))), "ru is not en-us");
  assert.equal(logger.lines.filter((l) => l.level === "warn").length, 0);
  assert.ok(await same(d.synthesize("hello", { lang: "xx" }), d.synthesize("hello")));
  const warn = logger.lines.find((l) => l.level === "warn");
  assert.ok(warn !== undefined, "an unknown lang is logged");
  assert.equal((warn.obj as { lang?: string }).lang, "xx");
});

test("tts: a configured voice wins over lang; a phrase's voice wins over both", async (t) => {
  const d = await started(t, { voice: "ru" });
  const ru = (await d.synthesize("hello", { voice: "ru" })).wav;
  assert.ok((await d.synthesize("hello", { lang: "en" })).wav.equals(ru));
  assert.ok((await d.synthesize("hello", { voice: "en-us", lang: "ru" })).wav.equals((await (await started(t)).synthesize("hello")).wav));
});

test("tts: an unknown voice rejects with the exit code and espeak-ng's message; health degrades, then recovers", async (t) => {
  const d = await started(t);
  await assert.rejects(d.synthesize("hello", { voice: "zz-nonexistent" }), /espeak-ng -v zz-nonexistent exited with 1: .*voice does not exist/);
  assert.equal(d.health().state, "degraded");
  assert.match(d.health().detail ?? "", /zz-nonexistent/);
  await d.synthesize("hello");
  assert.equal(d.health().state, "up");
  assert.equal(d.health().detail, undefined);
});

test("tts: bad input is refused before espeak-ng runs", async (t) => {
  const d = await started(t, { maxChars: 20 });
  await assert.rejects(d.synthesize(" \n\t "), /nothing to say/);
  await assert.rejects(d.synthesize("x".repeat(21)), /21 characters; the limit \(maxChars\) is 20/);
  await assert.rejects(d.synthesize("hello", { voice: "../../etc/passwd" }), /not an espeak-ng voice name/);
  const h = header((await d.synthesize("bell\u0000\u0007 rings")).wav); // controls become spaces
  assert.ok(h.seconds > 0.3);
  const aborted = AbortSignal.abort();
  await assert.rejects(d.synthesize("hello", {}, aborted), { name: "AbortError" });
  assert.equal(d.health().state, "up", "refused input is not a failing engine");
});

test("tts: aborting or stopping a running synthesis kills espeak-ng", async (t) => {
  // About 1.5 s of synthesis on a desktop core (31,500 characters), so both land mid-run.
  const long = "the quick brown fox jumps over the lazy dog. ".repeat(700);
  const before = childPids();
  const d = await started(t, { maxChars: 32_768 });
  const ac = new AbortController();
  setTimeout(() => ac.abort(), 100);
  await assert.rejects(d.synthesize(long, {}, ac.signal), { name: "AbortError" });
  assert.deepEqual(childPids().filter((p) => !before.includes(p)), []);
  const running = d.synthesize(long);
  setTimeout(() => void d.stop(), 100);
  await assert.rejects(running, /stopped during synthesis/);
  assert.deepEqual(childPids().filter((p) => !before.includes(p)), []);
  assert.equal(d.health().state, "stopped");
});

test("tts: synthesize before start is refused", async () => {
  await assert.rejects(tts().synthesize("hello"), /tts driver is stopped: start\(\) it/);
});

test("tts: a missing program fails start() naming it", async () => {
  const d = tts({ command: "/nonexistent/espeak-ng" });
  await assert.rejects(d.start(), /tts: \/nonexistent\/espeak-ng was not found: install espeak-ng \(apt-get install espeak-ng\)/);
  assert.equal(d.health().state, "down");
  assert.match(d.health().detail ?? "", /not found/);
  await d.stop();
});

test("tts: bad options are refused by the factory", () => {
  assert.throws(() => tts({ rate: 20 }), /rate must be a whole number of words per minute from 80 to 450, got 20/);
  assert.throws(() => tts({ voice: "-x" }), /voice "-x" is not an espeak-ng voice name/);
  assert.throws(() => tts({ maxChars: 0 }), /maxChars must be/);
  assert.throws(() => tts({ command: "" }), /command must be/);
});
