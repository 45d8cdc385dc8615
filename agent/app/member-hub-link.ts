/**
 * A member's hub link as a component: the failover transport (NATS preferred, MQTT fallback; see
 * link/failover-transport.ts) connects in the background — a member whose hub is away at boot
 * still starts and works locally — and once a link is up the bridge joins it to the bus. When the
 * bridge sends through an outbox, its outbound side starts at once, so nothing produced before the
 * hub is reachable is lost. The
 * transport replays the bridge's subscriptions and resends in-flight requests on every switch.
 */
import { Bridge, type BridgeOptions } from "../bridge/bridge.js";
import type { BridgeRoutes } from "../bridge/routes.js";
import type { Bus } from "../bus/bus.js";
import type { Component } from "../core/component.js";
import type { Logger } from "../core/logger.js";
import type { MetricsRegistry } from "../core/metrics.js";
import type { FailoverTransport } from "../link/failover-transport.js";

export interface MemberHubLinkOptions extends Pick<BridgeOptions, "send" | "inbox" | "requestTimeoutMs" | "catalog"> {
  readonly transport: FailoverTransport;
  readonly bus: Bus;
  readonly nodeId: string;
  readonly routes: BridgeRoutes;
  readonly logger: Logger;
  readonly metrics: MetricsRegistry;
}

export class MemberHubLink implements Component {
  readonly name = "member-link";
  readonly #stop = new AbortController();
  #bridge: Bridge | undefined;
  #running: Promise<void> | undefined;

  constructor(private readonly opts: MemberHubLinkOptions) {}

  start(): Promise<void> {
    const bridge = new Bridge(this.opts);
    this.#bridge = bridge;
    // With an outbox as `send`, outbound events are taken (and kept) even before the hub is reachable.
    if (this.opts.send !== undefined) bridge.startOutbound();
    this.#running = this.#run(bridge);
    return Promise.resolve();
  }

  async stop(): Promise<void> {
    this.#stop.abort();
    await this.#running;
    await this.#bridge?.stop();
    await this.opts.transport.close();
  }

  async #run(bridge: Bridge): Promise<void> {
    const { transport, logger } = this.opts;
    try {
      await transport.connect(this.#stop.signal);
      await bridge.start();
    } catch (err) {
      if (!this.#stop.signal.aborted) logger.error({ err }, "the hub link failed; this member runs alone");
    }
  }
}
