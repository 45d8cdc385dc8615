/**
 * A node's heartbeat (issue 5 item 3): every `intervalMs` (5 s by default) it publishes
 * `telemetry.heartbeat` on its own bus with the node's telemetry and its capabilities' probe
 * results; the bridge carries it to the hub (a member's `telemetry.{self}.heartbeat`, through its
 * outbox), and the hub's uplink relays `telemetry.>` to the root. The first one goes out at start.
 * Sampling is injected (the probes live beside this file); a sample that fails is logged and the
 * beat is skipped, never fatal. The counter `seq` lets the hub spot gaps and restarts.
 */
import type { Bus } from "../bus/bus.js";
import type { Clock } from "../core/clock.js";
import { Periodic } from "../core/periodic.js";
import type { Component } from "../core/component.js";
import { createEnvelope } from "../core/envelope.js";
import type { Logger } from "../core/logger.js";

export const DEFAULT_HEARTBEAT_MS = 5000;

export interface CapabilityStatus {
  readonly id: string;
  readonly status: "up" | "degraded" | "down";
  readonly error?: string;
}

export interface HeartbeatSource {
  /** The node's telemetry now (the `telemetry` payload of telemetry.heartbeat). */
  telemetry(): Promise<Record<string, unknown>>;
  /** Probe results of its capabilities. */
  capabilities(): Promise<readonly CapabilityStatus[]>;
  /** The current manifest's revision, if the node has one. */
  revision(): string | undefined;
}

export interface HeartbeatOptions {
  readonly nodeId: string;
  readonly bus: Bus;
  readonly source: HeartbeatSource;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly intervalMs?: number;
  /** The envelope source, e.g. `agent://member/tv`. */
  readonly from: string;
}

export class Heartbeat implements Component {
  readonly name = "heartbeat";
  #seq = 0;
  readonly #periodic: Periodic;

  constructor(private readonly opts: HeartbeatOptions) {
    this.#periodic = new Periodic(opts.clock, opts.intervalMs ?? DEFAULT_HEARTBEAT_MS, () => this.#beat());
  }

  /** Heartbeats published so far. */
  get seq(): number {
    return this.#seq;
  }

  start(): Promise<void> {
    this.#periodic.start();
    return Promise.resolve();
  }

  stop(): Promise<void> {
    return this.#periodic.stop();
  }

  /** Beat now (e.g. the first rtt is in) rather than at the next interval. */
  beatNow(): void {
    this.#periodic.runNow();
  }

  async #beat(): Promise<void> {
    const { nodeId, bus, source, clock, logger, from } = this.opts;
    try {
      const [telemetry, capabilities] = await Promise.all([source.telemetry(), source.capabilities()]);
      if (this.#periodic.stopped) return;
      const revision = source.revision();
      bus.publish(createEnvelope({
        event_name: "telemetry.heartbeat",
        version: 1,
        source: from,
        // Background priority, and no ttl: buffered through an outage, they fill the root's history
        // of the node without a hole once the link is back.
        priority: 4,
        payload: { node_id: nodeId, seq: this.#seq, telemetry, capabilities, ...(revision === undefined ? {} : { revision }) },
      }, clock));
      this.#seq++;
    } catch (err) {
      logger.warn({ err }, "heartbeat skipped: sampling or publishing failed");
    }
  }
}
