/**
 * The hub's uplink: events its bus carries — its own and its members' — that config routes to the
 * root (`outbox.uplink` patterns, e.g. `telemetry.>`) are written to the outbox for
 * `ada.root.uplink.{hubId}.{event_name}` — telemetry as `…telemetry.{node_id}.{rest}` (seed 000's
 * `telemetry.<node_id>.heartbeat`), so the root tells the fleet's nodes apart by subject — and the
 * relay publishes them to the root's uplink stream.
 * Writing first, sending later is what lets a hub work offline and lose nothing.
 */
import { uplinkSubject } from "../../abi/subjects.js";
import type { Envelope } from "../../abi/envelope.js";
import type { Bus, Subscription } from "../bus/bus.js";
import { matches, patternTokens, subjectTokens } from "../bus/subject.js";
import { originNode } from "../bridge/routes.js";
import type { Component } from "../core/component.js";
import type { Logger } from "../core/logger.js";
import type { Counter, MetricsRegistry } from "../core/metrics.js";
import type { Outbox } from "./outbox.js";

const NODE_ID = /^[a-z0-9][a-z0-9_-]{0,62}$/;

/** The uplink must not lose envelopes to a slow-consumer drop while the outbox commits a group. */
const UPLINK_MAX_PENDING = 100_000;

export interface UplinkOptions {
  readonly bus: Bus;
  readonly outbox: Outbox;
  readonly hubId: string;
  /** Event-name patterns (`*`, `>`); events only — commands and replies never go up this way. */
  readonly patterns: readonly string[];
  readonly logger: Logger;
  readonly metrics: MetricsRegistry;
}

export class Uplink implements Component {
  readonly name = "uplink";
  readonly #patterns: readonly (readonly string[])[];
  readonly #queued: Counter;
  readonly #failed: Counter;
  #sub: Subscription | undefined;

  constructor(private readonly opts: UplinkOptions) {
    this.#patterns = opts.patterns.map((p) => patternTokens(p));
    this.#queued = opts.metrics.counter("adaos_uplink_queued_total", "Events written to the outbox for the root.");
    this.#failed = opts.metrics.counter("adaos_uplink_failed_total", "Events for the root the outbox could not store.");
  }

  start(): Promise<void> {
    if (this.#patterns.length > 0) this.#sub = this.opts.bus.subscribe(">", (e) => this.#take(e), { maxPending: UPLINK_MAX_PENDING });
    return Promise.resolve();
  }

  stop(): Promise<void> {
    this.#sub?.unsubscribe();
    this.#sub = undefined;
    return Promise.resolve();
  }

  #subject(envelope: Envelope): string {
    const name = envelope.event_name;
    if (name.startsWith("telemetry.")) {
      const origin = originNode(envelope.source);
      const node = origin !== undefined && NODE_ID.test(origin) ? origin : this.opts.hubId;
      return uplinkSubject(this.opts.hubId, `telemetry.${node}.${name.slice("telemetry.".length)}`);
    }
    return uplinkSubject(this.opts.hubId, name);
  }

  /** Synchronous on purpose: the bus hands over the next envelope at once, so the outbox groups a burst into one commit. */
  #take(envelope: Envelope): void {
    if (envelope.kind !== "event") return;
    const tokens = subjectTokens(envelope.event_name);
    if (!this.#patterns.some((p) => matches(p, tokens))) return;
    this.opts.outbox.enqueue(this.#subject(envelope), envelope).then(
      () => this.#queued.inc(),
      (err: unknown) => {
        this.#failed.inc();
        this.opts.logger.error({ err, id: envelope.id, event: envelope.event_name }, "uplink: the outbox could not store an event for the root");
      },
    );
  }
}
