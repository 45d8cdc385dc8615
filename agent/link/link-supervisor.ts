/**
 * Which link a failover transport uses, and when it changes (the state machine behind
 * failover-transport.ts). All timing runs on the injected clock:
 *
 *   active down ──(up within downGraceMs: a blip)──▶ reconnected in place
 *        └──(still down, or its adapter closed)──▶ probe every other candidate now, in order;
 *                                                 the first that connects takes over
 *   active less preferred ──probe (backoff)──▶ a preferred link connects: kept warm
 *        warm ──(up for healthyPeriodMs)──▶ takes over   warm ──(down)──▶ dropped, probing resumes
 *
 * A switch replays the subscriptions on the new link before it becomes active, then drains the
 * publish buffer onto it, wakes requests waiting for a link, and retires the old one.
 */
import type { Clock, TimerHandle } from "../core/clock.js";
import type { Logger } from "../core/logger.js";
import type { LinkStatus, Transport } from "../transport/transport.js";
import { dial, type Candidate, type Link } from "./link.js";
import type { LinkPublisher } from "./link-publisher.js";
import type { LinkReport } from "./link-report.js";
import type { LinkSubscriptions } from "./link-subscriptions.js";
import { Backoff, type FailoverTiming } from "./timing.js";

export interface SupervisorDeps {
  readonly candidates: readonly Candidate[];
  readonly clock: Clock;
  readonly timing: FailoverTiming;
  readonly random: () => number;
  readonly logger: Logger;
  readonly report: LinkReport;
  readonly subs: LinkSubscriptions;
  readonly out: LinkPublisher;
  /** Aborted by close(): ends dials and probes. */
  readonly stop: AbortSignal;
}

export class LinkSupervisor {
  readonly backoff: Backoff;
  readonly dialling = new Set<Transport>();
  #open = false;
  #active: Link | undefined;
  /** A more preferred link that connected during a probe and must stay up healthyPeriodMs. */
  #warm: Link | undefined;
  #grace: TimerHandle | undefined;
  #healthy: TimerHandle | undefined;
  #probeTimer: TimerHandle | undefined;
  /** The active link has been down past the grace (or closed): any link beats none. */
  #graceExpired = false;
  #probing = false;
  #switching = false;
  #waiters = new Set<() => void>();

  constructor(private readonly d: SupervisorDeps) {
    this.backoff = new Backoff(d.timing.probeMinMs, d.timing.probeMaxMs, d.random);
  }

  get active(): Link | undefined {
    return this.#active;
  }

  /**
   * A connected link for candidate `i`, watched, or undefined when it did not connect within `ms`.
   * Rejects when `signal` (by default: close()) aborts.
   */
  async dial(i: number, ms: number, signal: AbortSignal = this.d.stop): Promise<Link | undefined> {
    const link = await dial(this.d.candidates[i] as Candidate, i, ms, this.d.clock, signal, this.dialling);
    link?.watch((l, s) => this.#onStatus(l, s), (l, err) => this.#onDead(l, err), this.d.logger);
    return link;
  }

  /** Resolves true at the next change of the active link, false at `deadline` (clock time). */
  changed(deadline: number): Promise<boolean> {
    return new Promise((resolve) => {
      const timer = deadline === Infinity ? undefined : this.d.clock.setTimer(() => {
        this.#waiters.delete(wake);
        resolve(false);
      }, deadline - this.d.clock.now());
      const wake = (): void => {
        timer?.cancel();
        resolve(true);
      };
      this.#waiters.add(wake);
    });
  }

  /** A request found the active link's adapter closed before its closed() said so. */
  lost(link: Link): void {
    if (link.markDead()) this.#onDead(link, undefined);
  }

  /** Make `link` the active one: subscriptions first, then traffic, then retire the old link. */
  async switchTo(link: Link, reason: string | undefined): Promise<boolean> {
    if (this.#switching) return false;
    this.#switching = true;
    let failed: string | undefined;
    try {
      if (!this.d.stop.aborted) await this.d.subs.replay(link);
    } catch (err) {
      failed = `the subscriptions could not be replayed on it: ${(err as Error).message}`;
    } finally {
      this.#switching = false;
    }
    failed ??= this.d.stop.aborted ? "closing" : link.up ? undefined : "it went down while taking over";
    if (failed !== undefined) {
      if (!this.d.stop.aborted) this.d.logger.warn({ link: link.label, why: failed }, "hub link not taken");
      if (link === this.#warm) this.#dropWarm(failed);
      else await link.retire(this.d.logger);
      return false;
    }
    const old = this.#active;
    this.#open = true;
    this.#active = link;
    if (this.#warm === link) this.#warm = undefined;
    for (const t of [this.#grace, this.#healthy]) t?.cancel();
    this.#graceExpired = false;
    this.backoff.reset();
    // At start-up on a later candidate, the one it replaces is the preferred one that did not connect.
    this.d.report.switched(link, old, link.index > 0 ? this.d.candidates[0] : undefined, reason);
    this.#flowing(link);
    if (old !== undefined && old !== link) {
      this.d.subs.detach(old);
      void old.retire(this.d.logger);
    }
    this.#probeLater();
    return true;
  }

  /** Stop everything: timers, waiters, and every link (requests on them fail with TransportClosedError). */
  async close(): Promise<void> {
    this.#open = false;
    for (const t of [this.#grace, this.#healthy, this.#probeTimer]) t?.cancel();
    this.#notify();
    const links = [this.#active, this.#warm].filter((l): l is Link => l !== undefined);
    await Promise.all([...links.map((l) => l.retire(this.d.logger)), ...[...this.dialling].map((t) => t.close().catch(() => undefined))]);
    this.d.report.none();
  }

  #notify(): void {
    const waiters = [...this.#waiters];
    this.#waiters.clear();
    for (const wake of waiters) wake();
  }

  /** Traffic resumes on `link`: buffered publishes first, then whoever waits for a link. */
  #flowing(link: Link): void {
    this.d.out.drain(link, () => link === this.#active && link.up);
    this.#notify();
  }

  #onStatus(link: Link, s: LinkStatus): void {
    if (link === this.#warm && s.type === "down") return this.#dropWarm(`went down: ${s.reason}`);
    if (link !== this.#active || !this.#open) return;
    if (s.type === "reconnecting") return this.d.report.reconnecting(s.attempt);
    if (s.type === "down") return this.#lostActive(link, s.reason);
    if (s.type !== "up") return;
    this.#grace?.cancel();
    this.#graceExpired = false;
    this.d.report.reconnected(link);
    this.#flowing(link);
    this.#probeLater();
  }

  #onDead(link: Link, err: Error | undefined): void {
    const why = `closed${err === undefined ? "" : `: ${err.message}`}`;
    if (link === this.#warm) return this.#dropWarm(why);
    if (link === this.#active && this.#open) this.#lostActive(link, why);
  }

  /** The active link is down: report it once, then wait out the grace (not when its adapter closed). */
  #lostActive(link: Link, reason: string): void {
    this.d.report.down(link, reason);
    this.#grace?.cancel();
    if (link.dead) return this.#graceOver(link);
    this.#grace = this.d.clock.setTimer(() => this.#graceOver(link), this.d.timing.downGraceMs);
  }

  #graceOver(link: Link): void {
    if (link !== this.#active || link.up || !this.#open) return;
    this.#graceExpired = true;
    const why = link.dead ? `${link.label} closed` : `${link.label} down for more than ${this.d.timing.downGraceMs} ms`;
    if (this.#warm?.up === true) return void this.switchTo(this.#warm, why);
    this.#probeTimer?.cancel();
    this.#probeTimer = undefined;
    this.backoff.reset();
    void this.#probe(why);
  }

  // ---- probing ---------------------------------------------------------------------------------

  #needsProbe(): boolean {
    const a = this.#active;
    return this.#open && this.#warm === undefined && a !== undefined && (a.index > 0 || this.#graceExpired);
  }

  /** Down past the grace: every other candidate (its own too, when its adapter closed). Else: the preferred ones. */
  #targets(): number[] {
    const a = this.#active as Link;
    const all = this.d.candidates.map((_, i) => i);
    return this.#graceExpired ? all.filter((i) => i !== a.index || a.dead) : all.filter((i) => i < a.index);
  }

  #probeLater(): void {
    if (!this.#needsProbe() || this.#probeTimer !== undefined || this.#probing) return;
    this.#probeTimer = this.d.clock.setTimer(() => {
      this.#probeTimer = undefined;
      void this.#probe(undefined);
    }, this.backoff.next());
  }

  async #probe(urgent: string | undefined): Promise<void> {
    if (this.#probing || !this.#needsProbe()) return;
    this.#probing = true;
    try {
      for (const i of this.#targets()) {
        const link = await this.dial(i, this.d.timing.probeConnectTimeoutMs);
        const a = this.#active as Link;
        if (link === undefined) continue;
        if (this.#graceExpired && !this.#switching) {
          if (await this.switchTo(link, urgent ?? `${a.label} down for more than ${this.d.timing.downGraceMs} ms`)) return;
        } else if (i < a.index && this.#open && this.#warm === undefined) {
          return this.#keepWarm(link);
        } else {
          await link.retire(this.d.logger);
        }
      }
    } catch (err) {
      if (!this.d.stop.aborted) this.d.logger.error({ err }, "probing the hub links failed");
    } finally {
      this.#probing = false;
      this.#probeLater();
    }
  }

  #keepWarm(link: Link): void {
    this.#warm = link;
    this.d.logger.info({ link: link.label, ms: this.d.timing.healthyPeriodMs }, "preferred hub link is reachable again; switching back if it stays up");
    this.#healthy = this.d.clock.setTimer(() => {
      if (this.#warm === link && link.up) void this.switchTo(link, `${link.label} up for ${this.d.timing.healthyPeriodMs} ms`);
    }, this.d.timing.healthyPeriodMs);
  }

  #dropWarm(why: string): void {
    const link = this.#warm;
    if (link === undefined) return;
    this.#warm = undefined;
    this.#healthy?.cancel();
    this.d.logger.info({ link: link.label, why }, "preferred hub link dropped before it proved healthy");
    void link.retire(this.d.logger);
    this.#probeLater();
  }
}
