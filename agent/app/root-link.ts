/**
 * A hub's link to the root, as one component: the relay that drains the outbox into the root's
 * uplink stream (JetStream-acked), and the downlink that takes the root's commands for this hub
 * from its durable consumer. Both reach the root through the hub's own nats-server when it is a
 * leafnode of the root (root.leaf_urls), else directly (root.urls); with neither, the hub has no
 * root and this component stays idle (the uplink is not fed either, so nothing piles up).
 * Connecting happens in the background: a hub whose root is away at boot starts and buffers.
 */
import type { Envelope } from "../../abi/envelope.js";
import type { Bus } from "../bus/bus.js";
import type { Config } from "../config/config.js";
import type { Clock } from "../core/clock.js";
import type { Component } from "../core/component.js";
import { InternalError } from "../core/errors.js";
import type { Logger } from "../core/logger.js";
import type { MetricsRegistry } from "../core/metrics.js";
import type { EventCatalog } from "../registry/catalog.js";
import { Downlink } from "../outbox/downlink.js";
import { JetStreamPublisher } from "../outbox/jetstream-publisher.js";
import { Relay } from "../outbox/relay.js";
import { relayTuning, type StoreAndForward } from "./store-and-forward.js";

/** How the hub reaches the root's JetStream: servers and login. */
export interface RootRoute {
  readonly servers: string[];
  readonly user?: string;
  readonly pass?: string;
  readonly via: "leaf" | "direct";
}

export interface RootLinkOptions {
  readonly config: Config;
  /** Resolved at start: the local nats-server is only known to be up then. */
  readonly route: () => RootRoute | undefined;
  readonly bus: Bus;
  readonly store: StoreAndForward;
  readonly catalog: EventCatalog;
  readonly logger: Logger;
  readonly metrics: MetricsRegistry;
  readonly clock: Clock;
}

/** Whether this hub has a root at all (decides whether the uplink feeds the outbox). */
export function hasRoot(config: Config): boolean {
  return config.root.leaf_urls.length > 0 || config.root.urls.length > 0;
}

export class RootLink implements Component {
  readonly name = "root-link";
  readonly #stop = new AbortController();
  #publisher: JetStreamPublisher | undefined;
  #relay: Relay | undefined;
  #downlink: Downlink | undefined;
  #running: Promise<void> | undefined;

  constructor(private readonly opts: RootLinkOptions) {}

  /** For the API's outbox stats. */
  status(): Record<string, unknown> {
    if (this.#relay === undefined) return { state: this.#running === undefined ? "off" : "connecting" };
    return { ...this.#relay.status() };
  }

  async start(): Promise<void> {
    const route = this.opts.route();
    if (route === undefined) {
      this.opts.logger.info("no root configured (root.leaf_urls / root.urls): nothing is relayed upstream");
      return;
    }
    const { config, store, catalog, logger, metrics, clock } = this.opts;
    const login = { ...(route.user === undefined ? {} : { user: route.user }), ...(route.pass === undefined ? {} : { pass: route.pass }) };
    this.#downlink = new Downlink({
      hubId: config.node_id,
      connect: { servers: route.servers, ...login, name: `${config.node_id}-downlink` },
      domain: config.root.jetstream_domain,
      inbox: store.inbox,
      dlq: store.dlq,
      catalog,
      handler: (envelope) => this.#run(envelope),
      maxAttempts: config.inbox.max_attempts,
      logger,
      metrics,
      clock,
    });
    await this.#downlink.start(this.#stop.signal);
    this.#running = this.#connectRelay(route, login);
    logger.info({ via: route.via, servers: route.servers }, "root link: relaying the outbox upstream and taking the root's commands");
  }

  async stop(): Promise<void> {
    this.#stop.abort();
    await this.#running;
    await this.#relay?.stop();
    await this.#downlink?.stop();
    await this.#publisher?.close();
  }

  async #connectRelay(route: RootRoute, login: { user?: string; pass?: string }): Promise<void> {
    const { config, store, logger, metrics, clock } = this.opts;
    try {
      this.#publisher = await JetStreamPublisher.connect({
        servers: route.servers,
        ...login,
        name: `${config.node_id}-relay`,
        domain: config.root.jetstream_domain,
        logger,
        signal: this.#stop.signal,
      });
      this.#relay = new Relay({
        name: "root",
        outbox: store.outbox,
        publisher: this.#publisher,
        ...relayTuning(config),
        clock,
        logger,
        metrics,
      });
      await this.#relay.start(this.#stop.signal);
    } catch (err) {
      if (!this.#stop.signal.aborted) logger.error({ err }, "root link: the relay could not start; events stay in the outbox");
    }
  }

  /**
   * A root command runs on the hub's bus (a command for a member goes on through the bridge); it
   * counts as done once every subscriber it reached has run its handler. A failed handler makes the
   * downlink retry it, and after inbox.max_attempts keep it in the DLQ.
   */
  async #run(envelope: Envelope): Promise<void> {
    const result = await this.opts.bus.publishSettled(envelope);
    if (result.failed > 0) throw new InternalError(`${result.failed} handler(s) of ${envelope.event_name} failed or dropped it`);
  }
}
