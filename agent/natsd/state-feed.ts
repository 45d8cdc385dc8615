/**
 * The supervisor's state changes, to callbacks and to any number of async-iterator readers. A
 * reader first gets the current state (if any), then every change; iteration ends at close().
 * A throwing callback is contained: one bad listener does not stop the others.
 */

export type NatsdState =
  | { readonly type: "up"; readonly url: string }
  | { readonly type: "down"; readonly reason: string }
  | { readonly type: "unavailable"; readonly reason: string };

/** Changes are rare (a few per crash); a reader 64 behind has stopped reading. */
const MAX_QUEUED = 64;

interface Reader {
  readonly queue: NatsdState[];
  wake: (() => void) | undefined;
}

export class StateFeed {
  #current: NatsdState | undefined;
  #closed = false;
  readonly #listeners = new Set<(s: NatsdState) => void>();
  readonly #readers = new Set<Reader>();

  constructor(private readonly onListenerError: (err: unknown) => void) {}

  get current(): NatsdState | undefined {
    return this.#current;
  }

  push(state: NatsdState): void {
    if (this.#closed) return;
    this.#current = state;
    for (const fn of this.#listeners) {
      try {
        fn(state);
      } catch (err) {
        this.onListenerError(err);
      }
    }
    for (const r of this.#readers) {
      r.queue.push(state);
      if (r.queue.length > MAX_QUEUED) r.queue.shift();
      r.wake?.();
    }
  }

  /** Call fn on every change; returns the unsubscribe function. */
  on(fn: (s: NatsdState) => void): () => void {
    this.#listeners.add(fn);
    return () => this.#listeners.delete(fn);
  }

  close(): void {
    this.#closed = true;
    this.#listeners.clear();
    for (const r of this.#readers) r.wake?.();
  }

  [Symbol.asyncIterator](): AsyncIterator<NatsdState> {
    const reader: Reader = { queue: this.#current === undefined ? [] : [this.#current], wake: undefined };
    this.#readers.add(reader);
    const done = (): IteratorResult<NatsdState> => {
      this.#readers.delete(reader);
      return { done: true, value: undefined };
    };
    return {
      next: async () => {
        while (reader.queue.length === 0) {
          if (this.#closed) return done();
          await new Promise<void>((resolve) => (reader.wake = resolve));
          reader.wake = undefined;
        }
        return { done: false, value: reader.queue.shift() as NatsdState };
      },
      return: () => Promise.resolve(done()),
    };
  }
}
