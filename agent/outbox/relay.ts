/**
 * The relay: drains an Outbox into a Publisher, oldest first, one batch at a time. Each outcome
 * settles its entry (sent → deleted, retry → back to waiting, poison → DLQ). After a batch with a
 * `retry` it backs off with full jitter, but probes `publisher.reachable()` meanwhile and resumes
 * as soon as the far side is back: a 30 s backoff must not delay the first buffered event at the
 * root by more than moments after the root's return. An empty outbox is waited on with
 * `outbox.changed()`. The loop never throws: a failing outbox (StorageError) is logged and retried
 * with the same backoff. Expired entries are swept into the DLQ on start and periodically. A long
 * drain reports its progress (drain-progress.ts).
 */
import { fullJitter, type BackoffPolicy } from "../core/backoff.js";
import type { Clock, TimerHandle } from "../core/clock.js";
import type { Component } from "../core/component.js";
import type { Logger } from "../core/logger.js";
import type { Counter, MetricsRegistry } from "../core/metrics.js";
import type { Outbox, OutboxEntry } from "./outbox.js";
import { DrainProgress } from "./drain-progress.js";
import type { Publisher, SendOutcome } from "./publisher.js";

/** A probe every 250 ms notices the far side's return well within the 1.5 s requirement, at 4 cheap requests/s. */
export const DEFAULT_PROBE_INTERVAL_MS = 250;
/** Expiry is a TTL of hours: a sweep every 30 s moves expired entries to the DLQ soon enough. */
export const DEFAULT_SWEEP_INTERVAL_MS = 30_000;

export interface RelayOptions {
  readonly name: string;
  readonly outbox: Outbox;
  readonly publisher: Publisher;
  /** Most entries per send (config outbox.batch). */
  readonly batch: number;
  /** Delay after a failed batch (config outbox.retry_base_ms / retry_cap_ms: 500 / 30000). */
  readonly backoff: BackoffPolicy;
  readonly probeIntervalMs?: number;
  readonly sweepIntervalMs?: number;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly metrics: MetricsRegistry;
  /** [0, 1) for the jitter; tests pin it. */
  readonly random?: () => number;
}

export type RelayState = "idle" | "draining" | "backoff";

export interface RelayStatus {
  readonly state: RelayState;
  /** Failed batches (or outbox errors) in a row; 0 after a batch with no retry. */
  readonly attempt: number;
  /** While backing off: when the next try happens at the latest (a probe may resume it sooner). */
  readonly next_retry_in_ms?: number;
  readonly last_error?: string;
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

export class Relay implements Component {
  readonly name: string;
  readonly #sent: Counter;
  readonly #retries: Counter;
  readonly #poisoned: Counter;
  readonly #labels: { readonly relay: string };
  #abort = new AbortController();
  #loop: Promise<void> | undefined;
  #sweepTimer: TimerHandle | undefined;
  #state: RelayState = "idle";
  #attempt = 0;
  #retryAt: number | undefined;
  #lastError: string | undefined;
  readonly #progress: DrainProgress;
  /** The last idle wait ended and the outbox had nothing: the next one is paced. */
  #emptyWake = false;

  constructor(private readonly opts: RelayOptions) {
    this.name = opts.name;
    this.#labels = { relay: opts.name };
    this.#sent = opts.metrics.counter("adaos_outbox_sent_total", "Outbox entries the far side acknowledged, by relay.");
    this.#retries = opts.metrics.counter("adaos_outbox_retries_total", "Outbox entries put back to be sent again, by relay.");
    this.#poisoned = opts.metrics.counter("adaos_outbox_poisoned_total", "Outbox entries the far side refused for good (moved to the DLQ), by relay.");
    this.#progress = new DrainProgress(opts.clock, opts.logger);
  }

  /** A backlog is being worked on: sending, or backing off with entries waiting. */
  get draining(): boolean {
    return this.#state !== "idle";
  }

  status(): RelayStatus {
    const base = { state: this.#state, attempt: this.#attempt };
    const wait = this.#state === "backoff" && this.#retryAt !== undefined ? { next_retry_in_ms: Math.max(0, this.#retryAt - this.opts.clock.now()) } : {};
    return { ...base, ...wait, ...(this.#lastError === undefined ? {} : { last_error: this.#lastError }) };
  }

  start(signal: AbortSignal): Promise<void> {
    signal.throwIfAborted();
    if (this.#loop !== undefined) return Promise.resolve();
    this.#abort = new AbortController();
    this.#emptyWake = false;
    this.#sweep();
    this.#loop = this.#run();
    return Promise.resolve();
  }

  /** Aborts any wait, lets the send in flight finish (its unsent entries go back with retry), then returns. */
  async stop(): Promise<void> {
    this.#abort.abort();
    this.#sweepTimer?.cancel();
    this.#sweepTimer = undefined;
    await this.#loop;
    this.#loop = undefined;
    this.#state = "idle";
  }

  async #run(): Promise<void> {
    const stop = this.#abort.signal;
    while (!stop.aborted) {
      try {
        await this.#step(stop);
      } catch (err) {
        // The outbox failed (StorageError) or a publisher broke its contract: never fatal.
        this.#lastError = message(err);
        this.opts.logger.error({ err, attempt: this.#attempt }, "relay step failed; retrying with backoff");
        await this.#backOff(false, stop);
      }
    }
  }

  async #step(stop: AbortSignal): Promise<void> {
    const entries = this.opts.outbox.next(this.opts.batch);
    if (entries.length === 0) {
      this.#progress.end();
      this.#state = "idle";
      // Woken with nothing to send (a closed outbox resolves changed() at once): do not spin.
      if (this.#emptyWake) await this.#pause(this.opts.probeIntervalMs ?? DEFAULT_PROBE_INTERVAL_MS, false, stop);
      this.#emptyWake = true;
      await this.#changedOrStop(stop);
      return;
    }
    this.#emptyWake = false;
    this.#state = "draining";
    this.#progress.begin(() => this.#depthNow());
    const outcomes = await this.#send(entries, stop);
    const { sent, retried, firstRetryError } = this.#settle(entries, outcomes);
    this.#progress.sent(sent, () => this.#depthNow());
    if (retried === 0) {
      if (this.#attempt > 0) this.opts.logger.info({ publisher: this.opts.publisher.name, attempts: this.#attempt }, "sending again");
      this.#attempt = 0;
      this.#lastError = undefined;
      return;
    }
    this.#lastError = firstRetryError;
    if (stop.aborted) return;
    const log = { publisher: this.opts.publisher.name, retried, attempt: this.#attempt, error: firstRetryError };
    if (this.#attempt === 0) this.opts.logger.warn(log, "could not send; backing off and probing until the far side is back");
    else this.opts.logger.debug(log, "send failed again");
    await this.#backOff(true, stop);
  }

  async #send(entries: readonly OutboxEntry[], stop: AbortSignal): Promise<SendOutcome[]> {
    const batch = entries.map((e) => ({ id: e.id, subject: e.subject, data: e.data }));
    try {
      return await this.opts.publisher.send(batch, stop);
    } catch (err) {
      // The port says send never rejects; if one does, nothing is known to have arrived.
      return entries.map((e) => ({ type: "retry", id: e.id, error: `publisher failed: ${message(err)}` }));
    }
  }

  /** Settle every entry; one the publisher gave no outcome for is retried. On an outbox failure everything goes back. */
  #settle(entries: readonly OutboxEntry[], outcomes: readonly SendOutcome[]): { sent: number; retried: number; firstRetryError: string | undefined } {
    const byId = new Map(outcomes.map((o) => [o.id, o]));
    const sent: string[] = [];
    const retry = new Map<string, string[]>();
    const poison = new Map<string, string[]>();
    for (const e of entries) {
      const o = byId.get(e.id) ?? { type: "retry", id: e.id, error: "the publisher reported no outcome" };
      if (o.type === "sent") sent.push(e.id);
      else {
        const into = o.type === "retry" ? retry : poison;
        const ids = into.get(o.error) ?? [];
        ids.push(e.id);
        into.set(o.error, ids);
      }
    }
    try {
      if (sent.length > 0) this.opts.outbox.sent(sent);
      for (const [error, ids] of poison) {
        this.opts.outbox.poison(ids, error);
        this.opts.logger.warn({ count: ids.length, ids: ids.slice(0, 10), error }, "the far side refused entries for good; moved to the DLQ");
      }
      for (const [error, ids] of retry) this.opts.outbox.retry(ids, error);
    } catch (err) {
      // Sent ones that go back too are dropped as duplicates by envelope id at the far side.
      this.#giveBack(entries, err);
      throw err;
    }
    const retried = [...retry.values()].reduce((n, ids) => n + ids.length, 0);
    const poisoned = [...poison.values()].reduce((n, ids) => n + ids.length, 0);
    this.#sent.inc(this.#labels, sent.length);
    this.#retries.inc(this.#labels, retried);
    this.#poisoned.inc(this.#labels, poisoned);
    return { sent: sent.length, retried, firstRetryError: retry.keys().next().value };
  }

  #giveBack(entries: readonly OutboxEntry[], cause: unknown): void {
    try {
      this.opts.outbox.retry(entries.map((e) => e.id), `outbox failed while settling: ${message(cause)}`);
    } catch {
      // The outbox is failing as a whole; after a restart everything not sent is handed out again.
    }
  }

  /** Wait the next backoff delay; with `probe`, resume early once the publisher says the far side is reachable. */
  async #backOff(probe: boolean, stop: AbortSignal): Promise<void> {
    const delay = fullJitter(this.#attempt++, this.opts.backoff, this.opts.random);
    this.#state = "backoff";
    this.#retryAt = this.opts.clock.now() + delay;
    try {
      await this.#pause(delay, probe, stop);
    } finally {
      this.#retryAt = undefined;
      this.#state = "draining";
    }
  }

  #pause(delayMs: number, probe: boolean, stop: AbortSignal): Promise<void> {
    const { clock, publisher, logger } = this.opts;
    const every = this.opts.probeIntervalMs ?? DEFAULT_PROBE_INTERVAL_MS;
    return new Promise((resolve) => {
      let done = false;
      let probeTimer: TimerHandle | undefined;
      const finish = (): void => {
        if (done) return;
        done = true;
        timer.cancel();
        probeTimer?.cancel();
        stop.removeEventListener("abort", finish);
        resolve();
      };
      const check = async (): Promise<void> => {
        let ok = false;
        try {
          ok = await publisher.reachable(stop);
        } catch (err) {
          logger.debug({ err }, "reachable() failed; taken as not reachable");
        }
        if (ok) finish();
        else if (!done) probeTimer = clock.setTimer(() => void check(), every);
      };
      const timer = clock.setTimer(finish, delayMs);
      stop.addEventListener("abort", finish, { once: true });
      if (stop.aborted) finish();
      else if (probe && every < delayMs) probeTimer = clock.setTimer(() => void check(), every);
    });
  }

  #changedOrStop(stop: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      const done = (): void => {
        stop.removeEventListener("abort", done);
        resolve();
      };
      stop.addEventListener("abort", done, { once: true });
      if (stop.aborted) return done();
      this.opts.outbox.changed().then(done, (err: unknown) => {
        stop.removeEventListener("abort", done);
        reject(err instanceof Error ? err : new Error(String(err)));
      });
    });
  }

  #sweep(): void {
    try {
      const expired = this.opts.outbox.sweep();
      if (expired > 0) this.opts.logger.warn({ expired }, "outbox entries expired before they could be sent; moved to the DLQ");
    } catch (err) {
      this.opts.logger.error({ err }, "outbox sweep failed");
    }
    if (this.#abort.signal.aborted) return;
    this.#sweepTimer = this.opts.clock.setTimer(() => this.#sweep(), this.opts.sweepIntervalMs ?? DEFAULT_SWEEP_INTERVAL_MS);
  }

  #depthNow(): number {
    try {
      return this.opts.outbox.stats().depth;
    } catch {
      return 0;
    }
  }
}
