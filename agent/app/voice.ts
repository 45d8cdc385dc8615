/**
 * Voice on this node (config voice.*): the intent rules (voice.intents, else
 * <data_dir>/intents.yaml when it exists) behind POST /api/intent/recognize; with voice.enabled
 * the microphone pipeline — mic driver → VAD segmenter → STT driver (pocketsphinx with a grammar
 * generated from the rules, or the user's command) → voice.input — and POST /api/voice/listen
 * (push to talk); with voice.tts.enabled espeak-ng and the speaker for ui.say; and on a hub the
 * voice commands that turn voice.input into plan runs. Drivers are loaded only when used.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { loadDriver, type DriverModule } from "../../drivers/registry.js";
import type { Bus } from "../bus/bus.js";
import { readJsonObject, sendJson, type Route } from "../api/http.js";
import { intentRoutes } from "../api/routes/intent.js";
import type { Config } from "../config/config.js";
import type { Clock } from "../core/clock.js";
import type { Component } from "../core/component.js";
import { BadRequestError, ConfigInvalidError } from "../core/errors.js";
import { componentLogger, type Logger } from "../core/logger.js";
import type { MetricsRegistry } from "../core/metrics.js";
import { grammarSource } from "../intent/grammar-source.js";
import { createRecognizer, type Recognizer } from "../intent/recognizer.js";
import { loadIntentRules, type IntentRules } from "../intent/rules-load.js";
import { planTemplates } from "../intent/templates.js";
import type { SaySink } from "../io/sinks.js";
import type { PlanApi } from "../plans/plan-port.js";
import { VoiceCommands, type IntentSource } from "../voice/commands.js";
import { VoicePipeline } from "../voice/pipeline.js";
import { SpeakerSaySink } from "../voice/say-sink.js";
import { UtteranceSegmenter } from "../voice/utterances.js";
import { driverComponent, retryingDriverComponent } from "./driver-component.js";

export const INTENTS_FILE = "intents.yaml";
export const LISTEN_PATH = "/api/voice/listen";

export interface VoiceDeps {
  readonly config: Config;
  readonly bus: Bus;
  readonly source: string;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly metrics: MetricsRegistry;
}

export interface VoiceParts {
  /** Drivers and the pipeline, in start order. */
  readonly components: readonly Component[];
  /** ui.say through espeak-ng and the speaker, when voice.tts.enabled. */
  readonly say: SaySink | undefined;
  readonly routes: readonly Route[];
  /** The hub's voice commands over its plan runtime (none without rules or plans). */
  commands(plans: PlanApi | undefined): readonly Component[];
}

function rulesFile(config: Config): string | undefined {
  if (config.voice.intents !== null) return config.voice.intents;
  const file = join(config.data_dir, INTENTS_FILE);
  return existsSync(file) ? file : undefined;
}

/** The intents as the voice commands use them: a language the rules lack is "not understood". */
function intentSource(recognizer: Recognizer, rules: IntentRules): IntentSource {
  const templates = planTemplates(rules);
  return {
    recognize: (text, lang) => {
      try {
        return recognizer.recognize(text, lang);
      } catch (err) {
        if (err instanceof BadRequestError) return null;
        throw err;
      }
    },
    planFor: (intent, slots) => templates.planFor(intent, slots),
  };
}

function listenRoute(pipeline: VoicePipeline, maxBodyBytes: number): Route {
  return {
    method: "POST",
    path: LISTEN_PATH,
    handler: async (req, res) => {
      const body = await readJsonObject(req, maxBodyBytes);
      const ms = body.window_ms;
      if (ms !== undefined && (typeof ms !== "number" || !Number.isInteger(ms) || ms < 1000 || ms > 600_000)) throw new BadRequestError("window_ms must be an integer from 1000 to 600000");
      sendJson(res, 200, { open_until: pipeline.listen(ms) });
    },
  };
}

/**
 * Reads the rules and loads the driver modules this config needs (the asynchronous part, done
 * before the agent is built); the builder it returns wires them to the agent's bus.
 */
export async function prepareVoice(config: Config): Promise<(d: VoiceDeps) => VoiceParts> {
  const v = config.voice;
  const file = rulesFile(config);
  const rules = file === undefined ? undefined : loadIntentRules(file);
  if (v.enabled && v.stt.engine === "pocketsphinx" && rules === undefined) {
    throw new ConfigInvalidError(`voice.enabled with the pocketsphinx engine needs intent rules to build its grammar: set voice.intents or put ${INTENTS_FILE} in ${config.data_dir}`);
  }
  if (v.enabled && v.stt.engine === "command" && v.stt.command.length === 0) throw new ConfigInvalidError("voice.stt.engine command needs voice.stt.command (the argv of your engine)");
  const mods: Mods = {
    tts: v.tts.enabled ? await loadDriver("tts") : undefined,
    speaker: v.tts.enabled ? await loadDriver("speaker") : undefined,
    mic: v.enabled ? await loadDriver("mic") : undefined,
    stt: v.enabled ? await loadDriver("stt") : undefined,
  };
  return (d) => buildVoice(d, rules, mods);
}

interface Mods {
  readonly tts: DriverModule<"tts"> | undefined;
  readonly speaker: DriverModule<"speaker"> | undefined;
  readonly mic: DriverModule<"mic"> | undefined;
  readonly stt: DriverModule<"stt"> | undefined;
}

function buildVoice(d: VoiceDeps, rules: IntentRules | undefined, mods: Mods): VoiceParts {
  const { config } = d;
  const v = config.voice;
  const logger = componentLogger(d.logger, "voice");
  const recognizer = rules === undefined ? undefined : createRecognizer(rules);
  const components: Component[] = [];
  const routes: Route[] = [...intentRoutes({ recognizer, bus: d.bus, source: d.source, tenant: config.tenant, clock: d.clock, maxBodyBytes: config.api.max_body_bytes, logger })];
  const ctx = (name: string) => ({ logger: componentLogger(d.logger, name) });

  let say: SaySink | undefined;
  if (mods.tts !== undefined && mods.speaker !== undefined) {
    const tts = mods.tts.create({ voice: v.tts.voice, rate: v.tts.rate }, ctx("tts"));
    const speaker = mods.speaker.create({ command: v.speaker.command, device: v.speaker.device }, ctx("speaker"));
    components.push(driverComponent(tts), driverComponent(speaker));
    say = new SpeakerSaySink(tts, speaker);
  }

  if (mods.mic !== undefined && mods.stt !== undefined) {
    const mic = mods.mic.create({ recorder: v.mic.recorder, device: v.mic.device }, ctx("mic"));
    const sttMod = mods.stt;
    const stt = v.stt.engine === "pocketsphinx"
      ? sttMod.create({ engine: "pocketsphinx", grammar: grammarSource(rules as IntentRules, v.lang), hmm: v.stt.model_dir, dictionary: v.stt.dictionary, lang: v.lang, timeoutMs: v.stt.timeout_ms }, ctx("stt"))
      : sttMod.create({ engine: "command", argv: v.stt.command, lang: v.lang, timeoutMs: v.stt.timeout_ms, input: v.stt.command.includes("{wav}") ? "wav-file" : "wav-stdin" }, ctx("stt"));
    const pipeline = new VoicePipeline({
      nodeId: config.node_id, lang: v.lang, guard: v.guard, listenWindowMs: v.listen_window_ms, audio: mic,
      segmenter: (onUtterance) => new UtteranceSegmenter({ prePaddingMs: v.vad.padding_ms, postPaddingMs: v.vad.padding_ms, endOfSpeechSilenceMs: v.vad.end_of_speech_ms, minSpeechMs: v.vad.min_speech_ms, maxUtteranceMs: v.vad.max_utterance_ms }, onUtterance),
      stt, bus: d.bus, source: d.source, tenant: config.tenant, clock: d.clock, logger, metrics: d.metrics,
    });
    // The recogniser first: the microphone's audio has somewhere to go when it starts.
    components.push(driverComponent(stt), pipeline, retryingDriverComponent(mic, componentLogger(d.logger, "mic"), d.clock));
    routes.push(listenRoute(pipeline, config.api.max_body_bytes));
  }

  return {
    components,
    say,
    routes,
    commands: (plans) => (recognizer === undefined || rules === undefined || plans === undefined ? [] : [new VoiceCommands({ intents: intentSource(recognizer, rules), plans, bus: d.bus, source: d.source, tenant: config.tenant, clock: d.clock, logger: componentLogger(d.logger, "voice.intent"), metrics: d.metrics })]),
  };
}
