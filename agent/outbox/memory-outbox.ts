/**
 * The outbox (outbox.ts) in memory: for tests of the layers above and for a node without storage.
 * Same order, limits, expiry, dead letters and stats as sqlite-outbox.ts; enqueue resolves on a
 * microtask and nothing survives the process. Like the SQLite one, changed() also resolves on
 * close.
 */
import type { Envelope } from "../../abi/envelope.js";
import type { Clock } from "../core/clock.js";
import { StorageError } from "../core/errors.js";
import type { Logger } from "../core/logger.js";
import type { DeadLetterInput, DeadReason } from "./dead-letters.js";
import { MemoryDeadLetters } from "./memory-dead-letters.js";
import type { Outbox, OutboxEntry, OutboxLimits, OutboxStats } from "./outbox.js";
import { newEntryFields, EXPIRED_ERROR, overflowError, withLastError, zeroCounters, type OutboxCounters } from "./outbox-rules.js";

export interface MemoryOutboxOptions {
  readonly limits: OutboxLimits;
  /** Most dead letters kept (the dlq's bound). */
  readonly dlqMaxRows: number;
  readonly clock: Clock;
  readonly logger?: Logger;
}

interface Item extends OutboxEntry {
  attempts: number;
  lastError: string | undefined;
  readonly eventName: string;
}


export class MemoryOutbox implements Outbox {
  readonly dlq: MemoryDeadLetters;
  readonly #limits: OutboxLimits;
  readonly #clock: Clock;
  /** Every entry by id, in seq order (insertion order of the Map). */
  readonly #byId = new Map<string, Item>();
  /** The same entries per priority, each in seq order. */
  readonly #byPriority = new Map<number, Map<number, Item>>();
  readonly #inFlight = new Set<string>();
  readonly #counters: OutboxCounters = zeroCounters();
  #lastSeq = 0;
  #bytes = 0;
  #closed = false;
  #wakeups: (() => void)[] = [];

  constructor(opts: MemoryOutboxOptions) {
    this.#limits = opts.limits;
    this.#clock = opts.clock;
    this.dlq = new MemoryDeadLetters({ maxRows: opts.dlqMaxRows, clock: opts.clock, ...(opts.logger === undefined ? {} : { logger: opts.logger }) });
  }

  enqueue(subject: string, envelope: Envelope): Promise<{ readonly duplicate: boolean }> {
    if (this.#closed) return Promise.reject(new StorageError(`the outbox is closed: envelope ${envelope.id} was not stored`));
    if (this.#byId.has(envelope.id)) return Promise.resolve({ duplicate: true });
    let data: Buffer;
    try {
      data = Buffer.from(JSON.stringify(envelope));
    } catch (err) {
      return Promise.reject(new StorageError(`cannot store envelope ${envelope.id}: ${(err as Error).message}`, { cause: err }));
    }
    const now = this.#clock.now();
    this.#add({
      seq: ++this.#lastSeq,
      ...newEntryFields(subject, envelope, now, this.#limits.ttlMs),
      attempts: 0,
      lastError: undefined,
      eventName: envelope.event_name,
      data,
    });
    this.#counters.added++;
    this.#overflow();
    this.#wake();
    return Promise.resolve({ duplicate: false });
  }

  next(max: number): OutboxEntry[] {
    const out: OutboxEntry[] = [];
    if (this.#closed) return out;
    const now = this.#clock.now();
    for (const p of this.#priorities("highest first")) {
      for (const item of this.#byPriority.get(p)?.values() ?? []) {
        if (out.length >= max) return out;
        if (this.#inFlight.has(item.id) || item.expiresAt <= now) continue;
        this.#inFlight.add(item.id);
        out.push(entryOf(item));
      }
    }
    return out;
  }

  sent(ids: readonly string[]): void {
    for (const id of ids) {
      this.#inFlight.delete(id);
      if (this.#remove(id) !== undefined) this.#counters.sent++;
    }
  }

  retry(ids: readonly string[], error: string): void {
    for (const id of ids) {
      this.#inFlight.delete(id);
      const item = this.#byId.get(id);
      if (item === undefined) continue;
      item.attempts++;
      item.lastError = error;
      this.#counters.retried++;
    }
  }

  poison(ids: readonly string[], error: string): void {
    const dead: Item[] = [];
    for (const id of ids) {
      this.#inFlight.delete(id);
      const item = this.#remove(id);
      if (item !== undefined) dead.push(item);
    }
    dead.sort((a, b) => a.seq - b.seq);
    this.dlq.add(dead.map((item) => deadLetter(item, "poison", item.attempts + 1, error)));
    this.#counters.poisoned += dead.length;
  }

  sweep(): number {
    const now = this.#clock.now();
    const dead = [...this.#byId.values()]
      .filter((item) => item.expiresAt <= now && !this.#inFlight.has(item.id))
      .sort((a, b) => a.expiresAt - b.expiresAt || a.seq - b.seq);
    for (const item of dead) this.#remove(item.id);
    this.dlq.add(dead.map((item) => deadLetter(item, "expired", item.attempts, withLastError(EXPIRED_ERROR, item.lastError))));
    this.#counters.expired += dead.length;
    return dead.length;
  }

  stats(): OutboxStats {
    const first = this.#byId.values().next();
    return {
      depth: this.#byId.size,
      bytes: this.#bytes,
      inFlight: this.#inFlight.size,
      oldestAgeMs: first.done === true ? 0 : Math.max(0, this.#clock.now() - first.value.enqueuedAt),
      ...this.#counters,
    };
  }

  changed(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    return new Promise((resolve) => this.#wakeups.push(resolve));
  }

  close(): Promise<void> {
    this.#closed = true;
    this.#wake();
    return Promise.resolve();
  }

  /** While over a limit: the lowest priority's oldest entries not in flight go to the DLQ. */
  #overflow(): void {
    const over = (): boolean => this.#byId.size > this.#limits.maxRows || this.#bytes > this.#limits.maxBytes;
    if (!over()) return;
    const dead: Item[] = [];
    for (const p of this.#priorities("lowest first")) {
      for (const item of this.#byPriority.get(p)?.values() ?? []) {
        if (!over()) break;
        if (this.#inFlight.has(item.id)) continue;
        this.#remove(item.id);
        dead.push(item);
      }
    }
    const error = overflowError(this.#limits);
    this.dlq.add(dead.map((item) => deadLetter(item, "overflow", item.attempts, withLastError(error, item.lastError))));
    this.#counters.overflowed += dead.length;
  }

  #priorities(order: "highest first" | "lowest first"): number[] {
    const sign = order === "highest first" ? 1 : -1;
    return [...this.#byPriority.keys()].sort((a, b) => sign * (a - b));
  }

  #add(item: Item): void {
    this.#byId.set(item.id, item);
    let level = this.#byPriority.get(item.priority);
    if (level === undefined) this.#byPriority.set(item.priority, (level = new Map<number, Item>()));
    level.set(item.seq, item);
    this.#bytes += item.data.length;
  }

  #remove(id: string): Item | undefined {
    const item = this.#byId.get(id);
    if (item === undefined) return undefined;
    this.#byId.delete(id);
    const level = this.#byPriority.get(item.priority);
    level?.delete(item.seq);
    if (level?.size === 0) this.#byPriority.delete(item.priority);
    this.#bytes -= item.data.length;
    return item;
  }

  #wake(): void {
    const wakeups = this.#wakeups;
    this.#wakeups = [];
    for (const wake of wakeups) wake();
  }
}

function entryOf(item: Item): OutboxEntry {
  const { seq, id, subject, priority, source, enqueuedAt, expiresAt, attempts, data } = item;
  return { seq, id, subject, priority, source, enqueuedAt, expiresAt, attempts, data };
}

function deadLetter(item: Item, reason: DeadReason, attempts: number, lastError: string): DeadLetterInput {
  return {
    reason,
    origin: "outbox",
    data: item.data,
    id: item.id,
    eventName: item.eventName,
    subject: item.subject,
    source: item.source,
    attempts,
    lastError,
  };
}
