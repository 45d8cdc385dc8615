/**
 * The failover link's change feed: richer than the port's LinkStatus (which transport, which URL,
 * what it replaced and why), read as an async iterator by any number of readers. A new reader
 * first gets the latest change (so a component started after the link still learns its state),
 * then every change; the iteration ends when the link is closed. A reader that stops reading
 * holds at most MAX_QUEUED changes.
 */
import type { TransportName } from "../transport/transport.js";

/** Link changes are rare (a few per outage); 64 unread ones means the reader is gone. */
const MAX_QUEUED = 64;

export interface LinkChange {
  /** up: this link now carries envelopes; down: it was lost; fallback: the member moved to another transport. */
  readonly type: "up" | "down" | "fallback";
  readonly transport: TransportName;
  /** The broker address, without credentials. */
  readonly url: string;
  /** The transport used (or wanted) before this one: set on fallback, and on up after a switch. */
  readonly previous?: TransportName;
  readonly reason?: string;
  /** Clock time of the change (ms since the epoch). */
  readonly at: number;
}

interface Reader {
  readonly queue: LinkChange[];
  wake: (() => void) | undefined;
}

export class ChangeFeed {
  #last: LinkChange | undefined;
  #closed = false;
  readonly #readers = new Set<Reader>();

  get last(): LinkChange | undefined {
    return this.#last;
  }

  push(change: LinkChange): void {
    if (this.#closed) return;
    this.#last = change;
    for (const r of this.#readers) {
      r.queue.push(change);
      if (r.queue.length > MAX_QUEUED) r.queue.shift();
      r.wake?.();
    }
  }

  /** Ends every iteration (after the changes already queued). */
  close(): void {
    this.#closed = true;
    for (const r of this.#readers) r.wake?.();
  }

  iterate(): AsyncIterable<LinkChange> {
    return { [Symbol.asyncIterator]: () => this.#iterator() };
  }

  #iterator(): AsyncIterator<LinkChange> {
    const reader: Reader = { queue: this.#last === undefined ? [] : [this.#last], wake: undefined };
    this.#readers.add(reader);
    const finish = (): IteratorResult<LinkChange> => {
      this.#readers.delete(reader);
      reader.queue.length = 0;
      return { done: true, value: undefined };
    };
    return {
      next: async () => {
        while (reader.queue.length === 0 && !this.#closed && this.#readers.has(reader)) {
          await new Promise<void>((resolve) => (reader.wake = resolve));
          reader.wake = undefined;
        }
        const value = reader.queue.shift();
        return value === undefined ? finish() : { done: false, value };
      },
      return: () => {
        const r = finish();
        reader.wake?.();
        return Promise.resolve(r);
      },
    };
  }
}
