/**
 * The dead-letter queue (dead-letters.ts) in memory: for tests of the layers above and for a node
 * without storage. Same semantics as sqlite-dead-letters.ts, bound and trimming included; gone
 * with the process.
 */
import type { Clock } from "../core/clock.js";
import { silentLogger, type Logger } from "../core/logger.js";
import type { DeadLetter, DeadLetterFilter, DeadLetterInput, DeadLetters, DeadReason } from "./dead-letters.js";
import { DEAD_REASONS, deadLetterFields } from "./dead-letters.js";

export interface MemoryDeadLettersOptions {
  /** Most entries kept; the oldest beyond it are deleted. */
  readonly maxRows: number;
  /** Stamps deadAt. */
  readonly clock: Clock;
  readonly logger?: Logger;
}

export class MemoryDeadLetters implements DeadLetters {
  readonly #maxRows: number;
  readonly #clock: Clock;
  readonly #logger: Logger;
  /** By dlqId; ids only grow, so insertion order is oldest first. */
  readonly #entries = new Map<number, DeadLetter>();
  #lastId = 0;
  #trimmed = 0;

  constructor(opts: MemoryDeadLettersOptions) {
    this.#maxRows = opts.maxRows;
    this.#clock = opts.clock;
    this.#logger = opts.logger ?? silentLogger();
  }

  /** Entries deleted because the queue was full, since this instance was created. */
  get trimmed(): number {
    return this.#trimmed;
  }

  add(entries: readonly DeadLetterInput[]): void {
    const deadAt = this.#clock.now();
    for (const e of entries) {
      const dlqId = ++this.#lastId;
      this.#entries.set(dlqId, {
        dlqId,
        ...deadLetterFields(e, deadAt),
        data: Buffer.from(e.data), // a copy, as a database would keep
      });
    }
    this.#trim();
  }

  list(filter: DeadLetterFilter = {}): DeadLetter[] {
    const after = filter.after ?? 0;
    const limit = filter.limit === undefined || filter.limit < 0 ? Infinity : filter.limit;
    const out: DeadLetter[] = [];
    for (const entry of this.#entries.values()) {
      if (out.length >= limit) break;
      if (entry.dlqId > after && (filter.reason === undefined || entry.reason === filter.reason)) out.push(entry);
    }
    return out;
  }

  get(dlqId: number): DeadLetter | undefined {
    return this.#entries.get(dlqId);
  }

  remove(dlqIds: readonly number[]): number {
    let removed = 0;
    for (const id of new Set(dlqIds)) if (this.#entries.delete(id)) removed++;
    return removed;
  }

  purge(filter: { readonly reason?: DeadReason } = {}): number {
    let removed = 0;
    for (const [id, entry] of this.#entries) {
      if (filter.reason !== undefined && entry.reason !== filter.reason) continue;
      this.#entries.delete(id);
      removed++;
    }
    return removed;
  }

  count(): { readonly total: number; readonly byReason: Readonly<Record<DeadReason, number>> } {
    const byReason = Object.fromEntries(DEAD_REASONS.map((r) => [r, 0])) as Record<DeadReason, number>;
    for (const entry of this.#entries.values()) byReason[entry.reason]++;
    return { total: this.#entries.size, byReason };
  }

  #trim(): void {
    const excess = this.#entries.size - this.#maxRows;
    if (excess <= 0) return;
    let left = excess;
    for (const id of this.#entries.keys()) {
      if (left-- === 0) break;
      this.#entries.delete(id);
    }
    this.#trimmed += excess;
    this.#logger.warn({ deleted: excess, maxRows: this.#maxRows }, "dead-letter queue full: deleted the oldest entries");
  }
}
