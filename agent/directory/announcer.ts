/**
 * A node announcing itself (issue 5 item 3): `net.subnet.node.announced` with its manifest at
 * start and whenever the manifest changes (update()), and the same as the reply to the hub's
 * `net.subnet.announce` — the hub asks when it hears a heartbeat from a node it does not know
 * (it lost its database) or with another revision. Only commands addressed to this node are
 * answered: on a hub, the bus also carries the commands it sends its members.
 */
import { HEADER, type Envelope } from "../../abi/envelope.js";
import type { Manifest } from "../../abi/manifest.js";
import type { Bus, Subscription } from "../bus/bus.js";
import { HUB_ALIAS } from "../bridge/routes.js";
import type { Clock } from "../core/clock.js";
import type { Component } from "../core/component.js";
import { createEnvelope } from "../core/envelope.js";
import type { Logger } from "../core/logger.js";

export interface AnnouncerOptions {
  readonly nodeId: string;
  readonly isHub: boolean;
  readonly bus: Bus;
  readonly clock: Clock;
  readonly logger: Logger;
  /** The envelope source, e.g. `agent://member/tv`. */
  readonly from: string;
  readonly manifest: Manifest;
  readonly hostname?: string;
  /** Where this node's own API answers, when it is reachable from the subnet. */
  readonly baseUrl?: string;
}

export class Announcer implements Component {
  readonly name = "announcer";
  #manifest: Manifest;
  #sub: Subscription | undefined;

  constructor(private readonly opts: AnnouncerOptions) {
    this.#manifest = opts.manifest;
  }

  get revision(): string {
    return this.#manifest.revision;
  }

  get manifest(): Manifest {
    return this.#manifest;
  }

  start(): Promise<void> {
    this.#sub = this.opts.bus.subscribe("net.subnet.announce", (e) => this.#answer(e));
    this.#announce();
    return Promise.resolve();
  }

  stop(): Promise<void> {
    this.#sub?.unsubscribe();
    this.#sub = undefined;
    return Promise.resolve();
  }

  /** A new manifest (a driver came or went): announced when its revision differs. */
  update(manifest: Manifest): void {
    if (manifest.revision === this.#manifest.revision) return;
    this.#manifest = manifest;
    if (this.#sub !== undefined) this.#announce();
  }

  #payload(): Record<string, unknown> {
    return {
      manifest: this.#manifest,
      ...(this.opts.hostname === undefined ? {} : { hostname: this.opts.hostname }),
      ...(this.opts.baseUrl === undefined ? {} : { base_url: this.opts.baseUrl }),
    };
  }

  #announce(): void {
    try {
      this.opts.bus.publish(createEnvelope({ event_name: "net.subnet.node.announced", version: 1, source: this.opts.from, priority: 2, payload: this.#payload() }, this.opts.clock));
    } catch (err) {
      this.opts.logger.error({ err }, "announce failed");
    }
  }

  #answer(e: Envelope): void {
    if (e.kind !== "command") return;
    const target = e.headers[HEADER.target];
    if (target !== this.opts.nodeId && !(this.opts.isHub && target === HUB_ALIAS)) return;
    try {
      this.opts.bus.reply(e, { event_name: "net.subnet.announce.result", version: 1, payload: this.#payload() });
    } catch (err) {
      this.opts.logger.warn({ err }, "could not answer net.subnet.announce");
    }
  }
}
