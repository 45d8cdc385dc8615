/**
 * Link-level presence: a member whose connection to the hub's brokers is gone is offline at once,
 * not a TTL later. Each source (the embedded MQTT broker's clients, the supervised nats-server's
 * connections) reports the set of member node ids connected to it now. A node that was seen on
 * some link and is then on none for `graceMs` (a member failing over from NATS to MQTT is briefly
 * on neither) is reported gone. A node never seen on a link (an HTTP-only device) is left to its TTL.
 */
import type { Clock, TimerHandle } from "../core/clock.js";
import type { Component } from "../core/component.js";
import type { Logger } from "../core/logger.js";

/** Where connected node ids come from; `watch` calls back with the full set on every change. */
export interface PresenceSource {
  readonly name: string;
  watch(onNodes: (nodes: ReadonlySet<string>) => void): { stop(): void | Promise<void> };
}

export interface LinkPresenceOptions {
  readonly sources: readonly PresenceSource[];
  readonly clock: Clock;
  readonly logger: Logger;
  /** Called once per disappearance. */
  readonly onGone: (nodeId: string) => void;
  /** Default 1500 ms. */
  readonly graceMs?: number;
}

export const DEFAULT_LINK_GRACE_MS = 1500;

export class LinkPresence implements Component {
  readonly name = "link-presence";
  readonly #current = new Map<string, ReadonlySet<string>>();
  /** Nodes seen on a link and not yet reported gone. */
  readonly #known = new Set<string>();
  readonly #pending = new Map<string, TimerHandle>();
  #watches: { stop(): void | Promise<void> }[] = [];

  constructor(private readonly opts: LinkPresenceOptions) {}

  start(): Promise<void> {
    this.#watches = this.opts.sources.map((s) => s.watch((nodes) => this.#update(s.name, nodes)));
    return Promise.resolve();
  }

  async stop(): Promise<void> {
    const watches = this.#watches;
    this.#watches = [];
    for (const t of this.#pending.values()) t.cancel();
    this.#pending.clear();
    await Promise.all(watches.map(async (w) => { await w.stop(); }));
  }

  /** Whether some link has the node now. */
  connected(nodeId: string): boolean {
    return [...this.#current.values()].some((set) => set.has(nodeId));
  }

  #update(source: string, nodes: ReadonlySet<string>): void {
    const before = this.#current.get(source) ?? new Set<string>();
    this.#current.set(source, new Set(nodes));
    for (const id of nodes) {
      this.#known.add(id);
      this.#pending.get(id)?.cancel();
      this.#pending.delete(id);
    }
    for (const id of before) {
      if (nodes.has(id) || this.connected(id) || this.#pending.has(id)) continue;
      this.#pending.set(id, this.opts.clock.setTimer(() => this.#expire(id), this.opts.graceMs ?? DEFAULT_LINK_GRACE_MS));
    }
  }

  #expire(nodeId: string): void {
    this.#pending.delete(nodeId);
    if (this.connected(nodeId) || !this.#known.delete(nodeId)) return;
    this.opts.logger.info({ node: nodeId }, "a member's link is gone");
    this.opts.onGone(nodeId);
  }
}
