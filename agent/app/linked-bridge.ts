/**
 * A transport and the bridge over it, as one component: the transport is made at start (its
 * address and credentials may only exist once an earlier component — the broker — has started),
 * connected within a deadline, then bridged to the bus. A factory that returns undefined means
 * "no such link here" (e.g. no nats-server on this hub) and the component stays idle.
 */
import { Bridge, type BridgeOptions } from "../bridge/bridge.js";
import type { BridgeRoutes } from "../bridge/routes.js";
import type { Bus } from "../bus/bus.js";
import type { Component } from "../core/component.js";
import type { Logger } from "../core/logger.js";
import type { MetricsRegistry } from "../core/metrics.js";
import type { Transport } from "../transport/transport.js";

/** The hub's links go to its own brokers on loopback: anything slower than this is a fault. */
export const LOCAL_CONNECT_TIMEOUT_MS = 10_000;

export interface LinkedBridgeOptions extends Pick<BridgeOptions, "send" | "inbox" | "requestTimeoutMs" | "catalog" | "answers"> {
  readonly name: string;
  readonly makeTransport: () => Transport | undefined;
  readonly bus: Bus;
  readonly nodeId: string;
  readonly routes: BridgeRoutes;
  readonly logger: Logger;
  readonly metrics: MetricsRegistry;
  readonly connectTimeoutMs?: number;
}

export class LinkedBridge implements Component {
  readonly name: string;
  #transport: Transport | undefined;
  #bridge: Bridge | undefined;

  constructor(private readonly opts: LinkedBridgeOptions) {
    this.name = opts.name;
  }

  get transport(): Transport | undefined {
    return this.#transport;
  }

  async start(signal: AbortSignal): Promise<void> {
    const transport = this.opts.makeTransport();
    if (transport === undefined) {
      this.opts.logger.info({ link: this.name }, "link not configured here; skipped");
      return;
    }
    this.#transport = transport;
    await transport.connect(AbortSignal.any([signal, AbortSignal.timeout(this.opts.connectTimeoutMs ?? LOCAL_CONNECT_TIMEOUT_MS)]));
    this.#bridge = new Bridge({ ...this.opts, transport });
    await this.#bridge.start();
  }

  async stop(): Promise<void> {
    await this.#bridge?.stop();
    await this.#transport?.close();
    this.#bridge = undefined;
    this.#transport = undefined;
  }
}
