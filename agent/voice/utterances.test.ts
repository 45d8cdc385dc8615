/**
 * Tests of the utterance segmenter: synthetic signals (silence, noise, tone bursts at set levels)
 * for the exact rules, and 40 espeak-ng commands mixed by sox with white noise at several levels
 * for the accuracy figures (printed with t.diagnostic; the notes' 40/40 down to -40 dBFS asserted).
 */
import { strict as assert } from "node:assert";
import { execFileSync } from "node:child_process";
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test, type TestContext } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { memoryLogger } from "../../drivers/contract.js";
import { writeFakeRecorder } from "../../drivers/mic/fake-recorder.js";
import { create as createMic } from "../../drivers/mic/index.js";
import { UtteranceSegmenter, type SegmenterOptions, type Utterance } from "./utterances.js";

const RATE = 16_000;
const BYTES_PER_MS = 32;

/** A signal builder: sections of silence, white noise and tone at given levels (dBFS RMS). */
class Signal {
  private readonly parts: Float64Array[] = [];
  private seed = 12345;

  /** Deterministic uniform noise in [-1, 1). */
  private random(): number {
    this.seed = (Math.imul(this.seed, 1103515245) + 12345) >>> 0;
    return this.seed / 2 ** 31 - 1;
  }

  silence(ms: number): this {
    this.parts.push(new Float64Array((ms * RATE) / 1000));
    return this;
  }

  noise(ms: number, dbfs: number): this {
    const amp = 10 ** (dbfs / 20) * Math.sqrt(3) * 32768; // uniform noise: RMS = amplitude / √3
    this.parts.push(Float64Array.from({ length: (ms * RATE) / 1000 }, () => this.random() * amp));
    return this;
  }

  tone(ms: number, dbfs: number, hz = 300): this {
    const amp = 10 ** (dbfs / 20) * Math.SQRT2 * 32768; // sine: RMS = amplitude / √2
    this.parts.push(Float64Array.from({ length: (ms * RATE) / 1000 }, (_, i) => amp * Math.sin((2 * Math.PI * hz * i) / RATE)));
    return this;
  }

  /** The sections one after another, plus noise at bedDbfs over all of it (none when undefined). */
  pcm(bedDbfs?: number): Buffer {
    const total = this.parts.reduce((n, p) => n + p.length, 0);
    const out = Buffer.alloc(total * 2);
    const amp = bedDbfs === undefined ? 0 : 10 ** (bedDbfs / 20) * Math.sqrt(3) * 32768;
    let i = 0;
    for (const part of this.parts) {
      for (const x of part) {
        const v = Math.round(x + (amp === 0 ? 0 : this.random() * amp));
        out.writeInt16LE(Math.max(-32768, Math.min(32767, v)), 2 * i);
        i += 1;
      }
    }
    return out;
  }
}

/** Runs pcm through a segmenter in chunks of chunkBytes (default 100 ms), then flushes. */
function segment(pcm: Buffer, opts: SegmenterOptions = {}, chunkBytes = 3200): Utterance[] {
  const out: Utterance[] = [];
  const seg = new UtteranceSegmenter(opts, (u) => out.push(u));
  for (let at = 0; at < pcm.length; at += chunkBytes) seg.push(pcm.subarray(at, at + chunkBytes), at / BYTES_PER_MS);
  seg.flush();
  return out;
}

const near = (actual: number, expected: number, tolerance: number, what: string) =>
  assert.ok(Math.abs(actual - expected) <= tolerance, `${what}: ${actual} is not within ${tolerance} of ${expected}`);

test("silence and steady noise alone make no utterance", () => {
  assert.deepEqual(segment(new Signal().silence(5000).pcm()), []);
  assert.deepEqual(segment(new Signal().noise(8000, -40).pcm()), []);
  assert.deepEqual(segment(new Signal().noise(8000, -30).pcm()), []);
});

test("a tone burst in quiet noise is one utterance with exact boundaries, padding and wait", () => {
  const pcm = new Signal().silence(1500).tone(1000, -20).silence(2000).pcm(-60);
  const [u, ...rest] = segment(pcm);
  assert.ok(u !== undefined);
  assert.deepEqual(rest, []);
  near(u.speechStartMs, 1500, 30, "speechStartMs");
  near(u.speechEndMs, 2500, 30, "speechEndMs");
  assert.equal(u.endOfSpeechWaitMs, 600);
  assert.equal(u.endedBy, "silence");
  assert.equal(u.pcm.length / BYTES_PER_MS, u.speechEndMs - u.speechStartMs + 300 + 300, "speech plus 300 ms of padding each side");
});

test("chunking does not change the utterances (odd, tiny and large chunks)", () => {
  const pcm = new Signal().noise(1000, -50).tone(700, -25).noise(900, -50).tone(1200, -15).noise(1500, -50).pcm();
  const reference = segment(pcm);
  assert.equal(reference.length, 2);
  for (const size of [1, 333, 961, 64_000]) assert.deepEqual(segment(pcm, {}, size), reference, `chunks of ${size} bytes`);
});

test("bursts shorter than minSpeechMs are dropped; longer ones kept", () => {
  const pcm = new Signal().silence(1000).tone(90, -20).silence(1500).tone(150, -20).silence(1500).tone(400, -20).silence(1500).pcm(-60);
  const us = segment(pcm);
  assert.equal(us.length, 1);
  near(us[0]?.speechStartMs ?? 0, 4240, 30, "the 400 ms burst");
  assert.equal(segment(pcm, { minSpeechMs: 60 }).length, 3, "a lower minSpeechMs keeps them all");
});

test("a pause shorter than end-of-speech silence joins, a longer one splits; the silence is configurable", () => {
  const pcm = new Signal().silence(1000).tone(500, -20).silence(400).tone(500, -20).silence(1000).tone(500, -20).silence(800).tone(500, -20).silence(1500).pcm(-60);
  const byDefault = segment(pcm);
  assert.equal(byDefault.length, 3, "600 ms: the 400 ms pause joins, the 1000 and 800 ms ones split");
  near(byDefault[0]?.speechEndMs ?? 0, 2400, 30, "first utterance spans both bursts");
  const quick = segment(pcm, { endOfSpeechSilenceMs: 300, postPaddingMs: 150 });
  assert.equal(quick.length, 4, "300 ms: every pause splits");
  assert.ok(quick.every((u) => u.endOfSpeechWaitMs === 300));
  const patient = segment(pcm, { endOfSpeechSilenceMs: 900 });
  assert.equal(patient.length, 2, "900 ms: only the 1000 ms pause splits");
});

test("speech longer than maxUtteranceMs is cut there, and the rest follows without overlap", () => {
  // Syllables: 250 ms of tone, 60 ms of quiet — speech-like, so the noise floor stays low (a steady
  // tone would become the floor after the 3 s window, as a fan does).
  const s = new Signal().silence(1000);
  for (let i = 0; i < 45; i += 1) s.tone(250, -20).silence(60);
  const pcm = s.silence(1500).pcm(-60);
  const us = segment(pcm);
  assert.equal(us.length, 2);
  const [first, second] = us as [Utterance, Utterance];
  assert.equal(first.endedBy, "max_length");
  assert.equal(first.pcm.length / BYTES_PER_MS, 9990, "cut at the last whole frame within 10 s");
  assert.equal(first.endOfSpeechWaitMs, 0);
  assert.equal(second.endedBy, "silence");
  assert.equal(Buffer.concat([first.pcm, second.pcm]).length / BYTES_PER_MS, second.speechEndMs + 300 - (first.speechStartMs - 300), "no audio repeated or lost between the two");
  near(second.speechEndMs, 1000 + 45 * 310 - 60, 30, "the second ends with the speech");
  assert.equal(segment(pcm, { maxUtteranceMs: 4000 }).length, 4);
});

test("flush() emits speech still in progress at the end of the stream", () => {
  const us = segment(new Signal().silence(1000).tone(800, -20).silence(200).pcm(-60));
  assert.equal(us.length, 1);
  assert.equal(us[0]?.endedBy, "flush");
  assert.equal(us[0]?.endOfSpeechWaitMs, 180, "whole frames only: the last 20 ms do not make a frame");
});

test("tone bursts at several levels over -40 dBFS noise: loud ones found, ones within the noise not", () => {
  const levels = [-10, -20, -25, -28, -31, -34, -37, -40];
  const s = new Signal().noise(2000, -60);
  for (const level of levels) s.tone(600, level).silence(1500);
  const us = segment(s.pcm(-40));
  const found = levels.filter((_, i) => us.some((u) => Math.abs(u.speechStartMs - (2000 + i * 2100)) <= 60));
  assert.deepEqual(found, levels.filter((l) => l >= -31), `found ${found.join(", ")} dBFS`);
  assert.equal(us.length, found.length, "no utterance from the noise itself");
});

test("noise that steps up and stays becomes the floor within the window: one false utterance at most", () => {
  const us = segment(new Signal().noise(3000, -65).noise(15_000, -35).pcm());
  assert.ok(us.length <= 1, JSON.stringify(us.map((u) => [u.speechStartMs, u.speechEndMs])));
  assert.ok(us.every((u) => u.speechEndMs <= 3000 + 3100), "adapted within the 3 s floor window");
});

test("coloured noise: pink noise makes no utterance; brown and loudness-modulated noise are the energy VAD's limit", (t) => {
  const falseUtterances = (effect: string[]) => {
    const pcm = execFileSync("sox", ["-R", "-n", "-t", "raw", "-r", "16000", "-e", "signed", "-b", "16", "-c", "1", "-", "synth", "60", ...effect], { maxBuffer: 64 << 20 });
    return segment(pcm).length;
  };
  const pink = falseUtterances(["pinknoise", "vol", "0.03"]);
  const brown = falseUtterances(["brownnoise", "vol", "0.03"]);
  const swelling = falseUtterances(["pinknoise", "vol", "0.03", "tremolo", "0.3", "60"]);
  t.diagnostic(`false utterances in 60 s of noise: pink ${pink}, brown ${brown}, pink swelling ±60 % at 0.3 Hz ${swelling}`);
  assert.equal(pink, 0);
});

// ---- espeak-ng speech mixed with noise -----------------------------------------------------------

const PHRASES = [
  "show inception on the tv", "turn on the kitchen lights", "pause the film", "what time is it", "play some jazz",
  "stop", "turn the volume down", "show the weather", "open the garage", "switch off the bedroom lamp",
  "next episode", "set a timer for ten minutes", "show the news", "resume playback", "mute",
  "turn off the television", "show me the cameras", "play the matrix", "close the curtains", "good night",
];

interface Truth {
  readonly startMs: number;
  readonly endMs: number;
}

function tempDir(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), "adaos-vad-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const toRaw = (wav: string): Buffer => execFileSync("sox", ["-D", wav, "-t", "raw", "-r", "16000", "-e", "signed", "-b", "16", "-c", "1", "-"], { maxBuffer: 64 << 20 });

/** Where the speech in clean pcm starts and ends: the first and last 10 ms with any sample over -40 dBFS. */
function speechBounds(pcm: Buffer): Truth {
  const threshold = 32768 * 10 ** (-40 / 20);
  let first = -1;
  let last = -1;
  for (let i = 0; i < pcm.length / 2; i += 1) {
    if (Math.abs(pcm.readInt16LE(2 * i)) > threshold) {
      if (first < 0) first = i;
      last = i;
    }
  }
  return { startMs: first / 16, endMs: last / 16 };
}

/** 40 espeak-ng commands with 1.2–2.4 s pauses after a 1.5 s lead-in, as one clean WAV, and where each one's speech is. */
function speechTrack(dir: string): { wav: string; truth: Truth[]; seconds: number } {
  const parts: Buffer[] = [Buffer.alloc(1500 * BYTES_PER_MS)];
  const truth: Truth[] = [];
  let atMs = 1500;
  for (let i = 0; i < 40; i += 1) {
    const wav = join(dir, `phrase-${i}.wav`);
    // Two voices and speeds, so the 40 are not 20 pairs of identical signals.
    execFileSync("espeak-ng", ["-w", wav, "-s", i < 20 ? "160" : "190", "-v", i < 20 ? "en-us" : "en", PHRASES[i % PHRASES.length] ?? ""]);
    const raw = toRaw(wav);
    const b = speechBounds(raw);
    truth.push({ startMs: atMs + b.startMs, endMs: atMs + b.endMs });
    const pauseMs = 1200 + ((i * 373) % 1200);
    parts.push(raw, Buffer.alloc(pauseMs * BYTES_PER_MS));
    atMs += raw.length / BYTES_PER_MS + pauseMs;
  }
  const raw = Buffer.concat(parts);
  const rawPath = join(dir, "track.raw");
  writeFileSync(rawPath, raw);
  const wav = join(dir, "track.wav");
  execFileSync("sox", ["-t", "raw", "-r", "16000", "-e", "signed", "-b", "16", "-c", "1", rawPath, wav]);
  return { wav, truth, seconds: raw.length / BYTES_PER_MS / 1000 };
}

/** RMS level of s16le pcm in dBFS (full-scale amplitude = 0 dB, so a full-scale sine is -3). */
function rmsDbfs(pcm: Buffer): number {
  let sum = 0;
  for (let i = 0; i < pcm.length; i += 2) sum += pcm.readInt16LE(i) ** 2;
  return 10 * Math.log10(sum / (pcm.length / 2) / 32768 ** 2);
}

const whiteNoise = (seconds: number, vol: number, out: string) =>
  execFileSync("sox", ["-R", "-n", "-r", "16000", "-c", "1", "-b", "16", out, "synth", String(seconds), "whitenoise", "vol", vol.toFixed(6)]);

/** The track mixed (sox -m, unscaled) with sox white noise whose RMS level is dbfs, measured. */
function withNoise(dir: string, wav: string, seconds: number, dbfs: number): { pcm: Buffer; noiseDbfs: number } {
  // sox's whitenoise at "vol 1" is not at 0 dBFS RMS (about -10): calibrate once, then scale.
  const probe = join(dir, "probe.wav");
  whiteNoise(2, 0.1, probe);
  const vol = 0.1 * 10 ** ((dbfs - rmsDbfs(toRaw(probe))) / 20);
  const noise = join(dir, `noise${dbfs}.wav`);
  whiteNoise(seconds, vol, noise);
  const mixed = join(dir, `mixed${dbfs}.wav`);
  execFileSync("sox", ["-R", "-m", "-v", "1", wav, "-v", "1", noise, mixed]);
  return { pcm: toRaw(mixed), noiseDbfs: rmsDbfs(toRaw(noise)) };
}

interface Score {
  readonly segmented: number;
  readonly extra: number;
  readonly startErr: number[];
  readonly endErr: number[];
}

/** A phrase is segmented when exactly one utterance overlaps it and that one overlaps no other phrase. */
function score(truth: readonly Truth[], us: readonly Utterance[]): Score {
  const overlaps = (u: Utterance, t: Truth) => u.speechStartMs < t.endMs && u.speechEndMs > t.startMs;
  let segmented = 0;
  const startErr: number[] = [];
  const endErr: number[] = [];
  for (const t of truth) {
    const hits = us.filter((u) => overlaps(u, t));
    const [u] = hits;
    if (hits.length === 1 && u !== undefined && truth.filter((o) => overlaps(u, o)).length === 1) {
      segmented += 1;
      startErr.push(u.speechStartMs - t.startMs);
      endErr.push(u.speechEndMs - t.endMs);
    }
  }
  return { segmented, extra: us.filter((u) => !truth.some((t) => overlaps(u, t))).length, startErr, endErr };
}

const summary = (xs: number[]) => (xs.length === 0 ? "-" : `median ${[...xs].sort((a, b) => a - b)[xs.length >> 1]?.toFixed(0)} ms, range ${Math.min(...xs).toFixed(0)}…${Math.max(...xs).toFixed(0)} ms`);

test("40 espeak-ng commands in white noise: segmented 40/40 down to -40 dBFS noise; figures per level", (t) => {
  const dir = tempDir(t);
  const { wav, truth, seconds } = speechTrack(dir);
  const results = new Map<string, Score>();
  const clean = toRaw(wav);
  const speechOnly = Buffer.concat(truth.map((s) => clean.subarray(Math.round(s.startMs) * BYTES_PER_MS, Math.round(s.endMs) * BYTES_PER_MS)));
  t.diagnostic(`speech level ${rmsDbfs(speechOnly).toFixed(1)} dBFS RMS (over the speech only)`);
  for (const level of [undefined, -60, -50, -40, -35, -30, -25] as const) {
    const mixed = level === undefined ? { pcm: clean, noiseDbfs: -Infinity } : withNoise(dir, wav, seconds, level);
    const s = score(truth, segment(mixed.pcm));
    const label = level === undefined ? "clean" : `${level} dBFS`;
    results.set(label, s);
    const measured = level === undefined ? "" : ` (measured ${mixed.noiseDbfs.toFixed(1)})`;
    t.diagnostic(`${label}${measured}: ${s.segmented}/40 segmented, ${s.extra} extra; start error ${summary(s.startErr)}; end error ${summary(s.endErr)}`);
  }
  for (const label of ["clean", "-60 dBFS", "-50 dBFS", "-40 dBFS"]) {
    assert.equal(results.get(label)?.segmented, 40, label);
    assert.equal(results.get(label)?.extra, 0, label);
  }
  assert.ok((results.get("-30 dBFS")?.segmented ?? 0) >= 36, "-30 dBFS: at least 36/40");
});

test("through the mic driver: speech written into the fake recorder's fifo comes out as one utterance", async (t) => {
  const dir = tempDir(t);
  const fifo = join(dir, "say");
  execFileSync("mkfifo", [fifo]);
  const wav = join(dir, "say.wav");
  execFileSync("espeak-ng", ["-w", wav, "show inception on the tv"]);
  const recorder = join(dir, "arecord-fifo");
  writeFileSync(recorder, `#!/bin/sh\nexport FAKE_MIC_FIFO=${JSON.stringify(fifo)}\nexec ${JSON.stringify(writeFakeRecorder(dir))} "$@"\n`);
  chmodSync(recorder, 0o755);
  const mic = createMic({ recorder }, { logger: memoryLogger() });
  t.after(() => mic.stop());
  const heard: { u: Utterance; at: number }[] = [];
  const seg = new UtteranceSegmenter({}, (u) => heard.push({ u, at: Date.now() }));
  let audioAtWall: { audioMs: number; wall: number } | undefined;
  mic.onAudio((chunk, audioMs) => {
    audioAtWall = { audioMs: audioMs + chunk.length / BYTES_PER_MS, wall: Date.now() };
    seg.push(chunk, audioMs);
  });
  await mic.start();
  await sleep(800);
  const spokenAtMs = audioAtWall?.audioMs ?? 0;
  writeFileSync(fifo, `${wav}\n`);
  const deadline = Date.now() + 8000;
  while (heard.length === 0 && Date.now() < deadline) await sleep(20);
  await sleep(1000); // nothing more may come
  await mic.stop();
  assert.equal(heard.length, 1, JSON.stringify(heard.map((h) => [h.u.speechStartMs, h.u.speechEndMs])));
  const { u } = heard[0] as { u: Utterance; at: number };
  assert.ok(u.speechStartMs >= spokenAtMs - 30 && u.speechStartMs < spokenAtMs + 500, `speech starts once it was written, to the frame (${u.speechStartMs} vs ${spokenAtMs})`);
  near(u.speechEndMs - u.speechStartMs, 1600, 400, "about the phrase's length");
  t.diagnostic(`utterance ${u.speechStartMs.toFixed(0)}–${u.speechEndMs.toFixed(0)} ms of audio (written at ${spokenAtMs.toFixed(0)}), ${u.pcm.length} bytes, end-of-speech wait ${u.endOfSpeechWaitMs} ms`);
});
