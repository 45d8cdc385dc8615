/**
 * The hub's subnet directory (issue 5 item 4): the store (directory-store.ts) and liveness
 * (liveness.ts) joined, with the events they imply on the hub's bus — `net.subnet.node.up|down`
 * and `capacity.changed` (a new manifest revision). announce() takes a manifest, heartbeat() the
 * telemetry of a registered node (an unknown node is told to register again), deregister() and
 * linkGone() take a node out at once; a timer on the injected clock marks nodes whose TTL passed.
 */
import type { Manifest } from "../../abi/manifest.js";
import type { Bus } from "../bus/bus.js";
import type { Clock, TimerHandle } from "../core/clock.js";
import type { Component } from "../core/component.js";
import { createEnvelope } from "../core/envelope.js";
import type { Logger } from "../core/logger.js";
import type { DirectoryStore, NodeRecord } from "./directory-store.js";
import { DEFAULT_TTL_MS, Liveness, type LivenessChange, type UpReason } from "./liveness.js";

export interface DirectoryOptions {
  readonly store: DirectoryStore;
  readonly bus: Bus;
  readonly clock: Clock;
  readonly logger: Logger;
  /** The envelope source of the directory's events, e.g. `directory@hub-1`. */
  readonly source: string;
  readonly ttlMs?: number;
  /** How often the TTL is checked; default 1 s, so a node is marked within TTL + 1 s. */
  readonly checkEveryMs?: number;
}

export type HeartbeatResult = { readonly ok: true } | { readonly ok: false; readonly reason: "node not registered" };

export class Directory implements Component {
  readonly name = "directory";
  readonly #liveness: Liveness;
  #timer: TimerHandle | undefined;

  constructor(private readonly opts: DirectoryOptions) {
    this.#liveness = new Liveness(opts.clock, opts.ttlMs);
  }

  /** Nodes the store knows from before are down until heard from; then the TTL timer runs. */
  start(): Promise<void> {
    for (const n of this.opts.store.list()) this.#liveness.restore(n.node_id, n.last_seen * 1000);
    this.#arm();
    return Promise.resolve();
  }

  stop(): Promise<void> {
    this.#timer?.cancel();
    this.#timer = undefined;
    return Promise.resolve();
  }

  /** A node's manifest (announce, or register over HTTP). */
  announce(manifest: Manifest, reason: UpReason = "announce", extra: { baseUrl?: string; hostname?: string } = {}): void {
    const before = this.opts.store.get(manifest.node_id);
    this.opts.store.upsert({ nodeId: manifest.node_id, kind: manifest.kind, revision: manifest.revision, capacity: manifest.capacity, manifest, ...extra });
    this.#changed(this.#liveness.seen(manifest.node_id, reason));
    if (before?.revision !== manifest.revision) {
      this.#publish("capacity.changed", {
        node_id: manifest.node_id,
        revision: manifest.revision,
        ...(before === undefined ? {} : { previous_revision: before.revision }),
        capabilities: manifest.capabilities.map((c) => ({ id: c.id, status: "up" })),
      });
    }
  }

  heartbeat(nodeId: string, telemetry: unknown): HeartbeatResult {
    if (!this.opts.store.heartbeat(nodeId, telemetry)) return { ok: false, reason: "node not registered" };
    this.#changed(this.#liveness.seen(nodeId, "heartbeat"));
    return { ok: true };
  }

  deregister(nodeId: string): boolean {
    this.#changed(this.#liveness.gone(nodeId, "deregister"));
    return this.opts.store.remove(nodeId);
  }

  /** The node's link says it is gone (MQTT last will, NATS disconnect). */
  linkGone(nodeId: string): void {
    const change = this.#liveness.gone(nodeId, "link");
    if (change !== undefined) this.opts.store.markOffline(nodeId);
    this.#changed(change);
  }

  snapshot(): NodeRecord[] {
    return this.opts.store.list();
  }

  #arm(): void {
    this.#timer = this.opts.clock.setTimer(() => {
      for (const change of this.#liveness.check()) {
        this.opts.store.markOffline(change.nodeId);
        this.#changed(change);
      }
      this.#arm();
    }, this.opts.checkEveryMs ?? 1000);
  }

  #changed(change: LivenessChange | undefined): void {
    if (change === undefined) return;
    if (change.state === "up") {
      this.#publish("net.subnet.node.up", { node_id: change.nodeId, reason: change.reason, ...(change.downForMs === undefined ? {} : { offline_ms: change.downForMs }) });
    } else {
      const missed = change.reason === "ttl" ? { missed: Math.floor((this.opts.clock.now() - change.lastSeen) / ((this.opts.ttlMs ?? DEFAULT_TTL_MS) / 3)) } : {};
      this.#publish("net.subnet.node.down", { node_id: change.nodeId, reason: change.reason, last_seen: new Date(change.lastSeen).toISOString(), ...missed });
    }
  }

  #publish(event_name: string, payload: Record<string, unknown>): void {
    try {
      this.opts.bus.publish(createEnvelope({ event_name, version: 1, source: this.opts.source, priority: 2, payload }, this.opts.clock));
    } catch (err) {
      this.opts.logger.error({ err, event: event_name }, "directory: could not publish a change");
    }
  }
}
