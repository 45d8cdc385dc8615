/**
 * Publishes a link's changes on the in-process bus as link.up / link.down / link.fallback
 * envelopes (abi/events/link/*, source agent://member/<id>), so the directory, the dashboard and
 * scenarios see them. They never leave the node (bridge/routes.ts keeps link.> local). A change
 * the bus refuses (stopped, invalid) is logged and skipped; the loop goes on.
 */
import type { Envelope } from "../../abi/envelope.js";
import type { Bus } from "../bus/bus.js";
import { systemClock, type Clock } from "../core/clock.js";
import type { Component } from "../core/component.js";
import { createEnvelope } from "../core/envelope.js";
import type { Logger } from "../core/logger.js";
import type { LinkChange } from "./change-feed.js";

/** Link state is system information: above ordinary events (3), below emergencies (0–1). */
const LINK_EVENT_PRIORITY = 2;

export interface LinkEventsOptions {
  /** The failover transport (or anything with its change feed). */
  readonly link: { changes(): AsyncIterable<LinkChange> };
  readonly bus: Bus;
  readonly nodeId: string;
  readonly logger: Logger;
  readonly role?: "member" | "hub";
  readonly tenant?: string;
  readonly clock?: Clock;
}

/** The envelope for one change; its payload follows abi/events/link/<type>/v1/schema.json. */
export function linkEnvelope(change: LinkChange, nodeId: string, opts: { role?: string; tenant?: string; clock?: Clock } = {}): Envelope {
  return createEnvelope({
    event_name: `link.${change.type}`,
    version: 1,
    source: `agent://${opts.role ?? "member"}/${nodeId}`,
    priority: LINK_EVENT_PRIORITY,
    ...(opts.tenant === undefined ? {} : { tenant: opts.tenant }),
    payload: {
      transport: change.transport,
      url: change.url,
      node_id: nodeId,
      at: new Date(change.at).toISOString(),
      ...(change.previous === undefined ? {} : { previous: change.previous }),
      ...(change.reason === undefined ? {} : { reason: change.reason.slice(0, 1000) }),
    },
  }, opts.clock ?? systemClock);
}

export class LinkEvents implements Component {
  readonly name = "link-events";
  #iterator: AsyncIterator<LinkChange> | undefined;
  #loop: Promise<void> | undefined;

  constructor(private readonly opts: LinkEventsOptions) {}

  start(signal: AbortSignal): Promise<void> {
    signal.throwIfAborted();
    const it = this.opts.link.changes()[Symbol.asyncIterator]();
    this.#iterator = it;
    this.#loop = this.#run(it);
    return Promise.resolve();
  }

  async stop(): Promise<void> {
    await this.#iterator?.return?.();
    await this.#loop;
    this.#iterator = undefined;
    this.#loop = undefined;
  }

  async #run(it: AsyncIterator<LinkChange>): Promise<void> {
    const { bus, nodeId, logger } = this.opts;
    const extra = { ...(this.opts.role === undefined ? {} : { role: this.opts.role }), ...(this.opts.tenant === undefined ? {} : { tenant: this.opts.tenant }), ...(this.opts.clock === undefined ? {} : { clock: this.opts.clock }) };
    try {
      for (let r = await it.next(); r.done !== true; r = await it.next()) {
        try {
          bus.publish(linkEnvelope(r.value, nodeId, extra));
        } catch (err) {
          logger.warn({ err, change: r.value }, "could not publish a link event");
        }
      }
    } catch (err) {
      logger.error({ err }, "link change feed failed");
    }
  }
}
