/**
 * The speaker driver: the shared driver contract and real aplay on ALSA's null device
 * (apt-get install alsa-utils), and the fake aplay of fake-player.ts as the audio sink for what
 * a sound card cannot show here: the exact bytes played, the order and the gaps between
 * playbacks, a failing player, abort, stop and timeout.
 */
import { strict as assert } from "node:assert";
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test, type TestContext } from "node:test";
import { childPids, driverContract, memoryLogger } from "../contract.js";
import { writeFakePlayer } from "./fake-player.js";
import { create, type SpeakerOptions } from "./index.js";

const RATE = 22_050;

/** A 16-bit mono PCM WAV of a sine tone: distinct bytes per frequency. */
function toneWav(ms: number, hz: number): Buffer {
  const samples = Math.round((RATE * ms) / 1000);
  const wav = Buffer.alloc(44 + samples * 2);
  wav.write("RIFF", 0, "latin1");
  wav.writeUInt32LE(wav.length - 8, 4);
  wav.write("WAVEfmt ", 8, "latin1");
  wav.writeUInt32LE(16, 16);
  wav.writeUInt16LE(1, 20); // PCM
  wav.writeUInt16LE(1, 22); // mono
  wav.writeUInt32LE(RATE, 24);
  wav.writeUInt32LE(RATE * 2, 28);
  wav.writeUInt16LE(2, 32);
  wav.writeUInt16LE(16, 34);
  wav.write("data", 36, "latin1");
  wav.writeUInt32LE(samples * 2, 40);
  for (let i = 0; i < samples; i++) wav.writeInt16LE(Math.round(8000 * Math.sin((2 * Math.PI * hz * i) / RATE)), 44 + i * 2);
  return wav;
}

/** A fake aplay writing into a fresh capture dir; both removed after the test. */
function fakeSink(t: TestContext) {
  const root = mkdtempSync(join(tmpdir(), "speaker-"));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const captures = join(root, "captures");
  const command = writeFakePlayer(join(root, "bin"), captures);
  return {
    command,
    captured: (n: number) => readFileSync(join(captures, `${n}.wav`)),
    wavs: () => readdirSync(captures).filter((f) => f.endsWith(".wav")).sort(),
    log: () => readFileSync(join(captures, "player.log"), "utf8").trim().split("\n").map((l) => l.split(" ")),
  };
}

/** Sets a FAKE_APLAY_* variable for this test only. */
function fakeEnv(t: TestContext, name: "FAKE_APLAY_EXIT" | "FAKE_APLAY_SLEEP", value: string): void {
  process.env[name] = value;
  t.after(() => void delete process.env[name]);
}

async function started(t: TestContext, options: SpeakerOptions) {
  const d = create(options, { logger: memoryLogger() });
  t.after(() => d.stop());
  await d.start();
  return d;
}

/** Resolves once the fake player has logged `count` starts. */
async function playerStarted(log: () => string[][], count: number): Promise<void> {
  for (const deadline = Date.now() + 5000; Date.now() < deadline; await new Promise((r) => setTimeout(r, 10))) {
    try {
      if (log().filter((l) => l[0] === "start").length >= count) return;
    } catch {
      // no log yet
    }
  }
  assert.fail(`the fake player did not start ${count} playback(s) within 5 s`);
}

driverContract("speaker", () => create({ device: "null" }, { logger: memoryLogger() }));

test("speaker: real aplay plays on ALSA's null device", async (t) => {
  const d = await started(t, { device: "null" });
  const { ms } = await d.play(toneWav(500, 440));
  assert.ok(ms > 0 && ms < 10_000, `${ms} ms`);
  assert.equal(d.health().state, "up");
  t.diagnostic(`aplay -D null: a 0.5 s WAV played in ${ms.toFixed(1)} ms (the null device does not pace)`);
});

test("speaker: real aplay on a card that does not exist rejects with its exit code and message", async (t) => {
  const d = await started(t, { device: "hw:99" });
  await assert.rejects(d.play(toneWav(200, 440)), /speaker: aplay -D hw:99 exited with code 1: .*audio open error/);
  assert.equal(d.health().state, "degraded");
  assert.match(d.health().detail ?? "", /hw:99/);
});

test("speaker: the player gets the exact bytes and the device", async (t) => {
  const sink = fakeSink(t);
  const d = await started(t, { command: sink.command, device: "hw:0" });
  const wav = toneWav(300, 523);
  await d.play(wav);
  assert.deepEqual(sink.wavs(), ["1.wav"]);
  assert.ok(sink.captured(1).equals(wav), "captured bytes are the WAV's");
  assert.deepEqual(sink.log()[0]?.slice(3), ["-q", "-D", "hw:0", "-"]);
  const byDefault = await started(t, { command: sink.command });
  await byDefault.play(wav);
  assert.deepEqual(sink.log()[2]?.slice(3), ["-q", "-"], "no -D: ALSA's default device");
});

test("speaker: a failing player is reported with its exit code and stderr, then health recovers", async (t) => {
  const sink = fakeSink(t);
  const d = await started(t, { command: sink.command, device: "hw:3" });
  fakeEnv(t, "FAKE_APLAY_EXIT", "3");
  // 10 s of sound (441 kB): far more than a pipe holds, so the player's unread stdin breaks too.
  await assert.rejects(d.play(toneWav(10_000, 440)), (err: Error) => {
    assert.match(err.message, /^speaker: .*aplay -D hw:3 exited with code 3: fake aplay: audio open error/);
    return true;
  });
  assert.equal(d.health().state, "degraded");
  delete process.env.FAKE_APLAY_EXIT;
  await d.play(toneWav(100, 440));
  assert.equal(d.health().state, "up");
});

test("speaker: phrases queued at once play one after another, in order, never overlapping", async (t) => {
  const sink = fakeSink(t);
  fakeEnv(t, "FAKE_APLAY_SLEEP", "0.2");
  const d = await started(t, { command: sink.command });
  const wavs = [toneWav(200, 300), toneWav(200, 400), toneWav(200, 500)];
  const results = await Promise.all(wavs.map((w) => d.play(w)));
  assert.deepEqual(sink.wavs(), ["1.wav", "2.wav", "3.wav"]);
  wavs.forEach((w, i) => assert.ok(sink.captured(i + 1).equals(w), `capture ${i + 1} is phrase ${i + 1}`));
  const log = sink.log();
  assert.deepEqual(log.map((l) => `${l[0]} ${l[1]}`), ["start 1", "end 1", "start 2", "end 2", "start 3", "end 3"]);
  const gaps = [1, 2].map((n) => (Number(BigInt(log[2 * n]?.[2] ?? "0") - BigInt(log[2 * n - 1]?.[2] ?? "0")) / 1e6).toFixed(1));
  t.diagnostic(`play ms ${results.map((r) => r.ms.toFixed(0)).join(", ")} (fake sleeps 200 ms); gaps between playbacks ${gaps.join(", ")} ms`);
});

test("speaker: abort kills the playing player; a queued playback aborted never starts", async (t) => {
  const before = childPids();
  const sink = fakeSink(t);
  fakeEnv(t, "FAKE_APLAY_SLEEP", "5");
  const d = await started(t, { command: sink.command });
  const first = new AbortController();
  const second = new AbortController();
  const playing = d.play(toneWav(100, 300), first.signal);
  const queued = d.play(toneWav(100, 400), second.signal);
  await playerStarted(sink.log, 1);
  second.abort();
  await assert.rejects(queued, { name: "AbortError" });
  const began = Date.now();
  first.abort();
  await assert.rejects(playing, { name: "AbortError" });
  assert.ok(Date.now() - began < 3000, "the 5 s playback was cut short");
  assert.deepEqual(sink.wavs(), [], "the killed player saved nothing");
  assert.equal(sink.log().filter((l) => l[0] === "start").length, 1, "the aborted queued WAV never reached the player");
  assert.deepEqual(childPids().filter((p) => !before.includes(p)), []);
  delete process.env.FAKE_APLAY_SLEEP;
  await d.play(toneWav(100, 500));
  assert.deepEqual(sink.wavs(), ["2.wav"], "the speaker plays on after an abort");
});

test("speaker: stop() ends the playing player and drops the queue", async (t) => {
  const before = childPids();
  const sink = fakeSink(t);
  fakeEnv(t, "FAKE_APLAY_SLEEP", "5");
  const d = await started(t, { command: sink.command });
  const playing = d.play(toneWav(100, 300));
  const queued = d.play(toneWav(100, 400));
  await playerStarted(sink.log, 1);
  await d.stop();
  await assert.rejects(playing, /stopped during playback/);
  await assert.rejects(queued, /stopped before this sound was played/);
  assert.deepEqual(childPids().filter((p) => !before.includes(p)), []);
  await assert.rejects(d.play(toneWav(100, 300)), /speaker driver is stopped: start\(\) it/);
});

test("speaker: a player still busy timeoutMs past the sound's length is killed", async (t) => {
  const sink = fakeSink(t);
  fakeEnv(t, "FAKE_APLAY_SLEEP", "5");
  const d = await started(t, { command: sink.command, timeoutMs: 200 });
  await assert.rejects(d.play(toneWav(100, 300)), /still playing 300 ms after starting a 0\.1 s sound and was killed/);
  assert.equal(d.health().state, "degraded");
});

test("speaker: what is not a WAV is refused without running the player", async (t) => {
  const sink = fakeSink(t);
  const d = await started(t, { command: sink.command });
  await assert.rejects(d.play(Buffer.from("not a wav at all")), /the 16 bytes to play are not a RIFF\/WAVE file/);
  assert.equal(existsSync(join(sink.command, "..", "..", "captures", "player.log")), false);
});

test("speaker: a missing program fails start() naming it", async () => {
  const d = create({ command: "/nonexistent/aplay" }, { logger: memoryLogger() });
  await assert.rejects(d.start(), /speaker: \/nonexistent\/aplay was not found: install alsa-utils/);
  assert.equal(d.health().state, "down");
  await d.stop();
});

test("speaker: bad options are refused by the factory", () => {
  const make = (o: SpeakerOptions) => create(o, { logger: memoryLogger() });
  assert.throws(() => make({ device: "" }), /device must be an ALSA device name/);
  assert.throws(() => make({ timeoutMs: 0 }), /timeoutMs must be/);
  assert.throws(() => make({ command: "" }), /command must be/);
});
