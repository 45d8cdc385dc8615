/**
 * Group commit: items added during one turn of the event loop are committed together by one call
 * of `commit` (one transaction, one fsync for many) on the next setImmediate, or at once when
 * `max` are waiting. Each add() resolves with its item's result, or rejects with the group's
 * error when the commit throws.
 */

interface Waiting<I, R> {
  readonly item: I;
  resolve(result: R): void;
  reject(err: unknown): void;
}

export class GroupCommit<I, R> {
  #waiting: Waiting<I, R>[] = [];
  #scheduled = false;

  /** `commit` returns one result per item, in order, or throws for the whole group. */
  constructor(
    private readonly commit: (items: readonly I[]) => readonly R[],
    private readonly max: number,
  ) {}

  add(item: I): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.#waiting.push({ item, resolve, reject });
      if (this.#waiting.length >= this.max) {
        this.flush();
      } else if (!this.#scheduled) {
        this.#scheduled = true;
        setImmediate(() => {
          this.#scheduled = false;
          this.flush();
        });
      }
    });
  }

  /** Commit what is waiting now and settle its promises. Never throws. */
  flush(): void {
    const group = this.#waiting;
    if (group.length === 0) return;
    this.#waiting = [];
    let results: readonly R[];
    try {
      results = this.commit(group.map((w) => w.item));
    } catch (err) {
      for (const w of group) w.reject(err);
      return;
    }
    group.forEach((w, i) => w.resolve(results[i] as R));
  }
}
