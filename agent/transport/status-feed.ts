/**
 * Link status as an async iterable with any number of readers. Each reader gets the current
 * state first, then every change; the iteration ends after {type: "closed"}. A reader that stops
 * reading does not hold memory forever: past MAX_QUEUED unread changes the oldest are dropped.
 */
import type { LinkStatus } from "./transport.js";

/** Status changes are rare (a few per outage); 64 unread ones means the reader is gone. */
const MAX_QUEUED = 64;

interface Reader {
  readonly queue: LinkStatus[];
  wake: (() => void) | undefined;
}

export class StatusFeed {
  #current: LinkStatus = { type: "connecting" };
  readonly #readers = new Set<Reader>();

  get current(): LinkStatus {
    return this.#current;
  }

  get isClosed(): boolean {
    return this.#current.type === "closed";
  }

  push(status: LinkStatus): void {
    if (this.isClosed) return;
    this.#current = status;
    for (const r of this.#readers) {
      r.queue.push(status);
      if (r.queue.length > MAX_QUEUED) r.queue.shift();
      r.wake?.();
    }
  }

  iterate(): AsyncIterable<LinkStatus> {
    return { [Symbol.asyncIterator]: () => this.#iterator() };
  }

  #iterator(): AsyncIterator<LinkStatus> {
    const reader: Reader = { queue: [this.#current], wake: undefined };
    this.#readers.add(reader);
    let done = false;
    const finish = (): IteratorResult<LinkStatus> => {
      done = true;
      this.#readers.delete(reader);
      return { done: true, value: undefined };
    };
    return {
      next: async () => {
        if (done) return { done: true, value: undefined };
        while (reader.queue.length === 0) {
          await new Promise<void>((resolve) => (reader.wake = resolve));
          reader.wake = undefined;
        }
        const value = reader.queue.shift() as LinkStatus;
        if (value.type === "closed") {
          done = true;
          this.#readers.delete(reader);
        }
        return { done: false, value };
      },
      return: () => Promise.resolve(finish()),
    };
  }
}
