/** What the composition root hands a role's module (hub-links.ts, member-links.ts) to build its components. */
import type { Bus } from "../bus/bus.js";
import type { Config } from "../config/config.js";
import type { Clock } from "../core/clock.js";
import type { Component } from "../core/component.js";
import type { Logger } from "../core/logger.js";
import type { MetricsRegistry } from "../core/metrics.js";
import type { EventCatalog } from "../registry/catalog.js";
import type { SubnetReader, SubnetWriter } from "../directory/subnet-port.js";
import type { StoreAndForward } from "./store-and-forward.js";

export interface RoleDeps {
  readonly config: Config;
  readonly bus: Bus;
  readonly catalog: EventCatalog;
  readonly logger: Logger;
  readonly metrics: MetricsRegistry;
  readonly clock: Clock;
  /** The shared subnet token (API, and the members' first-setup login). */
  readonly token: string;
  /** Outbox, dead-letter queue and inbox (<data_dir>/outbox.db). */
  readonly store: StoreAndForward;
}

export interface RoleParts {
  /** In start order; they stop in reverse. */
  readonly components: Component[];
  /** The relay draining this node's outbox, for the API's outbox stats; absent when nothing is relayed. */
  readonly relayStatus?: () => Record<string, unknown>;
  /** The subnet directory behind /api/subnet/… : a hub's reads and writes, a member's snapshot. */
  readonly subnet?: { readonly reader: SubnetReader; readonly writer?: SubnetWriter };
}

export type RoleComponents = (deps: RoleDeps) => RoleParts;
