/**
 * A Transport over an ordered list of candidate links — a member's hub URLs, NATS first, MQTT
 * second — that is itself a Transport (it passes the shared contract), so the bridge above it
 * does not know it fails over. Which link is used and when it changes: link-supervisor.ts.
 *
 * - connect(): each candidate in order gets firstConnectTimeoutMs; the first that connects is used
 *   (round after round, with backoff, until the caller's signal aborts).
 * - publish() while no link is up: buffered (bounded, reported on overflow) and sent in order on
 *   the next link (link-publisher.ts).
 * - subscribe(): kept here and replayed, queue groups included, on every new link.
 * - request(): in flight during a switch, sent again on the new link with the same envelope id,
 *   within the caller's one timeout (link-request.ts).
 * - status(): the port's LinkStatus; changes(): {up|down|fallback, transport, url, previous?,
 *   reason?}; metrics: link-metrics.ts. capabilities and name are the active link's.
 */
import type { Envelope } from "../../abi/envelope.js";
import { systemClock, type Clock } from "../core/clock.js";
import { TransportClosedError, EnvelopeInvalidError, InternalError } from "../core/errors.js";
import { checkPattern, checkQueue } from "../transport/names.js";
import { StatusFeed } from "../transport/status-feed.js";
import type {
  LinkStatus, Message, MessageHandler, RequestOptions, SubscribeOptions, Transport, TransportCapabilities, TransportName, TransportSubscription,
} from "../transport/transport.js";
import { ChangeFeed, type LinkChange } from "./change-feed.js";
import type { Candidate, Link } from "./link.js";
import { LinkMetrics } from "./link-metrics.js";
import { LinkPublisher, type PublisherOptions } from "./link-publisher.js";
import { LinkReport } from "./link-report.js";
import { requestOverLinks } from "./link-request.js";
import { LinkSubscriptions } from "./link-subscriptions.js";
import { LinkSupervisor } from "./link-supervisor.js";
import { clockSleep, DEFAULT_TIMING, type FailoverTiming } from "./timing.js";

/** Before the first link is up nothing stronger can be promised than what every adapter offers. */
const UNKNOWN_CAPABILITIES: TransportCapabilities = { nativeQueueGroups: false, noResponders: false, replyAddress: "header" };

export interface FailoverOptions extends Omit<PublisherOptions, "isOpen"> {
  /** In order of preference; at least one. */
  readonly candidates: readonly Candidate[];
  readonly clock?: Clock;
  /** Jitter source for the probe backoff (tests pass a constant). */
  readonly random?: () => number;
  readonly timing?: Partial<FailoverTiming>;
}

export class FailoverTransport implements Transport {
  readonly #opts: FailoverOptions;
  readonly #first: Candidate;
  readonly #clock: Clock;
  readonly #timing: FailoverTiming;
  readonly #feed = new StatusFeed();
  readonly #changes = new ChangeFeed();
  readonly #metrics: LinkMetrics;
  readonly #subs: LinkSubscriptions;
  readonly #out: LinkPublisher;
  readonly #links: LinkSupervisor;
  readonly #report: LinkReport;
  readonly #stop = new AbortController();
  readonly #closed: Promise<Error | undefined>;
  #resolveClosed: (err: Error | undefined) => void = () => undefined;
  #state: "new" | "connecting" | "open" | "closing" = "new";

  constructor(opts: FailoverOptions) {
    if (opts.candidates.length === 0) throw new InternalError("a failover transport needs at least one candidate link");
    this.#opts = opts;
    this.#first = opts.candidates[0] as Candidate;
    this.#clock = opts.clock ?? systemClock;
    this.#timing = { ...DEFAULT_TIMING, ...opts.timing };
    this.#metrics = new LinkMetrics(opts.metrics, opts.candidates.map((c) => c.transport));
    this.#subs = new LinkSubscriptions((link) => link === this.#links.active, opts.logger);
    this.#out = new LinkPublisher({ ...opts, isOpen: () => this.#usable() });
    this.#report = new LinkReport(this.#feed, this.#changes, this.#metrics, opts.logger, this.#clock);
    this.#links = new LinkSupervisor({
      candidates: opts.candidates, clock: this.#clock, timing: this.#timing, random: opts.random ?? Math.random, logger: opts.logger,
      report: this.#report, subs: this.#subs, out: this.#out, stop: this.#stop.signal,
    });
    this.#closed = new Promise((resolve) => (this.#resolveClosed = resolve));
  }

  get name(): TransportName {
    return (this.#links.active?.candidate ?? this.#first).transport;
  }

  /** The active link's (NATS and MQTT differ); the weakest before the first link is up. */
  get capabilities(): TransportCapabilities {
    return this.#links.active?.transport.capabilities ?? UNKNOWN_CAPABILITIES;
  }

  /** The link in use: which transport, where, and whether it is up now. */
  get link(): { readonly transport: TransportName; readonly url: string; readonly up: boolean } | undefined {
    const a = this.#links.active;
    return a === undefined ? undefined : { transport: a.candidate.transport, url: a.label, up: a.up };
  }

  /** The link-change feed: the latest change first, then every change until close. */
  changes(): AsyncIterable<LinkChange> {
    return this.#changes.iterate();
  }

  async connect(signal: AbortSignal): Promise<void> {
    if (this.#state !== "new") throw new InternalError("FailoverTransport.connect() may be called once");
    this.#state = "connecting";
    const stop = AbortSignal.any([signal, this.#stop.signal]);
    const ms = this.#timing.firstConnectTimeoutMs;
    try {
      for (let round = 1; ; round++) {
        for (const [i, c] of this.#opts.candidates.entries()) {
          stop.throwIfAborted();
          const link = await this.#links.dial(i, ms, stop);
          if (link !== undefined && (await this.#links.switchTo(link, i === 0 ? undefined : `${this.#first.url} did not connect within ${ms} ms`))) {
            this.#state = "open";
            return;
          }
          this.#opts.logger.warn({ link: c.url, round }, "hub link did not connect");
          this.#report.reconnecting(round);
        }
        await clockSleep(this.#clock, this.#links.backoff.next(), stop);
      }
    } catch (err) {
      if (!stop.aborted) throw err;
      await this.close();
      throw signal.aborted ? (signal.reason as Error) : new TransportClosedError("the failover link was closed while connecting");
    }
  }

  publish(subject: string, envelope: Envelope): void {
    this.#out.publish(this.#links.active, subject, envelope);
  }

  /** Resolves once nothing is buffered and the active link has flushed (or the link closed). */
  async flush(): Promise<void> {
    this.#usable();
    while (this.#state === "open") {
      const a = this.#links.active;
      if (a?.up === true && this.#out.length === 0) {
        try {
          return await a.transport.flush();
        } catch (err) {
          if (this.#state === "open" && a === this.#links.active && a.up && !(err instanceof TransportClosedError)) throw err;
        }
      }
      await this.#links.changed(Infinity);
    }
  }

  async subscribe(pattern: string, handler: MessageHandler, options: SubscribeOptions = {}): Promise<TransportSubscription> {
    this.#usable();
    checkPattern(pattern);
    const queue = checkQueue(options.queue);
    const sub = this.#subs.add(pattern, queue, handler);
    const handle: TransportSubscription = { pattern, queue, unsubscribe: () => this.#subs.remove(sub) };
    // Until it is confirmed on the link that is active when it resolves (a switch replays it too).
    for (;;) {
      const link = this.#links.active as Link;
      try {
        await this.#subs.attach(sub, link);
      } catch (err) {
        if (this.#state !== "open" || link === this.#links.active) {
          this.#subs.remove(sub);
          throw this.#state === "open" ? err : new TransportClosedError("the failover link closed before the subscription was made", { cause: err });
        }
      }
      if (link === this.#links.active || !sub.open) return handle;
    }
  }

  request(subject: string, envelope: Envelope, options: RequestOptions): Promise<Message> {
    this.#usable();
    return requestOverLinks({
      clock: this.#clock,
      retries: this.#metrics.retries,
      isClosing: () => this.#state === "closing",
      lost: (link) => this.#links.lost(link),
      upLink: (deadline) => this.#upLink(deadline),
    }, subject, envelope, options.timeoutMs);
  }

  reply(request: Message, envelope: Envelope): void {
    if (request.replyTo === undefined) throw new EnvelopeInvalidError(`${request.envelope.event_name} (${request.envelope.id}) was not a request: no reply address`);
    this.publish(request.replyTo, envelope);
  }

  status(): AsyncIterable<LinkStatus> {
    return this.#feed.iterate();
  }

  closed(): Promise<Error | undefined> {
    return this.#closed;
  }

  /** Close every link (requests in flight fail with TransportClosedError); buffered publishes are reported as dropped. */
  async close(): Promise<void> {
    if (this.#state === "closing") return void (await this.#closed);
    this.#state = "closing";
    this.#stop.abort(new TransportClosedError("the failover link is closed"));
    await this.#links.close();
    this.#out.dropAll();
    this.#feed.push({ type: "closed" });
    this.#changes.close();
    this.#resolveClosed(undefined);
  }

  async #upLink(deadline: number): Promise<Link | undefined> {
    for (;;) {
      if (this.#state === "closing") throw new TransportClosedError("the failover link is closed");
      const a = this.#links.active;
      if (a?.up === true) return a;
      if (!(await this.#links.changed(deadline))) return undefined;
    }
  }

  #usable(): void {
    if (this.#state === "closing") throw new TransportClosedError("the failover link is closed");
    if (this.#state !== "open") throw new TransportClosedError("the failover link is not connected yet: call connect() first");
  }
}
