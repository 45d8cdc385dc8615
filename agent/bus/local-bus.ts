/**
 * The in-process bus: validated publish, NATS-style wildcard subscriptions, queue groups,
 * request/reply, per-subscriber priority order, a dedup window and isolated handlers.
 *
 * Delivery is asynchronous: publish() validates and enqueues; each subscription drains its own
 * queue (highest priority first, FIFO within a priority) one envelope at a time, awaiting
 * handlers that return a promise. A throwing handler is logged and counted, never fatal.
 */
import type { Envelope } from "../../abi/envelope.js";
import { HEADER } from "../../abi/envelope.js";
import type { Component } from "../core/component.js";
import type { Clock } from "../core/clock.js";
import { systemClock } from "../core/clock.js";
import { deriveEnvelope, isExpired } from "../core/envelope.js";
import {
  BusClosedError, EnvelopeExpiredError, EnvelopeInvalidError, NoRespondersError, TimeoutError, UnknownEventError,
} from "../core/errors.js";
import type { Logger } from "../core/logger.js";
import type { Counter, MetricsRegistry } from "../core/metrics.js";
import type { EventCatalog } from "../registry/catalog.js";
import { checkEnvelope } from "../registry/check.js";
import type {
  Bus, Handler, PublishOptions, PublishResult, RejectHook, RejectReason, ReplyInit, RequestOptions, SettledResult, SubscribeOptions, Subscription,
} from "./bus.js";
import { DEFAULT_REQUEST_TIMEOUT_MS } from "./bus.js";
import { DedupWindow } from "./dedup.js";
import { matches, patternTokens, subjectTokens } from "./subject.js";
import { PriorityQueue } from "./priority-queue.js";

/** Handlers run per subscription in batches of this size before yielding to I/O. */
const DRAIN_BATCH = 256;
/** Subjects whose subscriber lists are cached; cleared whenever subscriptions change. */
const MATCH_CACHE_MAX = 10_000;
export const INBOX_PREFIX = "_inbox";

export interface LocalBusOptions {
  readonly catalog: EventCatalog;
  readonly logger: Logger;
  readonly metrics: MetricsRegistry;
  /** Source written into replies this bus creates (agent://<role>/<node_id>). */
  readonly source: string;
  readonly clock?: Clock;
  readonly dedupWindow?: number;
  readonly maxPending?: number;
  readonly requestTimeoutMs?: number;
  /** Called for every envelope refused or dropped; the DLQ hooks in here. */
  readonly onReject?: RejectHook;
}

interface Item {
  readonly envelope: Envelope;
  readonly subject: string;
  /** Present for publishSettled(): counts subscribers down to zero. */
  readonly settle?: Settle;
}

/** The countdown behind publishSettled(). */
class Settle {
  failed = 0;
  #remaining = 0;
  #resolve: (() => void) | undefined;
  readonly done: Promise<void>;

  constructor() {
    this.done = new Promise((resolve) => (this.#resolve = resolve));
  }

  expect(n: number): void {
    this.#remaining = n;
    if (n === 0) this.#resolve?.();
  }

  finished(ok: boolean): void {
    if (!ok) this.failed++;
    if (--this.#remaining === 0) this.#resolve?.();
  }
}

interface Match {
  readonly plain: LocalSubscription[];
  readonly groups: Map<string, LocalSubscription[]>;
}

interface BusCounters {
  readonly published: Counter;
  readonly delivered: Counter;
  readonly rejected: Counter;
  readonly dropped: Counter;
  readonly duplicates: Counter;
  readonly handlerErrors: Counter;
}

class LocalSubscription implements Subscription {
  readonly tokens: readonly string[];
  readonly #queue = new PriorityQueue<Item>();
  #running = false;
  #closed = false;

  constructor(
    private readonly bus: LocalBus,
    readonly pattern: string,
    readonly queue: string | undefined,
    readonly maxPending: number,
    private readonly handler: Handler,
  ) {
    this.tokens = patternTokens(pattern);
  }

  get pending(): number {
    return this.#queue.length;
  }

  get closed(): boolean {
    return this.#closed;
  }

  unsubscribe(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.bus.remove(this);
    for (const item of this.#queue.drain()) this.bus.dropped(item, "closed");
  }

  enqueue(item: Item): boolean {
    if (this.#queue.length >= this.maxPending) return false;
    this.#queue.push(item, item.envelope.priority);
    if (!this.#running) {
      this.#running = true;
      setImmediate(() => void this.#drain());
    }
    return true;
  }

  async #drain(): Promise<void> {
    for (let n = 0; n < DRAIN_BATCH; n++) {
      if (this.#closed) break;
      const item = this.#queue.shift();
      if (item === undefined) break;
      // Await only handlers that are asynchronous: a synchronous one costs no microtask.
      const pending = this.bus.deliver(item, this.handler, this);
      if (pending !== undefined) await pending;
    }
    if (!this.#closed && this.#queue.length > 0) {
      setImmediate(() => void this.#drain());
    } else {
      this.#running = false;
    }
  }
}

export class LocalBus implements Bus, Component {
  readonly name = "bus";
  readonly #subs = new Set<LocalSubscription>();
  readonly #cache = new Map<string, Match>();
  readonly #rr = new Map<string, number>();
  readonly #dedup: DedupWindow;
  readonly #clock: Clock;
  readonly #counters: BusCounters;
  readonly #pendingRequests = new Set<(err: Error) => void>();
  #closed = false;

  constructor(private readonly opts: LocalBusOptions) {
    this.#clock = opts.clock ?? systemClock;
    this.#dedup = new DedupWindow(opts.dedupWindow ?? 100_000);
    const m = opts.metrics;
    this.#counters = {
      published: m.counter("adaos_bus_published_total", "Envelopes accepted by the bus."),
      delivered: m.counter("adaos_bus_delivered_total", "Envelopes handed to a subscriber's handler."),
      rejected: m.counter("adaos_bus_rejected_total", "Envelopes refused at publish, by reason."),
      dropped: m.counter("adaos_bus_dropped_total", "Accepted envelopes not delivered to a subscriber, by reason."),
      duplicates: m.counter("adaos_bus_duplicates_total", "Envelopes dropped because their id was in the dedup window."),
      handlerErrors: m.counter("adaos_bus_handler_errors_total", "Subscriber handlers that threw or rejected."),
    };
    m.gauge("adaos_bus_subscriptions", "Live subscriptions on the bus.", () => [[{}, this.#subs.size]]);
    m.gauge("adaos_bus_pending", "Envelopes waiting in subscriber queues.", () => [[{}, [...this.#subs].reduce((s, x) => s + x.pending, 0)]]);
  }

  start(): Promise<void> {
    return Promise.resolve();
  }

  stop(): Promise<void> {
    this.#closed = true;
    for (const fail of [...this.#pendingRequests]) fail(new BusClosedError("bus stopped before the reply arrived"));
    for (const sub of [...this.#subs]) sub.unsubscribe();
    return Promise.resolve();
  }

  publish(data: unknown, options: PublishOptions = {}): PublishResult {
    return this.#publish(data, options, undefined);
  }

  async publishSettled(data: unknown, options: PublishOptions = {}): Promise<SettledResult> {
    const settle = new Settle();
    const result = this.#publish(data, options, settle);
    await settle.done;
    return { ...result, failed: settle.failed };
  }

  #publish(data: unknown, options: PublishOptions, settle: Settle | undefined): PublishResult {
    if (this.#closed) {
      const err = new BusClosedError("bus is stopped");
      this.#reject(data, "closed", err);
      throw err;
    }
    let envelope: Envelope;
    try {
      envelope = checkEnvelope(this.opts.catalog, data).envelope;
    } catch (err) {
      this.#reject(data, err instanceof UnknownEventError ? "unknown_event" : "invalid", err as Error);
      throw err;
    }
    if (isExpired(envelope, this.#clock.now())) {
      const err = new EnvelopeExpiredError(`envelope ${envelope.id} (${envelope.event_name}) expired before it was published`);
      this.#reject(envelope, "expired", err);
      throw err;
    }
    const subject = options.subject ?? envelope.event_name;
    const match = this.#match(subject);
    if (this.#dedup.seen(envelope.id)) {
      this.#counters.duplicates.inc();
      settle?.expect(0);
      return { id: envelope.id, duplicate: true, matched: 0 };
    }
    Object.freeze(envelope);
    this.#counters.published.inc();
    const item: Item = settle === undefined ? { envelope, subject } : { envelope, subject, settle };
    settle?.expect(match.plain.length + match.groups.size);
    let matched = 0;
    for (const sub of match.plain) {
      matched++;
      if (!sub.enqueue(item)) this.dropped(item, "slow_consumer");
    }
    for (const [queue, members] of match.groups) {
      matched++;
      const sub = this.#pick(queue, members);
      if (!sub.enqueue(item)) this.dropped(item, "slow_consumer");
    }
    return { id: envelope.id, duplicate: false, matched };
  }

  subscribe(pattern: string, handler: Handler, options: SubscribeOptions = {}): Subscription {
    if (this.#closed) throw new BusClosedError("bus is stopped");
    const sub = new LocalSubscription(this, pattern, options.queue, options.maxPending ?? this.opts.maxPending ?? 10_000, handler);
    this.#subs.add(sub);
    this.#cache.clear();
    return sub;
  }

  request(data: unknown, options: RequestOptions = {}): Promise<Envelope> {
    if (typeof data !== "object" || data === null) return Promise.reject(new EnvelopeInvalidError("a request must be an envelope object"));
    const request = data as Envelope;
    const inbox = `${INBOX_PREFIX}.${typeof request.id === "string" ? request.id : "x"}`;
    const timeoutMs = options.timeoutMs ?? this.opts.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
    return new Promise<Envelope>((resolve, reject) => {
      const settle = (fn: () => void): void => {
        timer.cancel();
        sub.unsubscribe();
        this.#pendingRequests.delete(fail);
        fn();
      };
      const fail = (err: Error): void => settle(() => reject(err));
      const sub = this.subscribe(inbox, (reply) => settle(() => resolve(reply)), { maxPending: 1 });
      const timer = this.#clock.setTimer(
        () => fail(new TimeoutError(`no reply to ${request.event_name} (${request.id}) within ${timeoutMs} ms`)),
        timeoutMs,
      );
      this.#pendingRequests.add(fail);
      try {
        const result = this.publish({ ...request, headers: { ...request.headers, [HEADER.replyTo]: inbox } });
        if (result.duplicate) fail(new EnvelopeInvalidError(`request ${request.id} is a duplicate of one already published`));
        else if (result.matched === 0) fail(new NoRespondersError(`no subscriber for ${request.event_name}`));
      } catch (err) {
        fail(err as Error);
      }
    });
  }

  reply(request: Envelope, reply: ReplyInit): PublishResult {
    const inbox = request.headers[HEADER.replyTo];
    if (inbox === undefined) throw new EnvelopeInvalidError(`${request.event_name} (${request.id}) has no reply_to header to answer`);
    const envelope = deriveEnvelope(request, { ...reply, kind: "reply", source: this.opts.source }, this.#clock);
    return this.publish(envelope, { subject: inbox });
  }

  /**
   * Called by a subscription for each envelope it takes off its queue. Returns a promise only
   * when the handler did, so synchronous handlers run without a microtask per envelope.
   */
  deliver(item: Item, handler: Handler, sub: LocalSubscription): Promise<void> | undefined {
    if (isExpired(item.envelope, this.#clock.now())) {
      this.dropped(item, "expired");
      return undefined;
    }
    let done: void | Promise<void>;
    try {
      done = handler(item.envelope, item.subject);
    } catch (err) {
      this.#handlerFailed(err, item, sub);
      return undefined;
    }
    if (done === undefined) {
      this.#delivered(item);
      return undefined;
    }
    return done.then(
      () => this.#delivered(item),
      (err: unknown) => this.#handlerFailed(err, item, sub),
    );
  }

  #delivered(item: Item): void {
    this.#counters.delivered.inc();
    item.settle?.finished(true);
  }

  #handlerFailed(err: unknown, item: Item, sub: LocalSubscription): void {
    item.settle?.finished(false);
    this.#counters.handlerErrors.inc();
    this.opts.logger.error(
      { err, event: item.envelope.event_name, id: item.envelope.id, pattern: sub.pattern },
      "subscriber failed; envelope skipped for this subscriber",
    );
  }

  /** An accepted envelope that a subscriber will not get. */
  dropped(item: Item, reason: RejectReason): void {
    const { envelope } = item;
    item.settle?.finished(false);
    this.#counters.dropped.inc({ reason });
    this.#hook(envelope, reason, new Error(`${envelope.event_name} (${envelope.id}) dropped: ${reason}`));
  }

  remove(sub: LocalSubscription): void {
    this.#subs.delete(sub);
    this.#cache.clear();
  }

  #reject(data: unknown, reason: RejectReason, err: Error): void {
    this.#counters.rejected.inc({ reason });
    this.#hook(data, reason, err);
  }

  #hook(data: unknown, reason: RejectReason, err: Error): void {
    if (this.opts.onReject === undefined) return;
    try {
      this.opts.onReject(data, reason, err);
    } catch (hookErr) {
      this.opts.logger.error({ err: hookErr }, "reject hook failed");
    }
  }

  #match(subject: string): Match {
    const cached = this.#cache.get(subject);
    if (cached !== undefined) return cached;
    const tokens = subjectTokens(subject);
    const match: Match = { plain: [], groups: new Map() };
    for (const sub of this.#subs) {
      if (!matches(sub.tokens, tokens)) continue;
      if (sub.queue === undefined) match.plain.push(sub);
      else {
        const members = match.groups.get(sub.queue);
        if (members === undefined) match.groups.set(sub.queue, [sub]);
        else members.push(sub);
      }
    }
    if (this.#cache.size >= MATCH_CACHE_MAX) this.#cache.clear();
    this.#cache.set(subject, match);
    return match;
  }

  /** One member of a queue group: the next idle one in round-robin order, else the least loaded. */
  #pick(queue: string, members: readonly LocalSubscription[]): LocalSubscription {
    const start = this.#rr.get(queue) ?? 0;
    let best = members[start % members.length] as LocalSubscription;
    for (let i = 0; i < members.length; i++) {
      const m = members[(start + i) % members.length] as LocalSubscription;
      if (m.pending === 0) {
        best = m;
        break;
      }
      if (m.pending < best.pending) best = m;
    }
    this.#rr.set(queue, (members.indexOf(best) + 1) % members.length);
    return best;
  }
}
