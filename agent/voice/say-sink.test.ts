/**
 * SpeakerSaySink with the real tts driver (espeak-ng) and the speaker driver playing into the
 * fake aplay of drivers/speaker/fake-player.ts (there is no sound card here). The round trip:
 * what was said is captured from the sink, converted with sox to 16 kHz mono and recognised by
 * pocketsphinx against a small grammar — it must come back as the same text.
 * Needs: apt-get install espeak-ng sox pocketsphinx pocketsphinx-en-us.
 */
import { strict as assert } from "node:assert";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { test, type TestContext } from "node:test";
import { memoryLogger } from "../../drivers/contract.js";
import { writeFakePlayer } from "../../drivers/speaker/fake-player.js";
import { create as createSpeaker, type SpeakerDriver } from "../../drivers/speaker/index.js";
import { create as createTts, type TtsDriver } from "../../drivers/tts/index.js";
import { SpeakerSaySink } from "./say-sink.js";

const MODEL = "/usr/share/pocketsphinx/model/en-us";
const GRAMMAR = `#JSGF V1.0;
grammar commands;
public <command> = (play | stop | pause) [<film>] [on the (tv | radio | kitchen speaker)];
<film> = inception | interstellar | tenet;
`;
const WORDS = ["play", "stop", "pause", "inception", "interstellar", "tenet", "on", "the", "tv", "radio", "kitchen", "speaker"];

interface Figures {
  readonly synthMs: number[];
  readonly playMs: number[];
}

/** The drivers, started, with their ms figures recorded; stopped after the test. */
async function rig(t: TestContext) {
  const dir = mkdtempSync(join(tmpdir(), "say-sink-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const captures = join(dir, "captures");
  const logger = memoryLogger();
  const tts = createTts({}, { logger });
  const speaker = createSpeaker({ command: writeFakePlayer(join(dir, "bin"), captures) }, { logger });
  t.after(() => tts.stop());
  t.after(() => speaker.stop());
  await tts.start();
  await speaker.start();
  const figures: Figures = { synthMs: [], playMs: [] };
  const timedTts: TtsDriver = {
    name: tts.name, capabilities: tts.capabilities, start: () => tts.start(), stop: () => tts.stop(), health: () => tts.health(),
    synthesize: async (text, opts, signal) => {
      const s = await tts.synthesize(text, opts, signal);
      figures.synthMs.push(s.ms);
      return s;
    },
  };
  const timedSpeaker: SpeakerDriver = {
    name: speaker.name, capabilities: speaker.capabilities, start: () => speaker.start(), stop: () => speaker.stop(), health: () => speaker.health(),
    play: async (wav, signal) => {
      const p = await speaker.play(wav, signal);
      figures.playMs.push(p.ms);
      return p;
    },
  };
  return { dir, tts, figures, sink: new SpeakerSaySink(timedTts, timedSpeaker), captured: (n: number) => readFileSync(join(captures, `${n}.wav`)) };
}

/** The grammar and a dictionary cut from cmudict for its words. */
function writeGrammar(dir: string): { gram: string; dict: string } {
  const gram = join(dir, "commands.gram");
  const dict = join(dir, "commands.dict");
  writeFileSync(gram, GRAMMAR);
  const wanted = new Set(WORDS);
  const lines = readFileSync(`${MODEL}/cmudict-en-us.dict`, "utf8").split("\n").filter((l) => wanted.has(l.split(" ")[0]?.replace(/\(\d+\)$/, "") ?? ""));
  assert.ok(WORDS.every((w) => lines.some((l) => l.startsWith(`${w} `))), "every grammar word is in cmudict");
  writeFileSync(dict, `${lines.join("\n")}\n`);
  return { gram, dict };
}

/** What pocketsphinx hears in a captured WAV, after sox makes it 16 kHz mono. */
function recognise(dir: string, wav: Buffer, name: string, g: { gram: string; dict: string }): { text: string; ms: number } {
  const captured = join(dir, `${name}.wav`);
  const pcm16k = join(dir, `${name}-16k.wav`);
  writeFileSync(captured, wav);
  const began = performance.now();
  execFileSync("sox", [captured, "-r", "16000", "-c", "1", "-b", "16", pcm16k]);
  const text = execFileSync("pocketsphinx_continuous", ["-infile", pcm16k, "-hmm", `${MODEL}/en-us`, "-jsgf", g.gram, "-dict", g.dict, "-logfn", "/dev/null"], { encoding: "utf8" }).trim();
  return { text, ms: performance.now() - began };
}

test("say sink: a ui.say reply captured from the audio sink is recognised back to the same text", async (t) => {
  const { dir, figures, sink, captured } = await rig(t);
  const g = writeGrammar(dir);
  const phrases = ["play inception on the tv", "stop interstellar on the radio"];
  const began = performance.now();
  await Promise.all(phrases.map((text) => sink.say({ text, lang: "en" })));
  const sayMs = performance.now() - began;
  const heard = phrases.map((_, i) => recognise(dir, captured(i + 1), `said-${i + 1}`, g));
  assert.deepEqual(heard.map((h) => h.text), phrases);
  t.diagnostic(`synthesis ms ${figures.synthMs.map((m) => m.toFixed(1)).join(", ")}; play ms (fake sink) ${figures.playMs.map((m) => m.toFixed(1)).join(", ")}; both say() calls ${sayMs.toFixed(0)} ms`);
  t.diagnostic(`recognised ${heard.map((h) => `"${h.text}" (${h.ms.toFixed(0)} ms sox + pocketsphinx)`).join(", ")}`);
});

test("say sink: phrases are played in the order said, even when a later one is synthesized first", async (t) => {
  const { tts, sink, captured } = await rig(t);
  const long = "this first phrase is a good deal longer than the second one and takes longer to synthesize";
  await Promise.all([sink.say({ text: long }), sink.say({ text: "short" })]);
  assert.ok(captured(1).equals((await tts.synthesize(long)).wav), "the long phrase played first");
  assert.ok(captured(2).equals((await tts.synthesize("short")).wav), "the short one second");
});

test("say sink: a failing step is named, and the next phrase is still spoken", async (t) => {
  const { tts, sink, captured } = await rig(t);
  await assert.rejects(sink.say({ text: "hello", voice: "zz-nonexistent" }), /^Error: say: synthesis failed: tts: espeak-ng -v zz-nonexistent exited with 1/);
  process.env.FAKE_APLAY_EXIT = "2";
  t.after(() => void delete process.env.FAKE_APLAY_EXIT);
  await assert.rejects(sink.say({ text: "hello" }), (err: Error) => {
    assert.match(err.message, /^say: playback failed: speaker: .*aplay \(ALSA default device\) exited with code 2: fake aplay: audio open error/);
    assert.ok(err.cause instanceof Error, "the driver's error is the cause");
    return true;
  });
  delete process.env.FAKE_APLAY_EXIT;
  await sink.say({ text: "hello again" });
  assert.ok(captured(1).equals((await tts.synthesize("hello again")).wav));
});
