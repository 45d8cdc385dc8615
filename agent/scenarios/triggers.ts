/**
 * Scenario triggers: what starts a run without anyone asking.
 *
 * - `event` triggers subscribe to the bus; an envelope whose filter (over `{$: envelope}`) is true
 *   starts a run with the trigger's ctx templates filled from the envelope, the envelope as the
 *   run's cause (its correlation_id) and `event:<envelope id>` as the dedup key, so the same
 *   envelope delivered twice starts one run. A filter that cannot be evaluated on an envelope is
 *   no match (debug-logged). An envelope the same scenario published itself (its
 *   idempotency_key starts with `<scenario_id>/`) never triggers it again: no self-loops.
 * - `cron`, `at` and `interval` triggers become schedules of the scheduler with the id
 *   `trigger.<scenario_id>.<n>` (n = the trigger's index). reconcile() makes the stored trigger
 *   schedules match the loaded scenarios: missing ones are created, changed ones replaced (their
 *   progress starts again), ones whose scenario or trigger is gone deleted. Schedules made through
 *   the API keep other ids and are never touched here.
 * - A tick of a schedule with a scenario starts a run keyed by the tick's key
 *   (`<schedule>@<scheduled_at>`): a tick fired again after a crash is the same run.
 * A run that cannot start (the scenario is busy, the agent is stopping) is logged, never thrown.
 */
import { isDeepStrictEqual } from "node:util";
import type { Envelope } from "../../abi/envelope.js";
import type { Bus, Subscription } from "../bus/bus.js";
import type { Component } from "../core/component.js";
import { asAdaosError } from "../core/errors.js";
import type { Logger } from "../core/logger.js";
import { evaluateExpr, interpolateDeep } from "./expr.js";
import type { RunStarted } from "./scenario-port.js";
import type { EventTrigger, Scenario, Trigger } from "./scenario.js";
import type { ScheduleSpec } from "./schedule.js";
import type { StartRequest } from "./runner.js";
import type { Scheduler, Tick } from "./scheduler.js";

export const TRIGGER_SCHEDULE_PREFIX = "trigger.";

export interface TriggerOptions {
  readonly scenarios: () => readonly Scenario[];
  readonly bus: Bus;
  readonly scheduler: Scheduler;
  readonly submit: (req: StartRequest) => RunStarted;
  readonly logger: Logger;
}

/** The schedule id of a scenario's n-th trigger. */
export function triggerScheduleId(scenarioId: string, index: number): string {
  return `${TRIGGER_SCHEDULE_PREFIX}${scenarioId}.${index}`;
}

function specOf(t: Exclude<Trigger, EventTrigger>): ScheduleSpec {
  switch (t.kind) {
    case "cron": return t.tz === undefined ? { type: "cron", cron: t.cron } : { type: "cron", cron: t.cron, tz: t.tz };
    case "at": return { type: "once", at: t.at };
    case "interval": return { type: "interval", every_ms: t.every_ms };
  }
}

export class Triggers implements Component {
  readonly name = "scenario-triggers";
  readonly #subs: Subscription[] = [];

  constructor(private readonly o: TriggerOptions) {}

  async start(signal: AbortSignal): Promise<void> {
    signal.throwIfAborted();
    this.reconcile();
    for (const scenario of this.o.scenarios()) {
      for (const t of scenario.triggers) {
        if (t.kind === "event") this.#subs.push(this.o.bus.subscribe(t.event, (env) => this.#onEvent(scenario, t, env)));
      }
    }
    await Promise.resolve();
  }

  async stop(): Promise<void> {
    for (const s of this.#subs.splice(0)) s.unsubscribe();
    await Promise.resolve();
  }

  /** Make the stored trigger schedules match the scenarios' time triggers. */
  reconcile(): void {
    const wanted = new Map<string, { scenario: Scenario; trigger: Exclude<Trigger, EventTrigger> }>();
    for (const scenario of this.o.scenarios()) {
      scenario.triggers.forEach((t, i) => {
        if (t.kind !== "event") wanted.set(triggerScheduleId(scenario.id, i), { scenario, trigger: t });
      });
    }
    for (const s of this.o.scheduler.list()) {
      if (!s.id.startsWith(TRIGGER_SCHEDULE_PREFIX)) continue;
      const w = wanted.get(s.id);
      const same = w !== undefined && s.scenario_id === w.scenario.id && isDeepStrictEqual(s.spec, specOf(w.trigger)) &&
        s.catch_up === w.trigger.catch_up && isDeepStrictEqual(s.ctx, { ...w.trigger.ctx });
      if (same) {
        wanted.delete(s.id);
        continue;
      }
      this.o.scheduler.delete(s.id);
      this.o.logger.info({ schedule: s.id }, w === undefined ? "removed the schedule of a trigger that is gone" : "replacing the schedule of a changed trigger");
    }
    for (const [id, { scenario, trigger }] of wanted) {
      try {
        this.o.scheduler.create({ id, scenario_id: scenario.id, spec: specOf(trigger), ctx: { ...trigger.ctx }, catch_up: trigger.catch_up });
      } catch (err) {
        // A one-off `at` already in the past is refused: the scenario simply has nothing left to do.
        this.o.logger.warn({ schedule: id, err: asAdaosError(err).message }, "trigger schedule not created");
      }
    }
  }

  /** The scheduler's onTick. */
  onTick(tick: Tick): void {
    const scenarioId = tick.schedule.scenario_id;
    if (scenarioId === null) return;
    this.#submit({
      id: scenarioId,
      ctx: { ...tick.schedule.ctx, tick: { schedule_id: tick.schedule.id, scheduled_at: new Date(tick.scheduledAt).toISOString(), seq: tick.seq, missed: tick.missed } },
      trigger: `schedule:${tick.schedule.id}`,
      triggerKey: tick.key,
    });
  }

  #onEvent(scenario: Scenario, t: EventTrigger, env: Envelope): void {
    if (t.version !== undefined && env.version !== t.version) return;
    if (env.headers.idempotency_key?.startsWith(`${scenario.id}/`) === true) return;
    const scope = { $: env };
    if (t.filter !== undefined) {
      let pass: unknown;
      try {
        pass = evaluateExpr(t.filter, scope);
      } catch (err) {
        this.o.logger.debug({ scenario: scenario.id, event: env.event_name, err: asAdaosError(err).message }, "trigger filter not applicable to this event");
        return;
      }
      if (pass !== true) return;
    }
    let ctx: Record<string, unknown> = {};
    try {
      ctx = t.ctx === undefined ? {} : (interpolateDeep(t.ctx, scope) as Record<string, unknown>);
    } catch (err) {
      this.o.logger.warn({ scenario: scenario.id, event: env.event_name, err: asAdaosError(err).message }, "trigger ctx could not be filled from the event; run not started");
      return;
    }
    this.#submit({ id: scenario.id, ctx, trigger: `event:${env.event_name}`, triggerKey: `event:${scenario.id}:${env.id}`, cause: env });
  }

  #submit(req: StartRequest): void {
    try {
      const r = this.o.submit(req);
      if (r.duplicate !== true) this.o.logger.debug({ scenario: req.id, run_id: r.run_id, trigger: req.trigger }, "scenario triggered");
    } catch (err) {
      const e = asAdaosError(err);
      this.o.logger.info({ scenario: req.id, trigger: req.trigger, code: e.code, err: e.message }, "triggered run not started");
    }
  }
}
