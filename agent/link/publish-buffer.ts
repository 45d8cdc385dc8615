/**
 * Publishes made while no link is up wait here, in order, until one is. The buffer is bounded by
 * count and bytes; past either bound the lowest-priority oldest envelope is evicted (the outbox's
 * policy, ARCHITECTURE "Delivery guarantees"), reported to the onDrop hook and counted — never
 * silent. What is still buffered when the link closes is reported the same way.
 */
import type { Envelope } from "../../abi/envelope.js";
import type { Logger } from "../core/logger.js";
import type { Counter, MetricsRegistry } from "../core/metrics.js";

/** A few minutes of a member's ordinary traffic (heartbeats every 5 s, some events). */
export const BUFFER_MAX_MESSAGES = 1000;
/** Caps memory on a Pi whatever the message size (four 1 MiB envelopes at most). */
export const BUFFER_MAX_BYTES = 4 * 1024 * 1024;

export type DropReason = "overflow" | "closed" | "refused";

/** Told about every buffered publish that will never be sent. */
export type DropHook = (subject: string, envelope: Envelope, reason: DropReason, error?: Error) => void;

export interface Buffered {
  readonly subject: string;
  readonly envelope: Envelope;
  readonly bytes: number;
}

export interface PublishBufferOptions {
  readonly maxMessages?: number;
  readonly maxBytes?: number;
  readonly onDrop?: DropHook;
  readonly logger: Logger;
  readonly metrics: MetricsRegistry;
}

export class PublishBuffer {
  readonly #items: Buffered[] = [];
  readonly #maxMessages: number;
  readonly #maxBytes: number;
  readonly #dropped: Counter;
  #bytes = 0;
  /** Overflow is logged once per outage (the counter has the rest). */
  #overflowLogged = false;

  constructor(private readonly opts: PublishBufferOptions) {
    this.#maxMessages = opts.maxMessages ?? BUFFER_MAX_MESSAGES;
    this.#maxBytes = opts.maxBytes ?? BUFFER_MAX_BYTES;
    this.#dropped = opts.metrics.counter("adaos_link_buffer_dropped_total", "Publishes buffered while no link was up and never sent, by reason.");
    opts.metrics.gauge("adaos_link_buffered", "Publishes waiting for a link to the hub.", () => [[{}, this.#items.length]]);
  }

  get length(): number {
    return this.#items.length;
  }

  push(item: Buffered): void {
    this.#items.push(item);
    this.#bytes += item.bytes;
    while (this.#items.length > this.#maxMessages || this.#bytes > this.#maxBytes) this.#evictOne();
  }

  peek(): Buffered | undefined {
    return this.#items[0];
  }

  shift(): void {
    const item = this.#items.shift();
    if (item !== undefined) this.#bytes -= item.bytes;
    if (this.#items.length === 0) this.#overflowLogged = false;
  }

  /** Report an item as dropped (e.g. the link refused it) and remove it if it is buffered. */
  drop(item: Buffered, reason: DropReason, error?: Error): void {
    const i = this.#items.indexOf(item);
    if (i >= 0) {
      this.#items.splice(i, 1);
      this.#bytes -= item.bytes;
    }
    this.#dropped.inc({ reason });
    if (reason === "overflow" && this.#overflowLogged) return this.#report(item, reason, error);
    if (reason === "overflow") this.#overflowLogged = true;
    this.opts.logger.warn({ subject: item.subject, id: item.envelope.id, event: item.envelope.event_name, reason, err: error?.message }, "buffered publish dropped");
    this.#report(item, reason, error);
  }

  #report(item: Buffered, reason: DropReason, error: Error | undefined): void {
    if (this.opts.onDrop === undefined) return;
    try {
      this.opts.onDrop(item.subject, item.envelope, reason, error);
    } catch (err) {
      this.opts.logger.error({ err }, "link onDrop hook failed");
    }
  }

  /** Everything still buffered is reported as dropped with `reason`. */
  dropAll(reason: DropReason): void {
    while (this.#items[0] !== undefined) this.drop(this.#items[0], reason);
  }

  /** The highest priority number (lowest priority) goes first, the oldest among those. */
  #evictOne(): void {
    let victim = this.#items[0];
    for (const item of this.#items) if (victim === undefined || item.envelope.priority > victim.envelope.priority) victim = item;
    if (victim !== undefined) this.drop(victim, "overflow");
  }
}
