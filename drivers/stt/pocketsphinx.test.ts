import { strict as assert } from "node:assert";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test, type TestContext } from "node:test";
import { childPids, driverContract, memoryLogger } from "../contract.js";
import { create } from "./index.js";
import type { PocketsphinxOptions, PocketsphinxStt } from "./pocketsphinx.js";
import { speak } from "./speech-fixtures.js";
import { silence } from "./wav.js";

// This file's own temp root: other test files (an agent with voice on) make adaos-stt dirs in the
// shared one at the same time, and the checks below count this driver's dirs.
const ownTmp = mkdtempSync(join(tmpdir(), "stt-psx-tmp-"));
process.env.TMPDIR = ownTmp;
after(() => rmSync(ownTmp, { recursive: true, force: true }));

const GRAMMAR = {
  patterns: ["show {title} on the tv", "play {title} on the tv", "stop the tv", "pause the tv"],
  slots: { title: ["inception", "interstellar", "arrival", "the matrix"] },
};

const PHRASES = [
  "show inception on the tv",
  "show interstellar on the tv",
  "show arrival on the tv",
  "show the matrix on the tv",
  "play inception on the tv",
  "play interstellar on the tv",
  "play arrival on the tv",
  "play the matrix on the tv",
  "stop the tv",
  "pause the tv",
];

const OUT_OF_GRAMMAR = ["what is the weather like today", "call my mother please", "i would like a cup of tea", "turn off the lights in the kitchen", "hello how are you"];

let audioDir: Promise<string> | undefined;
const audio = new Map<string, Promise<Buffer>>();
function spoken(phrase: string): Promise<Buffer> {
  audioDir ??= mkdtemp(join(tmpdir(), "stt-psx-test-"));
  let pcm = audio.get(phrase);
  if (pcm === undefined) {
    pcm = audioDir.then((dir) => speak(dir, phrase));
    audio.set(phrase, pcm);
  }
  return pcm;
}
after(async () => {
  if (audioDir !== undefined) await rm(await audioDir, { recursive: true, force: true });
});

function driver(t: TestContext, opts: Partial<PocketsphinxOptions> = {}): PocketsphinxStt {
  const d = create({ engine: "pocketsphinx", grammar: GRAMMAR, ...opts }, { logger: memoryLogger() }) as PocketsphinxStt;
  t.after(() => d.stop());
  return d;
}

async function ourTempDirs(): Promise<string[]> {
  return (await readdir(tmpdir())).filter((n) => n.startsWith("adaos-stt-"));
}

/** Word edits (substitutions, deletions, insertions) between two phrases. */
function wordErrors(ref: string, hyp: string): number {
  const r = ref.split(" ");
  const h = hyp.length > 0 ? hyp.split(" ") : [];
  let prev = Array.from({ length: h.length + 1 }, (_, j) => j);
  for (let i = 1; i <= r.length; i++) {
    const row = [i];
    for (let j = 1; j <= h.length; j++) row.push(Math.min((prev[j] ?? 0) + 1, (row[j - 1] ?? 0) + 1, (prev[j - 1] ?? 0) + (r[i - 1] === h[j - 1] ? 0 : 1)));
    prev = row;
  }
  return prev[h.length] ?? 0;
}

async function waitFor(what: string, ok: () => boolean, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

driverContract("stt pocketsphinx", () => create({ engine: "pocketsphinx", grammar: GRAMMAR }, { logger: memoryLogger() }));

test("stt pocketsphinx: ten in-grammar phrases spoken by espeak-ng, one process, accuracy and latency", async (t) => {
  const clips = await Promise.all(PHRASES.map(spoken));
  const d = driver(t);
  const t0 = performance.now();
  await d.start();
  const startMs = performance.now() - t0;
  const pid = d.pid;
  let exact = 0;
  let words = 0;
  let errors = 0;
  const latencies: number[] = [];
  for (const [i, phrase] of PHRASES.entries()) {
    const { text, ms } = await d.transcribe(clips[i] ?? Buffer.alloc(0));
    latencies.push(ms);
    words += phrase.split(" ").length;
    errors += wordErrors(phrase, text);
    if (text === phrase) exact++;
    t.diagnostic(`${JSON.stringify(phrase)} → ${JSON.stringify(text)} in ${ms.toFixed(0)} ms (${(clips[i]?.length ?? 0) / 32} ms of audio)`);
  }
  const sorted = [...latencies].sort((a, b) => a - b);
  const summary = `start ${startMs.toFixed(0)} ms; phrases exact ${exact}/${PHRASES.length}; word accuracy ${(100 * (1 - errors / words)).toFixed(1)}% (${words - errors}/${words}); latency per utterance min ${sorted[0]?.toFixed(0)} / median ${sorted[Math.floor(sorted.length / 2)]?.toFixed(0)} / max ${sorted.at(-1)?.toFixed(0)} ms`;
  t.diagnostic(summary);
  console.log(`# stt pocketsphinx figures: ${summary}`);
  assert.equal(d.pid, pid, "every utterance went through the same process");
  assert.equal(d.health().restarts, 0);
  assert.ok(exact >= 8, `at least 8/10 phrases exact: ${summary}`);
  assert.deepEqual(d.counts(), { dropped: 0, passedOver: 0, noMatch: 0, timeouts: 0 });
});

test("stt pocketsphinx: utterances written back to back are matched by stream position, a silent one settles empty", async (t) => {
  const phrases = ["stop the tv", "play the matrix on the tv", "show arrival on the tv", "pause the tv"];
  const clips = await Promise.all(phrases.map(spoken));
  const d = driver(t);
  await d.start();
  const inFlight = [clips[0], clips[1], silence(1500), clips[2], clips[3]].map((pcm) => d.transcribe(pcm ?? Buffer.alloc(0)));
  const results = (await Promise.all(inFlight)).map((r) => r.text);
  t.diagnostic(`results: ${JSON.stringify(results)}; counts ${JSON.stringify(d.counts())}`);
  assert.deepEqual(results, [phrases[0], phrases[1], "", phrases[2], phrases[3]]);
  assert.equal(d.counts().timeouts, 0, "the silent utterance was settled by the next answer, not by the timeout");
  assert.equal(d.counts().passedOver, 1);
});

test("stt pocketsphinx: silence alone settles empty after the timeout; an abort rejects only that utterance", async (t) => {
  const d = driver(t, { timeoutMs: 400 });
  await d.start();
  assert.equal((await d.transcribe(await spoken("stop the tv"))).text, "stop the tv");
  const quiet = await d.transcribe(silence(1000));
  t.diagnostic(`silence → ${JSON.stringify(quiet.text)} in ${quiet.ms.toFixed(0)} ms; counts ${JSON.stringify(d.counts())}`);
  assert.equal(quiet.text, "");
  assert.ok(quiet.ms >= 390, `resolved by the timeout: ${quiet.ms} ms`);
  assert.equal(d.counts().timeouts, 1);

  const ac = new AbortController();
  const aborted = d.transcribe(await spoken("stop the tv"), ac.signal);
  ac.abort();
  await assert.rejects(aborted, { name: "AbortError" });
  const next = await d.transcribe(await spoken("pause the tv"));
  assert.equal(next.text, "pause the tv");
  await assert.rejects(d.transcribe(Buffer.alloc(3)), /not whole 16-bit samples/);
  assert.deepEqual(await d.transcribe(Buffer.alloc(0)), { text: "", ms: 0 });
});

test("stt pocketsphinx: out-of-grammar sentences (reported; the grammar forces speech onto a command)", async (t) => {
  const clips = await Promise.all(OUT_OF_GRAMMAR.map(spoken));
  const d = driver(t);
  await d.start();
  let forced = 0;
  const seen: string[] = [];
  for (const [i, sentence] of OUT_OF_GRAMMAR.entries()) {
    const { text, ms } = await d.transcribe(clips[i] ?? Buffer.alloc(0));
    if (text.length > 0) forced++;
    seen.push(`${JSON.stringify(sentence)} → ${JSON.stringify(text)} (${ms.toFixed(0)} ms)`);
    const inGrammar = text === "" || /^(show|play) (inception|interstellar|arrival|the matrix) on the tv$|^(stop|pause) the tv$/.test(text);
    assert.ok(inGrammar, `only grammar phrases (or nothing) come out: ${text}`);
  }
  const summary = `${forced}/${OUT_OF_GRAMMAR.length} out-of-grammar sentences became a command: ${seen.join("; ")}; counts ${JSON.stringify(d.counts())}`;
  t.diagnostic(summary);
  console.log(`# stt pocketsphinx out-of-grammar: ${summary}`);
  assert.equal(d.counts().timeouts, 0, "a sentence that fits no grammar path is settled from pocketsphinx's log, not by the timeout");
});

test("stt pocketsphinx: the process killed mid-utterance → pending rejected, degraded, restarted, serving again", async (t) => {
  const clip = await spoken("show inception on the tv");
  const logger = memoryLogger();
  const d = create({ engine: "pocketsphinx", grammar: GRAMMAR }, { logger }) as PocketsphinxStt;
  t.after(() => d.stop());
  await d.start();
  const first = d.pid;
  assert.ok(first !== undefined);
  const pending = d.transcribe(Buffer.concat([clip, clip, clip]));
  process.kill(first, "SIGKILL");
  await assert.rejects(pending, /pocketsphinx_continuous exited \(signal SIGKILL\) while recognising/);
  assert.equal(d.health().state, "degraded");
  assert.match(d.health().detail ?? "", /exited \(signal SIGKILL\); restarting in \d+ ms/);
  await assert.rejects(d.transcribe(clip), /pocketsphinx is not running \(.*restarting/);
  const t0 = performance.now();
  await waitFor("the restart", () => d.health().state === "up");
  t.diagnostic(`back up ${(performance.now() - t0).toFixed(0)} ms after the kill was noticed`);
  assert.equal(d.health().restarts, 1);
  assert.notEqual(d.pid, first);
  assert.equal((await d.transcribe(clip)).text, "show inception on the tv");
  assert.ok(logger.lines.some((l) => l.level === "warn" && l.msg === "pocketsphinx exited; restarting"));
});

test("stt pocketsphinx: start fails with what to do — missing program, a word not in the dictionary, a bad model dir", async (t) => {
  const before = childPids();
  const dirsBefore = await ourTempDirs();
  const missing = driver(t, { command: "pocketsphinx_continuous_not_here" });
  await assert.rejects(missing.start(), /pocketsphinx_continuous_not_here was not found: install the Debian packages pocketsphinx and pocketsphinx-en-us/);
  assert.equal(missing.health().state, "stopped");

  const word = create({ engine: "pocketsphinx", grammar: { patterns: ["show {title} on the flurbtube"], slots: { title: ["zorbulon"] } } }, { logger: memoryLogger() });
  t.after(() => word.stop());
  await assert.rejects(word.start(), /2 words are not in .*cmudict-en-us\.dict: "flurbtube" \(pattern "show \{title\} on the flurbtube"\), "zorbulon" \(slot title: "zorbulon"\)/);

  const model = driver(t, { hmm: "/nonexistent/model" });
  await assert.rejects(model.start(), /pocketsphinx_continuous exited during start-up \(exit code \d+\); last stderr lines: .*nonexistent/);
  assert.equal(model.health().state, "stopped");
  assert.deepEqual(childPids().filter((p) => !before.includes(p)), []);
  assert.deepEqual(await ourTempDirs(), dirsBefore, "temp dirs removed");

  assert.throws(() => create({ engine: "pocketsphinx", grammar: GRAMMAR, vadPostSpeech: 0 }, { logger: memoryLogger() }), /vadPostSpeech 0 must be a whole number/);
  assert.throws(() => create({ engine: "wav2vec" } as never, { logger: memoryLogger() }), /unknown engine "wav2vec"; valid engines: pocketsphinx, command/);
});

test("stt pocketsphinx: stop removes the temp dir and rejects what is pending", async (t) => {
  const dirsBefore = await ourTempDirs();
  const d = driver(t);
  await d.start();
  assert.equal((await ourTempDirs()).length, dirsBefore.length + 1);
  const pending = assert.rejects(d.transcribe(await spoken("stop the tv")), /was stopped/);
  await d.stop();
  await pending;
  assert.deepEqual(await ourTempDirs(), dirsBefore);
  await assert.rejects(d.transcribe(await spoken("stop the tv")), /not running \(stopped\)/);
});
