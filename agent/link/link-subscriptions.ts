/**
 * The subscriptions made on a failover transport, kept above the links so they can be replayed
 * (patterns and queue groups alike) on whichever link becomes active. Delivery is gated: a
 * message reaches the caller's handler only from the active link and only while the subscription
 * is open, so a link being retired or warmed up never delivers twice.
 */
import type { Logger } from "../core/logger.js";
import type { MessageHandler, TransportSubscription } from "../transport/transport.js";
import type { Link } from "./link.js";

export interface LinkSubscription {
  readonly pattern: string;
  readonly queue: string | undefined;
  readonly handler: MessageHandler;
  open: boolean;
  /** One subscription per link it was made on (a promise: the broker may still be confirming it). */
  readonly on: Map<Link, Promise<TransportSubscription>>;
}

export class LinkSubscriptions {
  readonly #subs = new Set<LinkSubscription>();

  constructor(private readonly isActive: (link: Link) => boolean, private readonly logger: Logger) {}

  get size(): number {
    return this.#subs.size;
  }

  add(pattern: string, queue: string | undefined, handler: MessageHandler): LinkSubscription {
    const sub: LinkSubscription = { pattern, queue, handler, open: true, on: new Map() };
    this.#subs.add(sub);
    return sub;
  }

  /** Subscribe `sub` on `link` once; later calls return the same promise. */
  attach(sub: LinkSubscription, link: Link): Promise<TransportSubscription> {
    const existing = sub.on.get(link);
    if (existing !== undefined) return existing;
    const gated: MessageHandler = (m) => (sub.open && this.isActive(link) ? sub.handler(m) : undefined);
    const made = link.transport.subscribe(sub.pattern, gated, sub.queue === undefined ? {} : { queue: sub.queue });
    sub.on.set(link, made);
    made.then((s) => {
      if (!sub.open || link.isRetired) this.#unsubscribe(s, link);
    }, () => sub.on.delete(link));
    return made;
  }

  /** Every open subscription on `link`; rejects with the first failure. */
  async replay(link: Link): Promise<void> {
    await Promise.all([...this.#subs].map((sub) => this.attach(sub, link)));
  }

  /** Forget `link` (its adapter is closing, which ends its subscriptions). */
  detach(link: Link): void {
    for (const sub of this.#subs) sub.on.delete(link);
  }

  /** Stop delivery at once and tell every link's broker. */
  remove(sub: LinkSubscription): void {
    if (!sub.open) return;
    sub.open = false;
    this.#subs.delete(sub);
    for (const [link, made] of sub.on) made.then((s) => this.#unsubscribe(s, link), () => undefined);
    sub.on.clear();
  }

  #unsubscribe(s: TransportSubscription, link: Link): void {
    try {
      s.unsubscribe();
    } catch (err) {
      this.logger.debug({ err, link: link.label, pattern: s.pattern }, "unsubscribe failed");
    }
  }
}
