/**
 * A task run at start and then `intervalMs` after each run ends (never two at once), on the
 * injected clock; a run may ask for its next one sooner or later by returning the delay. stop() cancels the next run and waits for the one in flight. The task must not
 * throw (it is the caller's job to log what it cannot do); `stopped` lets it skip its effect when
 * stop() came while it awaited.
 */
import type { Clock, TimerHandle } from "./clock.js";

export class Periodic {
  #timer: TimerHandle | undefined;
  #stopped = true;
  #running: Promise<void> | undefined;
  #busy = false;

  constructor(private readonly clock: Clock, private readonly intervalMs: number, private readonly task: () => Promise<number | void>) {}

  get stopped(): boolean {
    return this.#stopped;
  }

  start(): void {
    this.#stopped = false;
    this.#tick();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.#timer?.cancel();
    await this.#running;
  }

  /** Run now instead of at the next due time; nothing when stopped or already running. */
  runNow(): void {
    if (this.#stopped || this.#busy) return;
    this.#timer?.cancel();
    this.#tick();
  }

  #tick(): void {
    if (this.#stopped) return;
    let next = this.intervalMs;
    this.#busy = true;
    this.#running = this.task().then((ms) => { if (typeof ms === "number") next = ms; }).finally(() => {
      this.#busy = false;
      if (!this.#stopped) this.#timer = this.clock.setTimer(() => this.#tick(), next);
    });
  }
}
