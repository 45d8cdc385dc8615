/**
 * The voice layer above the drivers, with fakes of the audio source, the segmenter and the
 * recogniser (the drivers have their own tests): the push-to-talk guard, one command per push,
 * the backlog bound, empty text and recogniser errors counted, voice.input's shape; and the
 * commands: intent → plan run → "Playing … on …", not understood → said and printed, a degraded
 * run → a spoken notice, all in the input's correlation.
 */
import { strict as assert } from "node:assert";
import { test, type TestContext } from "node:test";
import type { Envelope } from "../../abi/envelope.js";
import { LocalBus } from "../bus/local-bus.js";
import { ManualClock } from "../core/clock.js";
import { createEnvelope } from "../core/envelope.js";
import { silentLogger } from "../core/logger.js";
import { MetricsRegistry } from "../core/metrics.js";
import { precompiledCatalog } from "../registry/precompiled.js";
import { FakePlanApi } from "../api/routes/plans-fake.js";
import { VoiceCommands, type IntentSource } from "./commands.js";
import { PRE_ROLL_MS } from "./listen-window.js";
import { MAX_QUEUED, VoicePipeline, type Transcriber, type Utterance } from "./pipeline.js";

const T0 = Date.UTC(2026, 0, 1);

function world(t: TestContext) {
  const clock = new ManualClock(T0);
  const bus = new LocalBus({ catalog: precompiledCatalog(), clock, logger: silentLogger(), metrics: new MetricsRegistry(), source: "agent://hub/hub-1" });
  const seen: Envelope[] = [];
  bus.subscribe(">", (e: Envelope) => void seen.push(e));
  t.after(() => bus.stop());
  return { clock, bus, seen, metrics: new MetricsRegistry() };
}

/** Lets the bus deliver (it drains each subscription asynchronously). */
const settle = async () => {
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
};

/** A pipeline whose audio, segmenter and recogniser the test drives by hand. */
async function pipeline(t: TestContext, guard: "push_to_talk" | "none", stt: Transcriber) {
  const w = world(t);
  let onAudio: ((chunk: Buffer, audioMs: number) => void) | undefined;
  let emit: ((u: Utterance) => void) | undefined;
  const p = new VoicePipeline({
    nodeId: "hub-1", lang: "en", guard, listenWindowMs: 8000,
    audio: { onAudio: (l) => { onAudio = l; return () => (onAudio = undefined); } },
    segmenter: (cb) => { emit = cb; return { push: () => undefined }; },
    stt, bus: w.bus, source: "agent://hub/hub-1", tenant: "default", clock: w.clock, logger: silentLogger(), metrics: w.metrics,
  });
  await p.start(new AbortController().signal);
  t.after(() => p.stop());
  /** Speech of `lengthMs` that ended `agoMs` before now on the audio clock. */
  const speak = (agoMs = 600, lengthMs = 1500) => {
    onAudio?.(Buffer.alloc(320), 10_000);
    const end = 10_010 - agoMs;
    emit?.({ pcm: Buffer.alloc(3200), speechStartMs: end - lengthMs, speechEndMs: end, endOfSpeechWaitMs: agoMs });
  };
  const inputs = () => w.seen.filter((e) => e.event_name === "voice.input");
  const count = (outcome: string) => Number(new RegExp(`adaos_voice_utterances_total\\{outcome="${outcome}"\\} (\\d+)`).exec(w.metrics.render())?.[1] ?? 0);
  return { ...w, p, speak, inputs, count };
}

const says = (text: string): Transcriber => ({ engine: "fake", transcribe: () => Promise.resolve({ text, ms: 12 }) });

test("push to talk: speech outside a window never reaches the recogniser; inside it does, once per push", async (t) => {
  let calls = 0;
  const v = await pipeline(t, "push_to_talk", { engine: "fake", transcribe: () => { calls++; return Promise.resolve({ text: "show inception on the tv", ms: 12 }); } });
  v.speak();
  await settle();
  assert.equal(calls, 0, "no window: not even recognised");
  assert.equal(v.count("guarded"), 1);
  assert.equal(v.inputs().length, 0);

  v.p.listen();
  v.clock.advance(3000); // pushed, then spoke for 1.5 s, then 0.6 s of silence ended the utterance
  v.speak();
  await settle();
  assert.equal(calls, 1);
  const [input] = v.inputs();
  assert.ok(input !== undefined);
  const payload = input.payload as { raw: string; modality: string; node_id: string; input_id: string; timings: Record<string, number> };
  assert.equal(payload.raw, "show inception on the tv");
  assert.equal(payload.modality, "voice");
  assert.equal(input.correlation_id, payload.input_id, "a voice input starts its own correlation");
  assert.equal(payload.timings.speech_end_epoch_ms, v.clock.now() - 600, "wall-clock end of speech from the audio clock");

  v.clock.advance(3000);
  v.speak();
  await settle();
  assert.equal(v.inputs().length, 1, "the command closed the window: the next speech needs another push");
  assert.equal(v.count("guarded"), 2);
});

test("push to talk: speech that began just before the push counts (pre-roll); a voice.listen event opens the window", async (t) => {
  const v = await pipeline(t, "push_to_talk", says("play arrival on the tv"));
  v.clock.advance(2000);
  v.bus.publish(createEnvelope({ event_name: "voice.listen", version: 1, source: "test", payload: { node_id: "hub-1" } }, v.clock));
  await settle();
  assert.ok(PRE_ROLL_MS >= 400);
  v.clock.advance(1);
  v.speak(100, 300); // began 399 ms before the push landed
  await settle();
  assert.equal(v.inputs().length, 1);
  v.p.listen();
  v.clock.advance(1);
  v.speak(100, PRE_ROLL_MS + 200); // began well before the push: not this window's
  await settle();
  await settle();
  assert.equal(v.inputs().length, 1);
  v.bus.publish(createEnvelope({ event_name: "voice.listen", version: 1, source: "test", payload: { node_id: "other-node" } }, v.clock));
  await settle();
  v.speak();
  await settle();
  assert.equal(v.inputs().length, 1, "a push for another node's microphone does not open ours");
});

test("guard none: every utterance is recognised; empty text and recogniser errors are counted, not published", async (t) => {
  const answers: (string | Error)[] = ["", new Error("pocketsphinx died"), "stop the tv"];
  const v = await pipeline(t, "none", { engine: "fake", transcribe: () => { const a = answers.shift(); return a instanceof Error ? Promise.reject(a) : Promise.resolve({ text: a ?? "", ms: 5 }); } });
  for (let i = 0; i < 3; i++) {
    v.speak();
    await settle();
    await settle();
  }
  assert.equal(v.count("empty"), 1);
  assert.equal(v.count("error"), 1);
  assert.deepEqual(v.inputs().map((e) => (e.payload as { raw: string }).raw), ["stop the tv"]);
});

test("a slow recogniser: utterances are taken in order, at most MAX_QUEUED wait, the oldest waiting is dropped", async (t) => {
  const release: (() => void)[] = [];
  let n = 0;
  const v = await pipeline(t, "none", { engine: "fake", transcribe: () => { const i = ++n; return new Promise((r) => release.push(() => r({ text: `utterance ${i}`, ms: 1 }))); } });
  for (let i = 0; i < MAX_QUEUED + 3; i++) v.speak();
  await settle();
  assert.equal(v.count("dropped"), 2, "1 in recognition, MAX_QUEUED waiting, the rest dropped");
  while (release.length > 0 || n < 1 + MAX_QUEUED) {
    release.shift()?.();
    await settle();
    await settle();
  }
  assert.deepEqual(v.inputs().map((e) => (e.payload as { raw: string }).raw), ["utterance 1", "utterance 2", "utterance 3"]);
});

const INTENTS: IntentSource = {
  recognize: (text) => (text.includes("inception") ? { intent: "media.find_and_show", slots: { title: "Inception" }, confidence: 1, lang: "en" } : text.includes("weather") ? { intent: "weather.now", slots: {}, confidence: 1, lang: "en" } : null),
  planFor: (intent, slots) => (intent === "media.find_and_show" ? { steps: [{ id: "find", need: "capability://media.search", args: { title: slots.title } }] } : undefined),
};

async function commands(t: TestContext) {
  const w = world(t);
  const plans = new FakePlanApi();
  const c = new VoiceCommands({ intents: INTENTS, plans, bus: w.bus, source: "agent://hub/hub-1", tenant: "default", clock: w.clock, logger: silentLogger(), metrics: w.metrics });
  await c.start(new AbortController().signal);
  t.after(() => c.stop());
  const input = (raw: string) => {
    const e = createEnvelope({ event_name: "voice.input", version: 1, source: "agent://hub/hub-1", correlation_id: `corr-${raw.length}`, payload: { input_id: "u1", raw, modality: "voice", node_id: "hub-1", timings: { speech_start_ms: 0, speech_end_ms: 1, stt_ms: 1 } } }, w.clock);
    w.bus.publish(e);
    return e;
  };
  const done = (run_id: string, state: string, steps: unknown[]) =>
    w.bus.publish(createEnvelope({ event_name: "plan.run.completed", version: 1, source: "agent://hub/hub-1", payload: { run_id, state, started_at: new Date(T0).toISOString(), finished_at: new Date(T0).toISOString(), duration_ms: 0, steps, failovers: 0 } }, w.clock));
  const of = (name: string, corr: string) => w.seen.filter((e) => e.event_name === name && e.correlation_id === corr);
  return { ...w, plans, input, done, of };
}

test("commands: intent → nlp.intent.detected and a plan run in the input's correlation → 'Playing Inception on Living-room TV'", async (t) => {
  const c = await commands(t);
  const e = c.input("show inception on the tv");
  await settle();
  const [detected] = c.of("nlp.intent.detected", e.correlation_id);
  assert.equal(detected?.causation_id, e.id);
  assert.deepEqual((detected?.payload as { slots: unknown }).slots, { title: "Inception" });
  assert.equal((detected?.payload as { modality: string }).modality, "voice");
  assert.equal(c.plans.requests.length, 1);
  assert.equal(c.plans.requests[0]?.correlation_id, e.correlation_id);
  assert.deepEqual(c.plans.requests[0]?.ctx, { origin: "hub-1" });
  c.done("plan-1", "completed", [{ id: "find", need: "capability://media.search", state: "done", node_id: "media", attempts: 1 }, { id: "display", need: "capability://display.play", state: "done", node_id: "tv", attempts: 1, outputs: { shown_by: "Living-room TV" } }]);
  await settle();
  const notes = c.of("ui.notify", e.correlation_id);
  assert.deepEqual(notes.map((n) => (n.payload as { text: string }).text), ["Playing Inception on Living-room TV"]);
  c.done("plan-1", "completed", []);
  await settle();
  assert.equal(c.of("ui.notify", e.correlation_id).length, 1, "a run is told once");
});

test("commands: a degraded run is said and printed; not understood is said; an intent without a plan is only published", async (t) => {
  const c = await commands(t);
  const e = c.input("show inception on the tv");
  await settle();
  c.done("plan-1", "degraded", [{ id: "find", need: "capability://media.search", state: "done", node_id: "media" }, { id: "display", need: "capability://display.play", state: "failed", node_id: null }]);
  await settle();
  const said = c.of("ui.say", e.correlation_id).map((n) => (n.payload as { text: string }).text);
  assert.deepEqual(said, ["Sorry, I could not play Inception: no display.play is available."]);
  assert.equal(c.of("ui.notify", e.correlation_id).length, 1);

  const huh = c.input("open the pod bay doors");
  await settle();
  assert.match((c.of("ui.say", huh.correlation_id)[0]?.payload as { text: string }).text, /did not understand "open the pod bay doors"/);
  assert.equal(c.of("nlp.intent.detected", huh.correlation_id).length, 0);

  const weather = c.input("weather please");
  await settle();
  assert.equal(c.of("nlp.intent.detected", weather.correlation_id).length, 1);
  assert.equal(c.plans.requests.length, 1, "no plan for weather.now");
});

test("commands: a plan the runtime refuses is said, not thrown", async (t) => {
  const c = await commands(t);
  c.plans.fail.exec = new Error("bad plan");
  const e = c.input("show inception on the tv");
  await settle();
  assert.match((c.of("ui.say", e.correlation_id)[0]?.payload as { text: string }).text, /cannot do/);
});
