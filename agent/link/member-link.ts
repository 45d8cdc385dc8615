/**
 * A member's link to its hub over an ordered list of candidates (NATS first, MQTT as fallback).
 * One candidate is active at a time, bridged to the bus. When the active link stays down past
 * DOWN_GRACE_MS (a blip reconnects in place) the next candidate takes over; while a less preferred
 * link is active, the preferred one is probed every PROBE_EVERY_MS and taken back once it has
 * connected. Every change is a link.up / link.down / link.fallback event on the bus and a metric.
 *
 * Limits (said, not hidden): an envelope published in the few milliseconds of a switch, after the
 * old link closed and before the new bridge subscribed, is counted as dropped by the bridge; the
 * bridge carries no requests yet, so there are none to retry.
 */
import type { Bus } from "../bus/bus.js";
import { Bridge } from "../bridge/bridge.js";
import type { BridgeRoutes } from "../bridge/routes.js";
import type { Clock, TimerHandle } from "../core/clock.js";
import type { Component } from "../core/component.js";
import { createEnvelope } from "../core/envelope.js";
import type { Logger } from "../core/logger.js";
import type { Counter, Gauge, MetricsRegistry } from "../core/metrics.js";
import type { Transport } from "../transport/transport.js";

/** A reconnect in place usually takes well under a second; only a longer outage switches links. */
export const DOWN_GRACE_MS = 2_000;
/** How often a member on its fallback link tries its preferred one again. */
export const PROBE_EVERY_MS = 5_000;
/** One attempt to connect a candidate (at start, on fallback, or as a probe). */
export const CONNECT_TIMEOUT_MS = 3_000;

export interface Candidate {
  readonly url: string;
  readonly make: () => Transport;
}

export interface MemberLinkOptions {
  readonly nodeId: string;
  readonly candidates: readonly Candidate[];
  readonly bus: Bus;
  readonly routes: BridgeRoutes;
  readonly logger: Logger;
  readonly metrics: MetricsRegistry;
  readonly clock: Clock;
  readonly downGraceMs?: number;
  readonly probeEveryMs?: number;
  readonly connectTimeoutMs?: number;
}

interface Active {
  readonly index: number;
  readonly transport: Transport;
  readonly bridge: Bridge;
}

export class MemberLink implements Component {
  readonly name = "member-link";
  #active: Active | undefined;
  #stopping = false;
  #switching = false;
  #downTimer: TimerHandle | undefined;
  #probeTimer: TimerHandle | undefined;
  readonly #activeGauge: Gauge;
  readonly #switches: Counter;

  constructor(private readonly opts: MemberLinkOptions) {
    this.#activeGauge = opts.metrics.gauge("adaos_link_active", "1 for the transport the member's hub link uses now, else 0.", () =>
      opts.candidates.map((c, i) => [{ transport: scheme(c.url) }, this.#active?.index === i ? 1 : 0] as const));
    this.#switches = opts.metrics.counter("adaos_link_switches_total", "Switches of the member's hub link between transports.");
  }

  /** The transport in use now ("nats" | "mqtt"), if any. */
  get active(): string | undefined {
    return this.#active === undefined ? undefined : scheme(this.opts.candidates[this.#active.index]?.url ?? "");
  }

  async start(signal: AbortSignal): Promise<void> {
    for (let i = 0; i < this.opts.candidates.length && !signal.aborted; i++) {
      if (await this.#activate(i, undefined)) return;
    }
    // No hub now: keep trying from the top; the member works locally meanwhile.
    this.opts.logger.warn({ urls: this.opts.candidates.map((c) => c.url) }, "no hub link could be made; retrying in the background");
    this.#scheduleProbe();
  }

  async stop(): Promise<void> {
    this.#stopping = true;
    this.#downTimer?.cancel();
    this.#probeTimer?.cancel();
    await this.#deactivate();
  }

  /** Connect candidate i and bridge it; on success it replaces the active link. */
  async #activate(index: number, previous: number | undefined): Promise<boolean> {
    const candidate = this.opts.candidates[index];
    if (candidate === undefined) return false;
    const transport = candidate.make();
    try {
      await transport.connect(AbortSignal.timeout(this.opts.connectTimeoutMs ?? CONNECT_TIMEOUT_MS));
    } catch (err) {
      this.opts.logger.info({ url: candidate.url, err: (err as Error).message }, "hub link candidate not reachable");
      await transport.close();
      return false;
    }
    if (this.#stopping) {
      await transport.close();
      return false;
    }
    await this.#deactivate();
    const { bus, nodeId, routes, logger, metrics } = this.opts;
    const bridge = new Bridge({ bus, transport, nodeId, routes, logger, metrics });
    await bridge.start();
    this.#active = { index, transport, bridge };
    void this.#watch(this.#active);
    this.#event("link.up", index);
    if (previous !== undefined && previous !== index) {
      this.#switches.inc({ from: scheme(this.opts.candidates[previous]?.url ?? ""), to: scheme(candidate.url) });
      this.#event("link.fallback", index, { previous: scheme(this.opts.candidates[previous]?.url ?? ""), reason: index > previous ? "preferred link down" : "preferred link back" });
    }
    this.opts.logger.info({ url: candidate.url }, "hub link up");
    if (index > 0) this.#scheduleProbe();
    return true;
  }

  async #deactivate(): Promise<void> {
    const active = this.#active;
    this.#active = undefined;
    if (active === undefined) return;
    await active.bridge.stop();
    await active.transport.close();
  }

  /** Follow the active link's status: down past the grace → fall back to the next candidate. */
  async #watch(active: Active): Promise<void> {
    for await (const s of active.transport.status()) {
      if (this.#active !== active) return;
      if (s.type === "down" || s.type === "reconnecting") {
        if (this.#downTimer === undefined) {
          this.#event("link.down", active.index, { reason: s.type === "down" ? s.reason : "reconnecting" });
          this.#downTimer = this.opts.clock.setTimer(() => void this.#fallBack(active), this.opts.downGraceMs ?? DOWN_GRACE_MS);
        }
      } else if (s.type === "up") {
        this.#downTimer?.cancel();
        this.#downTimer = undefined;
      }
    }
  }

  async #fallBack(from: Active): Promise<void> {
    this.#downTimer = undefined;
    if (this.#active !== from || this.#stopping || this.#switching) return;
    this.#switching = true;
    try {
      const n = this.opts.candidates.length;
      for (let step = 1; step < n; step++) {
        const next = (from.index + step) % n;
        if (await this.#activate(next, from.index)) return;
      }
      this.#scheduleProbe(); // nothing else answers: stay on the old link, which keeps reconnecting
    } finally {
      this.#switching = false;
    }
  }

  #scheduleProbe(): void {
    this.#probeTimer?.cancel();
    this.#probeTimer = this.opts.clock.setTimer(() => void this.#probe(), this.opts.probeEveryMs ?? PROBE_EVERY_MS);
  }

  /** Try the candidates more preferred than the active one; take the first that connects. */
  async #probe(): Promise<void> {
    if (this.#stopping || this.#switching) return;
    const current = this.#active?.index ?? this.opts.candidates.length;
    this.#switching = true;
    try {
      for (let i = 0; i < current; i++) {
        if (await this.#activate(i, this.#active?.index)) return;
      }
    } finally {
      this.#switching = false;
    }
    if (!this.#stopping && (this.#active?.index ?? 1) > 0) this.#scheduleProbe();
  }

  #event(name: "link.up" | "link.down" | "link.fallback", index: number, extra: Record<string, string> = {}): void {
    const url = this.opts.candidates[index]?.url ?? "";
    try {
      this.opts.bus.publish(createEnvelope({
        event_name: name, version: 1, source: `agent://member/${this.opts.nodeId}`, priority: 1,
        payload: { transport: scheme(url), url, node_id: this.opts.nodeId, at: new Date(this.opts.clock.now()).toISOString(), ...extra },
      }, this.opts.clock));
    } catch (err) {
      this.opts.logger.warn({ err, event: name }, "could not publish a link event");
    }
  }
}

function scheme(url: string): "nats" | "mqtt" {
  return url.startsWith("nats:") ? "nats" : "mqtt";
}
