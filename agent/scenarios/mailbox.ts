/**
 * A run's mailbox: the envelopes its `wait` steps may consume. It subscribes, for the whole run,
 * to every event the scenario waits for, so a reply that arrives between two steps (say a
 * question, then wait for the answer) is not lost. A wait takes the oldest matching envelope and
 * leaves the others; envelopes that were never taken are dropped oldest-first beyond
 * MAILBOX_CAPACITY. A filter that cannot be evaluated on an envelope (a missing field compared
 * with `<`) counts as no match. close() unsubscribes and fails pending takes.
 */
import type { Envelope } from "../../abi/envelope.js";
import type { Bus, Subscription } from "../bus/bus.js";
import type { Clock } from "../core/clock.js";
import { CancelledError, TimeoutError } from "../core/errors.js";

/** Enough for a dialogue; a run that never waits for what it subscribed to must not grow. */
export const MAILBOX_CAPACITY = 64;

export interface EventSelector {
  readonly event: string;
  readonly version?: number;
}

interface Taker {
  readonly sel: EventSelector;
  readonly match: ((env: Envelope) => boolean) | undefined;
  readonly resolve: (env: Envelope) => void;
  readonly reject: (err: Error) => void;
}

export class Mailbox {
  readonly #messages: Envelope[] = [];
  readonly #takers = new Set<Taker>();
  readonly #subs: Subscription[] = [];
  #closed = false;

  constructor(private readonly bus: Bus, private readonly clock: Clock, private readonly capacity = MAILBOX_CAPACITY) {}

  /** Subscribe to the events the run may wait for. */
  open(selectors: readonly EventSelector[]): void {
    for (const event of new Set(selectors.map((s) => s.event))) {
      this.#subs.push(this.bus.subscribe(event, (env) => this.deliver(env)));
    }
  }

  get size(): number {
    return this.#messages.length;
  }

  deliver(env: Envelope): void {
    if (this.#closed) return;
    for (const t of this.#takers) {
      if (matches(t.sel, t.match, env)) {
        this.#takers.delete(t);
        t.resolve(env);
        return;
      }
    }
    this.#messages.push(env);
    if (this.#messages.length > this.capacity) this.#messages.shift();
  }

  /** The oldest matching envelope, waiting up to timeoutMs; TimeoutError, or the signal's reason. */
  take(sel: EventSelector, match: ((env: Envelope) => boolean) | undefined, timeoutMs: number, signal: AbortSignal): Promise<Envelope> {
    if (signal.aborted) return Promise.reject(signal.reason as Error);
    const i = this.#messages.findIndex((env) => matches(sel, match, env));
    if (i >= 0) return Promise.resolve(this.#messages.splice(i, 1)[0] as Envelope);
    if (this.#closed) return Promise.reject(new CancelledError("the run's mailbox is closed"));
    return new Promise<Envelope>((resolve, reject) => {
      const settle = (): void => {
        timer.cancel();
        signal.removeEventListener("abort", onAbort);
        this.#takers.delete(taker);
      };
      const taker: Taker = {
        sel,
        match,
        resolve: (env) => { settle(); resolve(env); },
        reject: (err) => { settle(); reject(err); },
      };
      const onAbort = (): void => taker.reject(signal.reason as Error);
      const timer = this.clock.setTimer(() => taker.reject(new TimeoutError(`no ${sel.event} arrived within ${Math.max(0, timeoutMs)} ms`)), Math.max(0, timeoutMs));
      signal.addEventListener("abort", onAbort, { once: true });
      this.#takers.add(taker);
    });
  }

  close(): void {
    this.#closed = true;
    for (const s of this.#subs.splice(0)) s.unsubscribe();
    for (const t of [...this.#takers]) t.reject(new CancelledError("the run ended"));
    this.#messages.length = 0;
  }
}

function matches(sel: EventSelector, match: ((env: Envelope) => boolean) | undefined, env: Envelope): boolean {
  if (env.event_name !== sel.event) return false;
  if (sel.version !== undefined && env.version !== sel.version) return false;
  if (match === undefined) return true;
  try {
    return match(env);
  } catch {
    return false;
  }
}
