/**
 * The runner's admission queue: runs wait here for one of the node's run slots
 * (scenarios.max_concurrent_per_node). Three lanes, HIGH before NORM before LOW, FIFO within a
 * lane; a waiting run never overtakes one of its own lane. A queued run can be taken out again
 * (cancel). The queue only orders; starting a run is the caller's job (`onReady`).
 */
import type { RunPriority } from "./scenario.js";

export interface Queued {
  readonly runId: string;
  readonly priority: RunPriority;
}

export class RunQueue<T extends Queued> {
  readonly #lanes: Record<RunPriority, T[]> = { HIGH: [], NORM: [], LOW: [] };
  #running = 0;

  /** `onReady(item)` is called, synchronously, for each item given a slot. */
  constructor(private readonly slots: number, private readonly onReady: (item: T) => void) {}

  get running(): number {
    return this.#running;
  }

  get waiting(): number {
    return this.#lanes.HIGH.length + this.#lanes.NORM.length + this.#lanes.LOW.length;
  }

  /** Queue an item; it starts at once when a slot is free. Returns true when it started now. */
  push(item: T): boolean {
    this.#lanes[item.priority].push(item);
    return this.#drain().includes(item);
  }

  /** Take a waiting item out (it never starts); false when it is not waiting. */
  remove(runId: string): boolean {
    for (const lane of Object.values(this.#lanes)) {
      const i = lane.findIndex((x) => x.runId === runId);
      if (i >= 0) {
        lane.splice(i, 1);
        return true;
      }
    }
    return false;
  }

  /** A running item finished: its slot goes to the next waiting one. */
  done(): void {
    this.#running = Math.max(0, this.#running - 1);
    this.#drain();
  }

  #drain(): T[] {
    const started: T[] = [];
    while (this.#running < this.slots) {
      const next = this.#lanes.HIGH.shift() ?? this.#lanes.NORM.shift() ?? this.#lanes.LOW.shift();
      if (next === undefined) break;
      this.#running++;
      started.push(next);
    }
    for (const item of started) this.onReady(item);
    return started;
  }
}
