/**
 * Resource locks of the scenario runtime (`locks: [mic, tts]` on a step): while one run holds a
 * resource no other run gets it, so two runs never speak at once.
 *
 * Rules: a lock is exclusive; waiters get it in arrival order (FIFO per resource); a step's locks
 * are taken in sorted name order, one at a time, which rules out deadlock between steps that need
 * overlapping sets. Waiting honours an AbortSignal: a cancelled run leaves the queue and takes
 * nothing. release() is idempotent. Locks live in memory: after a restart nobody holds any.
 */
import { CancelledError } from "../core/errors.js";

interface Waiter {
  readonly grant: () => void;
}

export interface LockHold {
  /** Give every lock back (safe to call twice). */
  release(): void;
}

export class ResourceLocks {
  /** Resource → the queue; the first entry holds it. */
  readonly #queues = new Map<string, Waiter[]>();

  /** Take every named lock, waiting in line for each; rejects with CancelledError on abort. */
  async acquire(names: readonly string[], signal?: AbortSignal): Promise<LockHold> {
    const sorted = [...new Set(names)].sort();
    const held: string[] = [];
    const releaseAll = (): void => {
      for (const name of held.splice(0)) this.#release(name);
    };
    try {
      for (const name of sorted) {
        await this.#take(name, signal);
        held.push(name);
      }
    } catch (err) {
      releaseAll();
      throw err;
    }
    let released = false;
    return {
      release: () => {
        if (released) return;
        released = true;
        releaseAll();
      },
    };
  }

  /** Who waits for (or holds) each busy resource, for status and tests. */
  busy(): ReadonlyMap<string, number> {
    return new Map([...this.#queues].map(([name, q]) => [name, q.length]));
  }

  #take(name: string, signal: AbortSignal | undefined): Promise<void> {
    if (signal?.aborted === true) return Promise.reject(cancelled(name, signal));
    const queue = this.#queues.get(name) ?? [];
    this.#queues.set(name, queue);
    return new Promise<void>((resolve, reject) => {
      const onAbort = (): void => {
        const i = queue.indexOf(waiter);
        // Index 0 means it was granted in the same tick; the caller's releaseAll() gives it back.
        if (i > 0) queue.splice(i, 1);
        reject(cancelled(name, signal));
      };
      const waiter: Waiter = {
        grant: () => {
          signal?.removeEventListener("abort", onAbort);
          resolve();
        },
      };
      queue.push(waiter);
      if (queue.length === 1) waiter.grant();
      else signal?.addEventListener("abort", onAbort, { once: true });
    });
  }

  #release(name: string): void {
    const queue = this.#queues.get(name);
    if (queue === undefined) return;
    queue.shift();
    const next = queue[0];
    if (next === undefined) this.#queues.delete(name);
    else next.grant();
  }
}

function cancelled(name: string, signal: AbortSignal | undefined): CancelledError {
  const reason: unknown = signal?.reason;
  return reason instanceof CancelledError ? reason : new CancelledError(`cancelled while waiting for the ${name} lock`, { cause: reason });
}
