/**
 * Answers to requests from the other node, by request id, for a while after they were asked. A
 * member whose link switches (NATS → MQTT) sends a request in flight again, with the same id, on
 * the new link — to the hub's other bridge. Asking the bus again would be refused as a duplicate;
 * the cache hands back the first asking's answer instead (pending or done), so the caller gets its
 * one reply. A hub shares one cache between its bridges.
 */
import type { Envelope } from "../../abi/envelope.js";
import type { Clock } from "../core/clock.js";

/** Longer than any request timeout plus a switch; after it a repeat is a new question. */
export const ANSWER_TTL_MS = 60_000;
/** A burst of requests cannot grow it without bound. */
export const ANSWER_MAX = 10_000;

interface Entry {
  readonly at: number;
  readonly answer: Promise<Envelope>;
}

export class AnswerCache {
  readonly #entries = new Map<string, Entry>();

  constructor(private readonly clock: Clock, private readonly ttlMs = ANSWER_TTL_MS, private readonly max = ANSWER_MAX) {}

  /** The answer to request `id`: the one already asked for, or `ask()` now. The second value says which. */
  get(id: string, ask: () => Promise<Envelope>): { readonly answer: Promise<Envelope>; readonly repeat: boolean } {
    const now = this.clock.now();
    this.#evict(now);
    const known = this.#entries.get(id);
    if (known !== undefined) return { answer: known.answer, repeat: true };
    const answer = ask();
    answer.catch(() => undefined); // a rejection is handled by each caller; never unhandled here
    this.#entries.set(id, { at: now, answer });
    return { answer, repeat: false };
  }

  get size(): number {
    return this.#entries.size;
  }

  #evict(now: number): void {
    for (const [id, e] of this.#entries) {
      if (this.#entries.size < this.max && now - e.at < this.ttlMs) break; // insertion order: the rest are newer
      this.#entries.delete(id);
    }
  }
}
