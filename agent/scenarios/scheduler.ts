/**
 * The scheduler of the scenario runtime: one timer per stored schedule on the injected clock,
 * armed for its next occurrence (schedule.ts computes occurrences; croner never runs a timer).
 *
 * A tick, in this order: publish the schedule's event (`timer.tick` payload; a custom `event` is
 * published only if the bus's catalog knows it and accepts the payload — otherwise a warning, once
 * per name, and timer.tick), then `onTick(tick)` (awaited when it returns a promise; a throw or a
 * rejection is logged and never stops the schedule), THEN markFired in the store, then arm the
 * next occurrence. A crash between firing and persisting therefore leaves the store one tick
 * behind: the tick is at-least-once and `tick.key` ("<id>@<scheduled_at ISO>", the same across
 * restarts) is what the runner dedups on. A `once` schedule is removed after it fired.
 *
 * Missed-run policy (a stored schedule whose occurrences passed while nothing was waiting for
 * them: the agent was off, or — within a process — busy past the next occurrence):
 *   - Missed occurrences are those strictly after the last fired tick's scheduled time (or after
 *     created_at if it never fired) and at or before now. An occurrence exactly at now counts as
 *     missed: it is not in the future. Counting stops at MAX_MISSED_COUNT, which is then reported.
 *   - None missed: arm the next occurrence.
 *   - catch_up false (the default): nothing is fired for them; the next tick (the first occurrence
 *     strictly after now) carries their number in `missed`. No duplicates, no burst. A `once`
 *     that was missed never fires and is removed (logged).
 *   - catch_up true: ONE tick fires at once for the latest missed occurrence (scheduledAt and key
 *     of that occurrence, missed = count − 1), then the schedule continues normally. In the crash
 *     case above that re-fires the unpersisted tick itself (same key), when it is the latest.
 *   Example: an every-second cron last fired at T, stopped, started again at T+10 s: occurrences
 *   T+1 … T+10 are missed (10); without catch-up the tick at T+11 has missed = 10, with catch-up a
 *   tick for T+10 fires at start with missed = 9 and the one at T+11 has missed = 0.
 *
 * A tick that fires late still carries its scheduled time; the same occurrence never fires twice
 * in one process (progress is kept in memory too, so a failed store write cannot repeat a tick).
 * No wait is longer than maxWaitMs: a longer one is re-armed in steps, so clock jumps and
 * setTimeout's 24.8-day limit do not matter. create/delete while running arm/cancel at once;
 * create before start only stores. stop() cancels every timer and waits for ticks in flight.
 */
import { randomBytes } from "node:crypto";
import type { Bus } from "../bus/bus.js";
import type { Clock, TimerHandle } from "../core/clock.js";
import type { Component } from "../core/component.js";
import { createEnvelope } from "../core/envelope.js";
import { PayloadInvalidError, ScheduleInvalidError, UnknownEventError } from "../core/errors.js";
import type { Logger } from "../core/logger.js";
import { HEADER } from "../../abi/envelope.js";
import { checkSchedule, countOccurrences, DEFAULT_TICK_EVENT, nextOccurrence, parseAt, scheduleText, type Schedule, type ScheduleInput } from "./schedule.js";
import type { ScheduleRecord, ScheduleStore } from "./schedule-store.js";

/** A minute: short enough that a wall-clock jump is noticed soon, long enough to cost nothing. */
export const DEFAULT_MAX_WAIT_MS = 60_000;
/** An every-second schedule after ~3 hours off reaches this; counting further only costs time. */
export const MAX_MISSED_COUNT = 10_000;
/** Random bytes of a generated id: "sch_" + 16 hex characters. */
const GENERATED_ID_BYTES = 8;

export interface Tick {
  readonly schedule: Schedule;
  /** Epoch ms the tick was due (not when it fired). */
  readonly scheduledAt: number;
  readonly seq: number;
  readonly missed: number;
  /** "<schedule id>@<scheduled_at ISO>" — the same for the same tick across restarts. */
  readonly key: string;
}

export interface SchedulerOptions {
  store: ScheduleStore;
  bus: Bus;
  clock: Clock;
  logger: Logger;
  /** The envelope source, e.g. `agent://hub/hub-1`. */
  source: string;
  /** Called for each tick after timer.tick is published; must be idempotent by tick.key (the runner dedups). */
  onTick?: (tick: Tick) => void | Promise<void>;
  /** Longest single wait; longer ones are re-armed in steps so clock jumps and setTimeout limits don't matter. */
  maxWaitMs?: number;
}

/** A running schedule. */
interface Entry {
  readonly schedule: Schedule;
  /** Occurrences are counted strictly after this: the last fired tick's scheduled time, or created_at. */
  lastAt: number;
  /** Ticks fired so far. */
  seq: number;
  /** Missed occurrences the next tick reports. */
  missed: number;
  /** The occurrence the timer waits for. */
  dueAt: number | undefined;
  timer: TimerHandle | undefined;
  /** live until stop() or delete(); a tick in flight then finishes without arming the next. */
  state: "live" | "stopped" | "deleted";
}

export class Scheduler implements Component {
  readonly name = "scheduler";
  readonly #entries = new Map<string, Entry>();
  /** What this instance fired, kept across stop/start and failed writes: never one occurrence twice. */
  readonly #fired = new Map<string, { readonly at: number; readonly seq: number }>();
  readonly #inFlight = new Set<Promise<void>>();
  /** Custom event names that could not be published (warned once each). */
  readonly #badEvents = new Set<string>();
  #running = false;

  constructor(private readonly opts: SchedulerOptions) {}

  start(signal?: AbortSignal): Promise<void> {
    if (this.#running || signal?.aborted === true) return Promise.resolve();
    this.#running = true;
    for (const record of this.opts.store.list()) this.#add(record);
    return Promise.resolve();
  }

  async stop(): Promise<void> {
    this.#running = false;
    for (const entry of this.#entries.values()) {
      entry.state = "stopped";
      entry.timer?.cancel();
    }
    this.#entries.clear();
    await Promise.all([...this.#inFlight]);
  }

  /** Validate and store a schedule; armed at once when running. A once must be in the future. */
  create(input: ScheduleInput): Schedule {
    const checked = checkSchedule(input);
    const now = this.opts.clock.now();
    if (checked.spec.type === "once" && parseAt(checked.spec.at) <= now) {
      throw new ScheduleInvalidError(`once at ${JSON.stringify(checked.spec.at)} is not in the future (now ${new Date(now).toISOString()})`);
    }
    const schedule: Schedule = {
      id: checked.id ?? `sch_${randomBytes(GENERATED_ID_BYTES).toString("hex")}`,
      scenario_id: checked.scenario_id ?? null,
      spec: checked.spec,
      ctx: { ...checked.ctx },
      event: checked.event ?? DEFAULT_TICK_EVENT,
      catch_up: checked.catch_up ?? false,
      created_at: now,
    };
    this.opts.store.create(schedule);
    this.#fired.delete(schedule.id);
    if (this.#running) this.#add({ ...schedule, last_tick_at: null, seq: 0 });
    return schedule;
  }

  /** Remove a schedule and cancel its timer; false when there was none. */
  delete(id: string): boolean {
    const removed = this.opts.store.delete(id);
    const entry = this.#entries.get(id);
    if (entry !== undefined) {
      entry.state = "deleted";
      entry.timer?.cancel();
      this.#entries.delete(id);
    }
    this.#fired.delete(id);
    return removed || entry !== undefined;
  }

  list(): ScheduleRecord[] {
    return this.opts.store.list();
  }

  get(id: string): ScheduleRecord | undefined {
    return this.opts.store.get(id);
  }

  #add(record: ScheduleRecord): void {
    const { last_tick_at, seq, ...schedule } = record;
    let lastAt = last_tick_at ?? schedule.created_at;
    let fired = seq;
    const mine = this.#fired.get(schedule.id);
    if (mine !== undefined && (last_tick_at === null || mine.at > last_tick_at)) {
      lastAt = mine.at;
      fired = mine.seq;
    }
    const entry: Entry = { schedule, lastAt, seq: fired, missed: 0, dueAt: undefined, timer: undefined, state: "live" };
    this.#entries.set(schedule.id, entry);
    this.#plan(entry);
  }

  /** Apply the missed-run policy, then fire a catch-up tick or arm the next occurrence. */
  #plan(entry: Entry): void {
    const { spec, created_at, id } = entry.schedule;
    const now = this.opts.clock.now();
    const { count, latest } = countOccurrences(spec, entry.lastAt, now, created_at, MAX_MISSED_COUNT);
    if (count > 0 && latest !== undefined && entry.schedule.catch_up) {
      this.#fire(entry, latest, count - 1);
      return;
    }
    entry.missed = count;
    const next = nextOccurrence(spec, Math.max(entry.lastAt, now), created_at);
    if (next !== undefined) {
      if (count > 0) this.opts.logger.info({ schedule: id, missed: count }, "schedule missed runs; the next tick reports them");
      this.#arm(entry, next);
      return;
    }
    if (spec.type === "once") {
      if (count > 0) this.opts.logger.warn({ schedule: id, at: spec.at }, "once schedule was due while nothing ran; not fired (catch_up is false), removed");
      this.#remove(entry);
    } else {
      this.opts.logger.warn({ schedule: id }, "schedule has no further occurrence; kept, not armed");
    }
  }

  #arm(entry: Entry, dueAt: number): void {
    entry.dueAt = dueAt;
    const maxWait = Math.max(1, this.opts.maxWaitMs ?? DEFAULT_MAX_WAIT_MS);
    const wait = Math.min(Math.max(0, dueAt - this.opts.clock.now()), maxWait);
    entry.timer = this.opts.clock.setTimer(() => this.#wake(entry), wait);
  }

  #wake(entry: Entry): void {
    entry.timer = undefined;
    const dueAt = entry.dueAt;
    if (entry.state !== "live" || dueAt === undefined) return;
    if (this.opts.clock.now() < dueAt) this.#arm(entry, dueAt);
    else this.#fire(entry, dueAt, entry.missed);
  }

  #fire(entry: Entry, scheduledAt: number, missed: number): void {
    const { id } = entry.schedule;
    const tick: Tick = { schedule: entry.schedule, scheduledAt, seq: entry.seq + 1, missed, key: `${id}@${new Date(scheduledAt).toISOString()}` };
    // Progress moves in memory first: whatever happens below, this occurrence is not fired again here.
    entry.dueAt = undefined;
    entry.lastAt = scheduledAt;
    entry.seq = tick.seq;
    entry.missed = 0;
    this.#fired.set(id, { at: scheduledAt, seq: tick.seq });
    this.#publish(tick);
    let pending: void | Promise<void> = undefined;
    try {
      pending = this.opts.onTick?.(tick);
    } catch (err) {
      this.#tickFailed(tick, err);
    }
    if (pending === undefined) {
      this.#finish(entry, tick);
      return;
    }
    const done = pending.then(
      () => this.#finish(entry, tick),
      (err: unknown) => {
        this.#tickFailed(tick, err);
        this.#finish(entry, tick);
      },
    ).catch((err: unknown) => this.opts.logger.error({ err, schedule: id, key: tick.key }, "cannot arm the next tick"));
    this.#inFlight.add(done);
    void done.finally(() => this.#inFlight.delete(done));
  }

  #tickFailed(tick: Tick, err: unknown): void {
    this.opts.logger.error({ err, schedule: tick.schedule.id, key: tick.key }, "onTick failed; the schedule goes on");
  }

  /** After onTick: persist, drop a fired once, arm the next. */
  #finish(entry: Entry, tick: Tick): void {
    try {
      this.opts.store.markFired(tick.schedule.id, tick.scheduledAt, tick.seq);
    } catch (err) {
      this.opts.logger.error({ err, schedule: tick.schedule.id, key: tick.key }, "cannot record a fired tick; a restart may fire it again");
    }
    if (entry.state === "deleted") return;
    if (tick.schedule.spec.type === "once") {
      this.#remove(entry);
      return;
    }
    if (entry.state === "live") this.#plan(entry);
  }

  /** A once that fired or was missed: gone from the store and from memory. */
  #remove(entry: Entry): void {
    const { id } = entry.schedule;
    try {
      this.opts.store.delete(id);
    } catch (err) {
      this.opts.logger.error({ err, schedule: id }, "cannot remove a finished once schedule; it is dropped at the next start");
    }
    if (this.#entries.get(id) === entry) this.#entries.delete(id);
    entry.state = "deleted";
  }

  #publish(tick: Tick): void {
    const { schedule } = tick;
    const payload = {
      timer_id: schedule.id,
      schedule_type: schedule.spec.type,
      schedule: scheduleText(schedule.spec),
      ...(schedule.spec.type === "cron" && schedule.spec.tz !== undefined ? { tz: schedule.spec.tz } : {}),
      scheduled_at: new Date(tick.scheduledAt).toISOString(),
      fired_at: new Date(this.opts.clock.now()).toISOString(),
      seq: tick.seq,
      missed: tick.missed,
    };
    const envelope = (event_name: string) => createEnvelope(
      { event_name, version: 1, source: this.opts.source, payload, headers: { [HEADER.idempotencyKey]: tick.key } },
      this.opts.clock,
    );
    if (schedule.event !== DEFAULT_TICK_EVENT && !this.#badEvents.has(schedule.event)) {
      try {
        this.opts.bus.publish(envelope(schedule.event));
        return;
      } catch (err) {
        if (!(err instanceof UnknownEventError || err instanceof PayloadInvalidError)) {
          this.opts.logger.error({ err, schedule: schedule.id, key: tick.key }, "cannot publish the tick");
          return;
        }
        this.#badEvents.add(schedule.event);
        this.opts.logger.warn({ err, schedule: schedule.id, event: schedule.event }, `event ${schedule.event} is not in the catalog or does not take a tick payload; publishing ${DEFAULT_TICK_EVENT} instead`);
      }
    }
    try {
      this.opts.bus.publish(envelope(DEFAULT_TICK_EVENT));
    } catch (err) {
      this.opts.logger.error({ err, schedule: schedule.id, key: tick.key }, "cannot publish the tick");
    }
  }
}
