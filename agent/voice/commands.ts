/**
 * Voice commands on the hub: voice.input → intent → plan → run → a notice for the user. The
 * headline flow: "show inception on the tv" → media.find_and_show {title: Inception} → the
 * plan template (find → stream → display) → the plan runtime binds and runs it → "Playing
 * Inception on Living-room TV".
 *
 * Rules of this component:
 * - Everything it publishes carries the voice.input's correlation_id (and causation_id), so a
 *   whole command is one correlation from the microphone to the screen.
 * - An input whose text matches no intent rule gets a spoken and printed "did not understand"
 *   (voice input has no screen to fall back on); an intent without a plan template is published as
 *   nlp.intent.detected only (scenarios may act on it).
 * - A run that completes → ui.notify "Playing <title> on <screen>" (the display step's
 *   `shown_by`); degraded or failed → ui.say and ui.notify saying what could not be done (the
 *   plan runtime's own notice names the step). Only runs it started are followed, for at most
 *   FOLLOW_MS; the plan runtime ends every run, so a lost plan.run.completed only loses a notice.
 * - Text typed to POST /api/intent/recognize does not start plans here: recognising is not
 *   acting. A scenario on nlp.intent.detected is the way to act on text.
 */
import type { Envelope } from "../../abi/envelope.js";
import type { Bus, Subscription } from "../bus/bus.js";
import type { Clock } from "../core/clock.js";
import type { Component } from "../core/component.js";
import { publishOrLog } from "../bus/publish-or-log.js";
import { uuidv7 } from "../core/ids.js";
import type { Logger } from "../core/logger.js";
import type { Counter, MetricsRegistry } from "../core/metrics.js";
import type { PlanApi } from "../plans/plan-port.js";

/** How long a started run is followed for its notice. */
export const FOLLOW_MS = 10 * 60_000;

export interface Intent {
  readonly intent: string;
  readonly slots: Readonly<Record<string, string>>;
  readonly confidence: number;
  readonly lang: string;
}

export interface IntentSource {
  recognize(text: string, lang?: string): Intent | null;
  /** The plan for an intent with its slots filled in, or undefined when the intent has none. */
  planFor(intent: string, slots: Readonly<Record<string, string>>): unknown;
}

export interface VoiceCommandsOptions {
  readonly intents: IntentSource;
  readonly plans: PlanApi;
  readonly bus: Bus;
  readonly source: string;
  readonly tenant: string;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly metrics: MetricsRegistry;
}

interface Followed {
  readonly correlationId: string;
  readonly causationId: string;
  readonly what: string;
  readonly until: number;
}

interface Completed {
  run_id?: unknown;
  state?: unknown;
  steps?: { id?: unknown; need?: unknown; state?: unknown; outputs?: Record<string, unknown> }[];
}

export class VoiceCommands implements Component {
  readonly name = "voice.intent";
  readonly #followed = new Map<string, Followed>();
  readonly #outcomes: Counter;
  #subs: Subscription[] = [];

  constructor(private readonly opts: VoiceCommandsOptions) {
    this.#outcomes = opts.metrics.counter("adaos_voice_commands_total", "Voice inputs by outcome: planned, intent_only, not_understood, rejected.");
  }

  start(signal: AbortSignal): Promise<void> {
    signal.throwIfAborted();
    this.#subs = [
      this.opts.bus.subscribe("voice.input", (e: Envelope) => this.#input(e)),
      this.opts.bus.subscribe("plan.run.completed", (e: Envelope) => this.#completed(e)),
    ];
    return Promise.resolve();
  }

  stop(): Promise<void> {
    for (const s of this.#subs) s.unsubscribe();
    this.#subs = [];
    this.#followed.clear();
    return Promise.resolve();
  }

  #input(e: Envelope): void {
    const p = e.payload as { raw?: unknown; lang?: unknown; node_id?: unknown };
    const raw = typeof p.raw === "string" ? p.raw : "";
    const lang = typeof p.lang === "string" ? p.lang : undefined;
    const hit = this.opts.intents.recognize(raw, lang);
    const ctx = { correlation_id: e.correlation_id, causation_id: e.id };
    if (hit === null) {
      this.#outcomes.inc({ outcome: "not_understood" });
      this.#tell(ctx, `Sorry, I did not understand "${raw}".`, "info");
      return;
    }
    this.#publish("nlp.intent.detected", ctx, {
      intent_id: uuidv7(), intent: hit.intent, slots: hit.slots, confidence: hit.confidence, locale: hit.lang, text: raw, modality: "voice",
    });
    const plan = this.opts.intents.planFor(hit.intent, hit.slots);
    if (plan === undefined) {
      this.#outcomes.inc({ outcome: "intent_only" });
      return;
    }
    const what = hit.slots.title ?? hit.intent;
    try {
      const run = this.opts.plans.exec({ plan, ctx: typeof p.node_id === "string" ? { origin: p.node_id } : {}, correlation_id: e.correlation_id });
      this.#followed.set(run.run_id, { ...ctx, correlationId: e.correlation_id, causationId: e.id, what, until: this.opts.clock.now() + FOLLOW_MS });
      this.#outcomes.inc({ outcome: "planned" });
      this.opts.logger.info({ intent: hit.intent, slots: hit.slots, run_id: run.run_id }, "voice command planned");
    } catch (err) {
      this.#outcomes.inc({ outcome: "rejected" });
      this.opts.logger.error({ err, intent: hit.intent }, "the plan for a voice command was refused");
      this.#tell(ctx, `Sorry, I cannot do "${raw}" now.`, "error");
    }
  }

  #completed(e: Envelope): void {
    const p = e.payload as Completed;
    const now = this.opts.clock.now();
    for (const [id, f] of this.#followed) if (f.until < now) this.#followed.delete(id);
    if (typeof p.run_id !== "string") return;
    const f = this.#followed.get(p.run_id);
    if (f === undefined) return;
    this.#followed.delete(p.run_id);
    const ctx = { correlation_id: f.correlationId, causation_id: e.id };
    const steps = p.steps ?? [];
    const shown = steps.find((s) => s.state === "done" && typeof s.outputs?.shown_by === "string");
    if (p.state === "completed") {
      const where = shown === undefined ? "" : ` on ${String(shown.outputs?.shown_by)}`;
      this.#publish("ui.notify", ctx, { text: `Playing ${f.what}${where}`, level: "success", title: "Voice command", origin: "voice" });
      return;
    }
    const missing = steps.filter((s) => s.state === "failed").map((s) => String(s.need ?? s.id).replace("capability://", ""));
    this.#tell(ctx, `Sorry, I could not play ${f.what}${missing.length > 0 ? `: no ${missing.join(", ")} is available` : ""}.`, "warning");
  }

  /** Said and printed: a voice user may not be looking at a screen. */
  #tell(ctx: { correlation_id: string; causation_id: string }, text: string, level: "info" | "warning" | "error"): void {
    this.#publish("ui.say", ctx, { text });
    this.#publish("ui.notify", ctx, { text, level, title: "Voice command", origin: "voice" });
  }

  #publish(event_name: string, ctx: { correlation_id: string; causation_id: string }, payload: Record<string, unknown>): void {
    publishOrLog(this.opts.bus, { event_name, version: 1, source: this.opts.source, tenant: this.opts.tenant, priority: 1, ...ctx, payload }, this.opts.clock, this.opts.logger);
  }
}
