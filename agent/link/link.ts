/**
 * One candidate link of a failover transport: a broker address and a factory for a fresh adapter
 * (an adapter connects once, so every dial after a retirement makes a new one), and a dialled Link
 * that follows its adapter's status. A Link is retired when the failover stops using it; its
 * adapter is then closed and requests in flight on it are retried elsewhere.
 */
import type { Clock } from "../core/clock.js";
import type { Logger } from "../core/logger.js";
import type { LinkStatus, Transport, TransportName } from "../transport/transport.js";
import type { HubUrl } from "./hub-urls.js";
import { clockDeadline } from "./timing.js";

export interface Candidate {
  readonly transport: TransportName;
  /** Broker address without credentials (logs, events, metrics). */
  readonly url: string;
  /** A new, unconnected adapter for this address. */
  create(): Transport;
}

/** Candidates in the order of the hub URL list, each made by `make` (which adds credentials). */
export function hubCandidates(urls: readonly HubUrl[], make: (url: HubUrl) => Transport): Candidate[] {
  return urls.map((u) => ({ transport: u.transport, url: u.url, create: () => make(u) }));
}

export class Link {
  /** The adapter's last reported state is up. */
  up = true;
  /** The adapter closed on its own: it will not come back, a fresh one must be dialled. */
  dead = false;
  #retired = false;
  #resolveRetired: () => void = () => undefined;
  /** Resolves when the failover stops using this link. */
  readonly retired: Promise<void>;

  constructor(readonly candidate: Candidate, readonly index: number, readonly transport: Transport) {
    this.retired = new Promise((resolve) => (this.#resolveRetired = resolve));
  }

  get isRetired(): boolean {
    return this.#retired;
  }

  get label(): string {
    return this.candidate.url;
  }

  /**
   * Follow the adapter: every status change after the first (which is the "up" we dialled for),
   * and its end, until retired. `onStatus` sees only changes of `up`; `onDead` runs once.
   */
  watch(onStatus: (link: Link, status: LinkStatus) => void, onDead: (link: Link, err: Error | undefined) => void, logger: Logger): void {
    void (async () => {
      try {
        for await (const s of this.transport.status()) {
          if (this.#retired) break;
          if (s.type === "closed") break;
          if ((s.type === "up") === this.up && s.type !== "reconnecting") continue;
          if (s.type === "up" || s.type === "down") this.up = s.type === "up";
          onStatus(this, s);
        }
      } catch (err) {
        logger.error({ err, link: this.label }, "link status iteration failed");
      }
    })();
    void this.transport.closed().then((err) => {
      if (!this.#retired && this.markDead()) onDead(this, err);
    });
  }

  /** Note that the adapter is gone; false when that was known already. */
  markDead(): boolean {
    if (this.dead) return false;
    this.dead = true;
    this.up = false;
    return true;
  }

  /** Stop using the link: resolve `retired`, close the adapter (errors logged, never thrown). */
  async retire(logger: Logger): Promise<void> {
    if (this.#retired) return;
    this.#retired = true;
    this.#resolveRetired();
    try {
      await this.transport.close();
    } catch (err) {
      logger.warn({ err, link: this.label }, "closing a retired link failed");
    }
  }
}

/**
 * A connected Link for `candidate` within `ms` of clock time, or undefined (the adapter's connect
 * rejected and closed it). Rejects only when `stop` aborts, with its reason. While it dials, the
 * adapter is in `dialling` (close() closes those too).
 */
export async function dial(
  candidate: Candidate, index: number, ms: number, clock: Clock, stop: AbortSignal, dialling: Set<Transport>,
): Promise<Link | undefined> {
  stop.throwIfAborted();
  const transport = candidate.create();
  dialling.add(transport);
  const deadline = clockDeadline(clock, ms, `connect to ${candidate.url}`, stop);
  try {
    await transport.connect(deadline.signal);
    return new Link(candidate, index, transport);
  } catch {
    await transport.close().catch(() => undefined);
    if (stop.aborted) throw stop.reason as Error;
    return undefined;
  } finally {
    deadline.cancel();
    dialling.delete(transport);
  }
}
