/**
 * The push-to-talk guard's state: when the microphone is open for commands. A window opened at
 * t for w ms holds for speech that started in [t, t + w); closing it early (a command was heard)
 * ends it now. Speech that started while a window was open still counts when recognition ends
 * after it closed, so only the latest window is kept with its open and close times.
 */
import type { Clock } from "../core/clock.js";

export class ListenWindow {
  #openedAt = Number.NEGATIVE_INFINITY;
  #closesAt = Number.NEGATIVE_INFINITY;

  constructor(private readonly clock: Clock) {}

  /** Open (or extend) the window for `ms` from now; returns when it closes (epoch ms). */
  open(ms: number): number {
    const now = this.clock.now();
    if (now >= this.#closesAt) this.#openedAt = now;
    this.#closesAt = now + ms;
    return this.#closesAt;
  }

  close(): void {
    this.#closesAt = Math.min(this.#closesAt, this.clock.now());
  }

  isOpen(): boolean {
    return this.clock.now() < this.#closesAt;
  }

  /** Whether a window was open at epoch ms `at` (speech that started then counts). */
  wasOpenAt(at: number): boolean {
    return at >= this.#openedAt - PRE_ROLL_MS && at < this.#closesAt;
  }
}

/**
 * Speech may start a little before the push lands (a button pressed while talking, the VAD's
 * start estimate): this much before the window opened still counts.
 */
export const PRE_ROLL_MS = 500;
