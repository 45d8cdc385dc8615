/**
 * The inbox (inbox.ts) in memory: for tests and for a node without storage. A Set keeps insertion
 * order, so the window forgets the oldest recorded key first, like sqlite-inbox.ts; a key recorded
 * again keeps its first place. Nothing survives a restart.
 */
import { StorageError } from "../core/errors.js";
import type { Inbox } from "./inbox.js";

export interface MemoryInboxOptions {
  /** How many keys are remembered; beyond it the oldest recorded are forgotten first. */
  readonly window: number;
}

export class MemoryInbox implements Inbox {
  readonly #window: number;
  readonly #keys = new Set<string>();
  #closed = false;

  constructor(opts: MemoryInboxOptions) {
    this.#window = opts.window;
  }

  has(key: string): boolean {
    if (this.#closed) throw new StorageError("the inbox is closed");
    return this.#keys.has(key);
  }

  record(key: string): Promise<void> {
    if (this.#closed) return Promise.reject(new StorageError("the inbox is closed"));
    this.#keys.add(key);
    for (const oldest of this.#keys) {
      if (this.#keys.size <= this.#window) break;
      this.#keys.delete(oldest);
    }
    return Promise.resolve();
  }

  size(): number {
    return this.#keys.size;
  }

  close(): Promise<void> {
    this.#closed = true;
    return Promise.resolve();
  }
}
