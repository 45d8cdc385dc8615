/**
 * Says what happened to a failover's link, once, everywhere it is read: the port's LinkStatus
 * feed, the richer change feed (which the link.* bus events come from), the metrics and the log.
 * The supervisor decides; this only reports.
 */
import type { Clock } from "../core/clock.js";
import type { Logger } from "../core/logger.js";
import type { StatusFeed } from "../transport/status-feed.js";
import type { Candidate, Link } from "./link.js";
import type { ChangeFeed } from "./change-feed.js";
import type { LinkMetrics } from "./link-metrics.js";

export class LinkReport {
  constructor(
    private readonly feed: StatusFeed,
    private readonly changes: ChangeFeed,
    private readonly metrics: LinkMetrics,
    private readonly logger: Logger,
    private readonly clock: Clock,
  ) {}

  /** Whether the port last said "up" (a down is reported once per outage). */
  get saidUp(): boolean {
    return this.feed.current.type === "up";
  }

  /**
   * `link` took over from `old` (undefined at start-up, where `wanted` is the preferred candidate
   * that did not connect). A change of candidate is a fallback (either direction), then an up.
   */
  switched(link: Link, old: Link | undefined, wanted: Candidate | undefined, reason: string | undefined): void {
    const previous = old?.candidate ?? wanted;
    const base = { transport: link.candidate.transport, url: link.label, at: this.clock.now(), ...(reason === undefined ? {} : { reason }) };
    const moved = previous !== undefined && previous !== link.candidate ? { previous: previous.transport } : {};
    if ("previous" in moved) {
      if (old !== undefined) this.metrics.switched(old.candidate.transport, link.candidate.transport);
      this.changes.push({ type: "fallback", ...base, ...moved });
    }
    this.changes.push({ type: "up", ...base, ...moved });
    this.logger.info({ link: link.label, previous: old?.label, reason }, "hub link in use");
    this.up(link);
  }

  /** The same link is back after a blip (its adapter reconnected). */
  reconnected(link: Link): void {
    this.changes.push({ type: "up", transport: link.candidate.transport, url: link.label, reason: "reconnected in place", at: this.clock.now() });
    this.logger.info({ link: link.label }, "hub link reconnected in place");
    this.up(link);
  }

  down(link: Link, reason: string): void {
    if (!this.saidUp) return;
    this.metrics.down(link.candidate.transport);
    this.metrics.active(undefined);
    this.feed.push({ type: "down", reason });
    this.changes.push({ type: "down", transport: link.candidate.transport, url: link.label, reason, at: this.clock.now() });
    this.logger.warn({ link: link.label, reason }, "hub link down");
  }

  reconnecting(attempt: number): void {
    this.feed.push({ type: "reconnecting", attempt });
  }

  /** No link any more (closing). */
  none(): void {
    this.metrics.active(undefined);
  }

  private up(link: Link): void {
    this.metrics.active(link.candidate.transport);
    this.feed.push({ type: "up", server: link.label });
  }
}
