/**
 * A sliding window of recently seen ids (seed 004: duplicates within a window are dropped).
 * Bounded by count: the oldest id is forgotten when the window is full. O(1) per check.
 */
export class DedupWindow {
  readonly #ids = new Set<string>();

  constructor(readonly capacity: number) {}

  /** True when id was already in the window; otherwise remembers it and returns false. */
  seen(id: string): boolean {
    if (this.capacity === 0) return false;
    if (this.#ids.has(id)) return true;
    this.#ids.add(id);
    if (this.#ids.size > this.capacity) {
      const oldest = this.#ids.values().next();
      if (oldest.done !== true) this.#ids.delete(oldest.value);
    }
    return false;
  }

  get size(): number {
    return this.#ids.size;
  }
}
