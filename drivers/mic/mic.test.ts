/**
 * Tests of the mic driver against the fake arecord (drivers/mic/fake-recorder.ts) fed with
 * espeak-ng speech, and against the real arecord for the failures a user meets (no such program,
 * a device that does not open). Figures are printed (t.diagnostic), not asserted beyond generous
 * bounds.
 */
import { strict as assert } from "node:assert";
import { execFileSync } from "node:child_process";
import { chmodSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test, type TestContext } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import type { DriverHealth } from "../../abi/driver.js";
import { childPids, driverContract, memoryLogger } from "../contract.js";
import { writeFakeRecorder } from "./fake-recorder.js";
import { create, type MicDriver, type MicOptions } from "./index.js";

const BYTES_PER_S = 32_000;

function tempDir(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), "adaos-mic-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** The fake arecord behind a wrapper that sets its FAKE_MIC_* variables (and may say something on stderr). */
function fakeRecorder(dir: string, env: Record<string, string>, stderrLine?: string): string {
  const fake = writeFakeRecorder(dir);
  const wrapper = join(dir, "mic-under-test");
  const exports = Object.entries(env).map(([k, v]) => `export ${k}=${JSON.stringify(v)}`);
  const say = stderrLine === undefined ? [] : [`echo ${JSON.stringify(stderrLine)} >&2`];
  writeFileSync(wrapper, ["#!/bin/sh", ...exports, ...say, `exec ${JSON.stringify(fake)} "$@"`, ""].join("\n"));
  chmodSync(wrapper, 0o755);
  return wrapper;
}

function speechWav(dir: string, text: string): string {
  const wav = join(dir, "speech.wav");
  execFileSync("espeak-ng", ["-w", wav, text]);
  return wav;
}

/** The WAV as the recorder should deliver it: s16le 16 kHz mono, resampled by sox (no dither: reproducible). */
function rawOf(wav: string): Buffer {
  return execFileSync("sox", ["-D", wav, "-t", "raw", "-r", "16000", "-e", "signed", "-b", "16", "-c", "1", "-"], { maxBuffer: 64 << 20 });
}

function mic(t: TestContext, options: MicOptions): MicDriver {
  const d = create(options, { logger: memoryLogger() });
  t.after(() => d.stop());
  return d;
}

async function until(what: string, ok: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!ok()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

/** Pids of every live descendant of this process. */
function descendants(): number[] {
  const parent = new Map<number, number>();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (fields[0] !== "Z") parent.set(Number(entry), Number(fields[1]));
    } catch {
      // ended while we looked
    }
  }
  const ours = (pid: number): boolean => {
    for (let p = parent.get(pid); p !== undefined && p > 1; p = parent.get(p)) if (p === process.pid) return true;
    return false;
  };
  return [...parent.keys()].filter(ours);
}

function alive(pid: number): boolean {
  try {
    return !readFileSync(`/proc/${pid}/stat`, "utf8").includes(") Z ");
  } catch {
    return false;
  }
}

driverContract("mic", (t) => create({ recorder: fakeRecorder(tempDir(t), {}) }, { logger: memoryLogger() }));

test("mic: declares capability://audio.capture with pcm_s16le_16k_mono", () => {
  const d = create({}, { logger: memoryLogger() });
  assert.deepEqual(d.capabilities, [{ id: "capability://audio.capture", outputs: ["pcm_s16le_16k_mono"] }]);
});

test("mic: bad options are refused by name", () => {
  const logger = memoryLogger();
  assert.throws(() => create({ recorder: "parecord" }, { logger }), /option recorder must be one of arecord, sox, rec or an absolute program path/);
  assert.throws(() => create({ device: "" }, { logger }), /option device/);
  assert.throws(() => create({ backoff: { initialMs: 2000, maxMs: 1000 } }, { logger }), /backoff.maxMs/);
});

test("mic: espeak-ng speech arrives byte for byte at real-time pace, then silence", async (t) => {
  const dir = tempDir(t);
  const wav = speechWav(dir, "show inception on the tv");
  const expected = rawOf(wav);
  const d = mic(t, { recorder: fakeRecorder(dir, { FAKE_MIC_WAV: wav }) });
  const chunks: Buffer[] = [];
  let received = 0;
  let lastEnd = 0;
  let speechDoneAt: number | undefined;
  d.onAudio((chunk, audioMs) => {
    assert.equal(chunk.length % 2, 0, "chunks hold whole samples");
    assert.equal(audioMs, lastEnd, "audioMs continues where the previous chunk ended");
    lastEnd = audioMs + (chunk.length / BYTES_PER_S) * 1000;
    chunks.push(chunk);
    received += chunk.length;
    if (speechDoneAt === undefined && received >= expected.length + BYTES_PER_S / 2) speechDoneAt = Date.now();
  });
  const t0 = Date.now();
  await d.start();
  assert.equal(d.health().state, "up");
  await until("the speech and half a second of silence", () => speechDoneAt !== undefined);
  const got = Buffer.concat(chunks);
  assert.ok(got.subarray(0, expected.length).equals(expected), "the first bytes are the resampled WAV");
  assert.ok(got.subarray(expected.length).every((b) => b === 0), "then silence");
  const audioS = (expected.length + BYTES_PER_S / 2) / BYTES_PER_S;
  const wallS = ((speechDoneAt ?? 0) - t0) / 1000;
  t.diagnostic(`${expected.length} WAV bytes matched; ${audioS.toFixed(2)} s of audio in ${wallS.toFixed(2)} s wall (start to last byte)`);
  assert.ok(wallS > audioS * 0.7 && wallS < audioS + 3, `real-time pace: ${audioS} s of audio took ${wallS} s`);
  await d.stop();
});

test("mic: a recorder that dies is reported degraded with its code and stderr, restarted with backoff, up again", async (t) => {
  const dir = tempDir(t);
  const tone = join(dir, "tone.wav");
  execFileSync("sox", ["-n", "-r", "16000", "-c", "1", "-b", "16", tone, "synth", "0.3", "sine", "440", "vol", "0.3"]);
  const recorder = fakeRecorder(dir, { FAKE_MIC_WAV: tone, FAKE_MIC_THEN: "exit", FAKE_MIC_EXIT: "3" }, "fake: card unplugged");
  const d = mic(t, { recorder, backoff: { initialMs: 100, maxMs: 400 } });
  const seen: DriverHealth[] = [];
  let lastEnd = 0;
  let chunks = 0;
  d.onAudio((chunk, audioMs) => {
    assert.equal(audioMs, lastEnd, "audioMs is monotonic and gapless across restarts");
    lastEnd = audioMs + (chunk.length / BYTES_PER_S) * 1000;
    chunks += 1;
  });
  await d.start();
  const poll = setInterval(() => {
    const h = d.health();
    if (seen.at(-1)?.state !== h.state || seen.at(-1)?.restarts !== h.restarts) seen.push(h);
  }, 10);
  t.after(() => clearInterval(poll));
  await until("two restarts and audio again", () => d.health().restarts >= 2 && d.health().state === "up");
  clearInterval(poll);
  const degraded = seen.find((h) => h.state === "degraded");
  assert.ok(degraded !== undefined, JSON.stringify(seen));
  assert.match(degraded.detail ?? "", /exited with code 3: fake: card unplugged; restarting in 100 ms/);
  const firstUpAgain = seen.findIndex((h, i) => i > seen.indexOf(degraded) && h.state === "up");
  assert.ok(firstUpAgain > 0 && (seen[firstUpAgain]?.restarts ?? 0) >= 1, JSON.stringify(seen));
  const delays = seen.map((h) => /restarting in (\d+) ms/.exec(h.detail ?? "")?.[1]).filter((ms) => ms !== undefined);
  t.diagnostic(`states: ${seen.map((h) => `${h.state}/${h.restarts}`).join(" → ")}; backoff delays ${delays.join(", ")} ms; ${chunks} chunks, ${lastEnd.toFixed(0)} ms of audio`);
  assert.deepEqual(delays.slice(0, 2), ["100", "200"], "the delay doubles");
  await d.stop();
  const restartsAtStop = d.health().restarts;
  await sleep(600); // longer than any pending backoff: a cancelled restart must not happen
  assert.equal(d.health().state, "stopped");
  assert.equal(d.health().restarts, restartsAtStop);
});

test("mic: a program that does not exist makes start() reject naming it", async (t) => {
  const d = mic(t, { recorder: "/nonexistent/bin/arecord" });
  await assert.rejects(d.start(), /recorder program "\/nonexistent\/bin\/arecord" could not be run: not found/);
  assert.equal(d.health().state, "down");
  await d.stop();
  assert.equal(d.health().state, "stopped");
});

test("mic: the real arecord with a device that does not open makes start() reject with its exit code and stderr", async (t) => {
  const d = mic(t, { recorder: "arecord", device: "adaos_no_such_device" });
  await assert.rejects(d.start(), (err: Error) => {
    t.diagnostic(err.message);
    assert.match(err.message, /arecord exited with code 1: .*audio open error.*before any audio from device "adaos_no_such_device"/);
    return true;
  });
});

test("mic: a recorder that runs but sends nothing lets start() resolve degraded after firstAudioWaitMs", async (t) => {
  const silent = join(tempDir(t), "silent-recorder");
  writeFileSync(silent, "#!/bin/sh\nexec sleep 30\n");
  chmodSync(silent, 0o755);
  const d = mic(t, { recorder: silent, firstAudioWaitMs: 300 });
  await d.start();
  assert.equal(d.health().state, "degraded");
  assert.match(d.health().detail ?? "", /has sent no audio after 300 ms/);
  await d.stop();
  assert.equal(d.health().state, "stopped");
});

test("mic: a throwing listener is logged, the others still hear", async (t) => {
  const dir = tempDir(t);
  const logger = memoryLogger();
  const d = create({ recorder: fakeRecorder(dir, {}) }, { logger });
  t.after(() => d.stop());
  d.onAudio(() => {
    throw new Error("listener bug");
  });
  let heard = 0;
  const off = d.onAudio((chunk) => (heard += chunk.length));
  await d.start();
  await until("audio", () => heard > 0);
  off();
  const at = heard;
  await sleep(300);
  assert.equal(heard, at, "an unsubscribed listener hears nothing");
  assert.ok(logger.lines.some((l) => l.level === "error" && l.msg === "mic: an audio listener threw"));
  await d.stop();
});

test("mic: stop() kills the recorder and everything it started (sox, pv)", async (t) => {
  const dir = tempDir(t);
  const fifo = join(dir, "say");
  execFileSync("mkfifo", [fifo]);
  const wav = speechWav(dir, "show inception on the tv");
  const before = childPids();
  const d = mic(t, { recorder: fakeRecorder(dir, { FAKE_MIC_FIFO: fifo }) });
  let bytes = 0;
  d.onAudio((chunk) => (bytes += chunk.length));
  await d.start();
  writeFileSync(fifo, `${wav}\n`); // speak: sox and pv run while we stop
  await sleep(500);
  const tree = descendants();
  assert.ok(tree.length >= 2, `the fake runs with its player: ${tree.join(", ")}`);
  const t0 = Date.now();
  await d.stop();
  t.diagnostic(`stop() took ${Date.now() - t0} ms; ${tree.length} processes in the recorder's tree; ${bytes} bytes heard`);
  await until("every process of the recorder's tree to end", () => tree.every((p) => !alive(p)), 3000);
  assert.deepEqual(childPids().filter((p) => !before.includes(p)), []);
  await d.stop(); // idempotent
});
