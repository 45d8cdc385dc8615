/**
 * The scenario model: what a scenario file (YAML, abi/scenario.schema.json) becomes once loaded.
 * Loading (load.ts) resolves `include:` fragments, applies defaults, turns durations into
 * milliseconds and checks every expression; the runner only ever sees this normalised shape.
 *
 * Strings in step bodies may hold `${expr}` templates (expr.ts) over the run's scope
 * `{ctx, bag, run}`; they are evaluated when the step runs, never at load time.
 */

/** Queue priority of a run. HIGH runs start before NORM before LOW; FIFO within one. */
export type RunPriority = "HIGH" | "NORM" | "LOW";
export const RUN_PRIORITIES: readonly RunPriority[] = ["HIGH", "NORM", "LOW"];

/** What a run does when the agent restarts while it is in flight (documented in runner.ts). */
export type OnRestart = "interrupt" | "resume";

export interface EventTrigger {
  readonly kind: "event";
  /** Event name, without a version suffix. */
  readonly event: string;
  /** Major version when the file said `name@N`; any version otherwise. */
  readonly version?: number;
  /** Expression over `{$: envelope}` (e.g. `$.payload.city == "Berlin"`); a run starts only when it is true. */
  readonly filter?: string;
  /** Values (templates over `{$: envelope}`) merged into the run's ctx. */
  readonly ctx?: Readonly<Record<string, unknown>>;
}

export interface CronTrigger {
  readonly kind: "cron";
  readonly cron: string;
  readonly tz?: string;
  readonly catch_up: boolean;
  readonly ctx?: Readonly<Record<string, unknown>>;
}

export interface AtTrigger {
  readonly kind: "at";
  /** ISO-8601 with an offset or Z, e.g. 2026-09-21T07:00:00+02:00. */
  readonly at: string;
  readonly catch_up: boolean;
  readonly ctx?: Readonly<Record<string, unknown>>;
}

export interface IntervalTrigger {
  readonly kind: "interval";
  readonly every_ms: number;
  readonly catch_up: boolean;
  readonly ctx?: Readonly<Record<string, unknown>>;
}

export type Trigger = EventTrigger | CronTrigger | AtTrigger | IntervalTrigger;

/** A request on the bus: a command event answered by a reply (capability or skill call). */
export interface CallAction {
  readonly kind: "call";
  /** Command event name (registered in the catalog), e.g. `repo.skill.install`. */
  readonly command: string;
  readonly version: number;
  /** Payload; templates allowed anywhere inside. */
  readonly payload: unknown;
  /** Node id the command is addressed to (the `target` header); a template is allowed. */
  readonly target?: string;
}

/** Publish an event. */
export interface PublishAction {
  readonly kind: "publish";
  readonly event: string;
  readonly version: number;
  readonly payload: unknown;
}

/** Speak a text: publishes ui.say@1 `{text, voice?, lang?}`; a say step always holds the `tts` lock. */
export interface SayAction {
  readonly kind: "say";
  readonly text: string;
  readonly voice?: string;
  readonly lang?: string;
}

/** Show a text: publishes ui.notify@1 `{text, level, title?}`. */
export interface NotifyAction {
  readonly kind: "notify";
  readonly text: string;
  readonly level: "info" | "success" | "warning" | "error";
  readonly title?: string;
}

/** Wait for an event that passes the filter (over `{$: envelope, ctx, bag}`), up to timeout_ms. */
export interface WaitAction {
  readonly kind: "wait";
  readonly event: string;
  readonly version?: number;
  readonly filter?: string;
  readonly timeout_ms: number;
}

/** Set bag values: each value is a template, evaluated in order (later ones see earlier ones). */
export interface SetAction {
  readonly kind: "set";
  readonly values: Readonly<Record<string, unknown>>;
}

/** Do nothing for a while (cancellable). */
export interface SleepAction {
  readonly kind: "sleep";
  readonly ms: number;
}

export type Action = CallAction | PublishAction | SayAction | NotifyAction | WaitAction | SetAction | SleepAction;

/** Actions with an effect outside the run: dry_run simulates them, compensation applies to them. */
export const EFFECTFUL: ReadonlySet<Action["kind"]> = new Set(["call", "publish", "say", "notify"]);

export interface Retries {
  /** Retries after the first attempt: max 2 means at most 3 attempts. */
  readonly max: number;
  /** Delay before the first retry; each further retry waits twice as long (capped). */
  readonly backoff_ms: number;
}

export interface Step {
  /** Unique within the scenario; the journal key is `<scenario_id>/<run_id>/<name>`. */
  readonly name: string;
  readonly action: Action;
  /** Per attempt; a step without one is bounded only by the run's timeout. */
  readonly timeout_ms?: number;
  readonly retries: Retries;
  /** Run when a later step fails (or the run is cancelled or times out) after this one succeeded. */
  readonly compensate?: Action;
  /** Resources held while the step runs (e.g. `tts`, `mic`): no two runs hold one at once. */
  readonly locks: readonly string[];
  /** Bag key the step's result goes to (call: the reply payload; wait: the event's payload). */
  readonly save_as?: string;
  /** Run the step only when this expression is true; otherwise it is skipped. */
  readonly when?: string;
}

export interface Scenario {
  readonly id: string;
  readonly description?: string;
  readonly triggers: readonly Trigger[];
  /** Default ctx, under whatever the run is given. */
  readonly ctx: Readonly<Record<string, unknown>>;
  readonly steps: readonly Step[];
  /** Events the scenario declares it publishes (`name@version`); load checks every step against them. */
  readonly effects: readonly string[];
  readonly priority: RunPriority;
  /** Runs of this scenario active (queued or running) at once; more are refused unless forced. */
  readonly max_concurrent: number;
  /** Whole-run bound. */
  readonly timeout_ms: number;
  readonly on_restart: OnRestart;
  /** The file it came from (absent for scenarios built in code). */
  readonly file?: string;
}

/** A run's scope for expressions: `ctx` (inputs), `bag` (values set by steps), `run` (ids). */
export interface RunScope {
  readonly ctx: Readonly<Record<string, unknown>>;
  readonly bag: Readonly<Record<string, unknown>>;
  readonly run: { readonly id: string; readonly scenario_id: string; readonly attempt?: number };
}
