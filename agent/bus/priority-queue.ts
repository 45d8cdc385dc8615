/** FIFO per priority level, 0 served first: O(1) push and shift, for the six envelope priorities. */
import type { Priority } from "../../abi/envelope.js";

const LEVELS = 6;

class Fifo<T> {
  #items: (T | undefined)[] = [];
  #head = 0;

  get length(): number {
    return this.#items.length - this.#head;
  }

  push(item: T): void {
    this.#items.push(item);
  }

  shift(): T | undefined {
    if (this.#head >= this.#items.length) return undefined;
    const item = this.#items[this.#head];
    this.#items[this.#head++] = undefined;
    // Compact once the consumed prefix dominates, so memory follows the live length.
    if (this.#head > 1024 && this.#head * 2 > this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
    return item;
  }

  drain(): T[] {
    const rest = this.#items.slice(this.#head) as T[];
    this.#items = [];
    this.#head = 0;
    return rest;
  }
}

export class PriorityQueue<T> {
  readonly #levels: Fifo<T>[] = Array.from({ length: LEVELS }, () => new Fifo<T>());
  #length = 0;

  get length(): number {
    return this.#length;
  }

  push(item: T, priority: Priority): void {
    this.#levels[priority]?.push(item);
    this.#length++;
  }

  /** The oldest item of the highest priority (lowest number). */
  shift(): T | undefined {
    if (this.#length === 0) return undefined;
    for (const level of this.#levels) {
      if (level.length > 0) {
        this.#length--;
        return level.shift();
      }
    }
    return undefined;
  }

  /** Remove and return everything, highest priority first. */
  drain(): T[] {
    this.#length = 0;
    return this.#levels.flatMap((l) => l.drain());
  }
}
