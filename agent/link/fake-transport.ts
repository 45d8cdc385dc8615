/**
 * Test support: an in-memory broker and transport adapter with the port's behaviour (connect
 * retries until its signal aborts, status feed, down/up while the adapter "reconnects", requests
 * that time out on the injected clock and fail with TransportClosedError at close), so the failover's
 * switching logic is tested without sockets or sleeping.
 */
import type { Envelope } from "../../abi/envelope.js";
import type { Clock, TimerHandle } from "../core/clock.js";
import { TransportClosedError, TimeoutError } from "../core/errors.js";
import { matches, patternTokens, subjectTokens } from "../bus/subject.js";
import { StatusFeed } from "../transport/status-feed.js";
import type { LinkStatus, Message, MessageHandler, RequestOptions, SubscribeOptions, Transport, TransportName, TransportSubscription } from "../transport/transport.js";
import type { Candidate } from "./link.js";

interface FakeSub {
  readonly tokens: readonly string[];
  readonly pattern: string;
  readonly queue: string | undefined;
  readonly handler: MessageHandler;
  open: boolean;
}

export class FakeBroker {
  reachable = true;
  /** Adapters made for this address (one per dial). */
  readonly made: FakeTransport[] = [];
  readonly published: { readonly subject: string; readonly envelope: Envelope }[] = [];
  readonly requests: Envelope[] = [];
  /** When set, subscribe() fails with it (e.g. a permissions violation). */
  refuseSubscriptions: Error | undefined;
  /** Answers a request (or stays silent with undefined). */
  responder: ((request: Envelope) => Envelope | undefined) | undefined;
  readonly #waiting = new Set<() => void>();

  constructor(readonly name: TransportName, readonly url: string, readonly clock: Clock) {}

  candidate(): Candidate {
    return { transport: this.name, url: this.url, create: () => this.#make() };
  }

  #make(): FakeTransport {
    const t = new FakeTransport(this);
    this.made.push(t);
    return t;
  }

  get live(): FakeTransport[] {
    return this.made.filter((t) => t.state !== "closed");
  }

  /** The broker dies: connected adapters report down and keep "reconnecting". */
  down(reason = "connection reset"): void {
    this.reachable = false;
    for (const t of this.live) t.lost(reason);
  }

  up(): void {
    this.reachable = true;
    for (const t of this.live) t.back();
    for (const wake of [...this.#waiting]) wake();
    this.#waiting.clear();
  }

  whenUp(wake: () => void): () => void {
    this.#waiting.add(wake);
    return () => this.#waiting.delete(wake);
  }

  /** Deliver to every open matching subscription of every connected adapter. */
  deliver(subject: string, envelope: Envelope, replyTo?: string): number {
    let n = 0;
    for (const t of this.live) n += t.receive({ subject, envelope, replyTo });
    return n;
  }
}

export class FakeTransport implements Transport {
  readonly name: TransportName;
  readonly capabilities;
  readonly feed = new StatusFeed();
  readonly subs: FakeSub[] = [];
  state: "new" | "up" | "down" | "closed" = "new";
  readonly #pending = new Set<(err: Error) => void>();
  #resolveClosed: (e: Error | undefined) => void = () => undefined;
  readonly #closed = new Promise<Error | undefined>((r) => (this.#resolveClosed = r));

  constructor(readonly broker: FakeBroker) {
    this.name = broker.name;
    this.capabilities = broker.name === "nats"
      ? { nativeQueueGroups: true, noResponders: true, replyAddress: "protocol" as const }
      : { nativeQueueGroups: false, noResponders: false, replyAddress: "header" as const };
  }

  async connect(signal: AbortSignal): Promise<void> {
    if (!this.broker.reachable) {
      await new Promise<void>((resolve, reject) => {
        const off = this.broker.whenUp(resolve);
        signal.addEventListener("abort", () => {
          off();
          reject(signal.reason as Error);
        }, { once: true });
      }).catch(async (err: unknown) => {
        await this.close();
        throw err;
      });
    }
    this.state = "up";
    this.feed.push({ type: "up", server: this.broker.url });
  }

  lost(reason: string): void {
    if (this.state !== "up") return;
    this.state = "down";
    this.feed.push({ type: "down", reason });
    this.feed.push({ type: "reconnecting", attempt: 1 });
  }

  back(): void {
    if (this.state !== "down") return;
    this.state = "up";
    this.feed.push({ type: "up", server: this.broker.url });
  }

  /** The adapter gives up for good (e.g. the server refused its credentials). */
  die(err: Error): void {
    this.#finish(err);
  }

  receive(m: Message): number {
    if (this.state !== "up") return 0;
    const tokens = subjectTokens(m.subject);
    const targets = this.subs.filter((s) => s.open && matches(s.tokens, tokens));
    for (const s of targets) void s.handler(m);
    return targets.length;
  }

  publish(subject: string, envelope: Envelope): void {
    this.#check();
    this.broker.published.push({ subject, envelope });
  }

  async flush(): Promise<void> {
    this.#check();
    await Promise.resolve();
  }

  async subscribe(pattern: string, handler: MessageHandler, options: SubscribeOptions = {}): Promise<TransportSubscription> {
    this.#check();
    if (this.broker.refuseSubscriptions !== undefined) throw this.broker.refuseSubscriptions;
    const sub: FakeSub = { tokens: patternTokens(pattern), pattern, queue: options.queue, handler, open: true };
    this.subs.push(sub);
    await Promise.resolve();
    return { pattern, queue: options.queue, unsubscribe: () => void (sub.open = false) };
  }

  request(subject: string, envelope: Envelope, options: RequestOptions): Promise<Message> {
    this.#check();
    this.broker.requests.push(envelope);
    const reply = this.state === "up" ? this.broker.responder?.(envelope) : undefined;
    if (reply !== undefined) return Promise.resolve({ subject: "_INBOX.fake", envelope: reply, replyTo: undefined });
    // Silent: it ends in TimeoutError on the clock, or TransportClosedError when the adapter closes.
    return new Promise((_resolve, reject) => {
      let timer: TimerHandle | undefined = undefined;
      const fail = (err: Error): void => {
        timer?.cancel();
        this.#pending.delete(fail);
        reject(err);
      };
      this.#pending.add(fail);
      timer = this.broker.clock.setTimer(() => fail(new TimeoutError(`no reply to ${envelope.id} within ${options.timeoutMs} ms`)), options.timeoutMs);
    });
  }

  reply(request: Message, envelope: Envelope): void {
    this.publish(request.replyTo ?? "_INBOX.none", envelope);
  }

  status(): AsyncIterable<LinkStatus> {
    return this.feed.iterate();
  }

  closed(): Promise<Error | undefined> {
    return this.#closed;
  }

  async close(): Promise<void> {
    this.#finish(undefined);
    await this.#closed;
  }

  #finish(err: Error | undefined): void {
    if (this.state === "closed") return;
    this.state = "closed";
    for (const fail of [...this.#pending]) fail(new TransportClosedError("fake transport closed"));
    this.feed.push(err === undefined ? { type: "closed" } : { type: "closed", error: err });
    this.#resolveClosed(err);
  }

  #check(): void {
    if (this.state === "closed" || this.state === "new") throw new TransportClosedError(`fake ${this.name} transport is ${this.state}`);
  }
}
