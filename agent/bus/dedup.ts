/**
 * A sliding window of recently seen ids (seed 004: duplicates within a window are dropped).
 * Bounded by count: the oldest id is forgotten when the window is full. A ring buffer names the
 * oldest id, so eviction is O(1) (iterating a Set from its head is not: V8 walks over the holes
 * that deletions leave there).
 */
export class DedupWindow {
  readonly #ids = new Set<string>();
  readonly #ring: (string | undefined)[];
  #next = 0;

  constructor(readonly capacity: number) {
    this.#ring = new Array<string | undefined>(capacity);
  }

  /** True when id was already in the window; otherwise remembers it and returns false. */
  seen(id: string): boolean {
    if (this.capacity === 0) return false;
    if (this.#ids.has(id)) return true;
    const oldest = this.#ring[this.#next];
    if (oldest !== undefined) this.#ids.delete(oldest);
    this.#ring[this.#next] = id;
    this.#next = (this.#next + 1) % this.capacity;
    this.#ids.add(id);
    return false;
  }

  /** True when id is in the window; does not remember it. */
  has(id: string): boolean {
    return this.#ids.has(id);
  }

  get size(): number {
    return this.#ids.size;
  }
}
