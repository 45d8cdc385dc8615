/**
 * The hub's subnet directory (issue 5 item 4): the store (directory-store.ts) and liveness
 * (liveness.ts) joined, with the events they imply on the hub's bus — `net.subnet.node.up|down`
 * and `capacity.changed` (a new manifest revision). announce() takes a manifest, heartbeat() the
 * telemetry of a registered node (an unknown node is told to register again), deregister() and
 * linkGone() take a node out at once; a timer on the injected clock marks nodes whose TTL passed.
 */
import { publishOrLog } from "../bus/publish-or-log.js";
import type { Manifest } from "../../abi/manifest.js";
import { createHash } from "node:crypto";
import type { Bus } from "../bus/bus.js";
import type { Clock, TimerHandle } from "../core/clock.js";
import type { Component } from "../core/component.js";
import type { Logger } from "../core/logger.js";
import type { Capacity, DirectoryStore, NodeRecord } from "./directory-store.js";
import type { CapabilityStatus } from "./heartbeat.js";
import type { CapabilityView } from "./subnet-port.js";
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

/** An upstream AdaOS registration (`POST /api/subnet/register`): capacity instead of a manifest. */
export interface Registration {
  readonly node_id: string;
  readonly subnet_id?: string;
  readonly hostname?: string;
  readonly roles?: readonly string[];
  readonly base_url?: string;
  readonly node_state?: string;
  readonly capacity?: Capacity;
}

/** A node as the API and the snapshots show it: the stored record, its liveness and capabilities with their latest status. */
export interface NodeView extends NodeRecord {
  readonly capabilities: readonly CapabilityView[];
}

const EMPTY_CAPACITY: Capacity = { io: [], skills: [], scenarios: [] };

export class Directory implements Component {
  readonly name = "directory";
  readonly #liveness: Liveness;
  /** Latest probe status per node and capability (from heartbeats); absent = up. */
  readonly #status = new Map<string, Map<string, CapabilityStatus>>();
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
    this.#flush();
    return Promise.resolve();
  }

  /** The store's pending heartbeats to disk; a failure is logged and they wait for the next tick. */
  #flush(): void {
    try {
      this.opts.store.flush();
    } catch (err) {
      this.opts.logger.error({ err }, "directory: could not write heartbeats; kept in memory for the next try");
    }
  }

  /** A node's manifest (announce, or register over HTTP). */
  announce(manifest: Manifest, reason: UpReason = "announce", extra: { baseUrl?: string; hostname?: string } = {}): void {
    const before = this.opts.store.revisionOf(manifest.node_id);
    this.opts.store.upsert({ nodeId: manifest.node_id, kind: manifest.kind, revision: manifest.revision, capacity: manifest.capacity, manifest, ...extra });
    this.#changed(this.#liveness.seen(manifest.node_id, reason));
    if (before !== manifest.revision) {
      this.#publish("capacity.changed", {
        node_id: manifest.node_id,
        revision: manifest.revision,
        ...(before === undefined ? {} : { previous_revision: before }),
        capabilities: manifest.capabilities.map((c) => ({ id: c.id, status: "up" })),
      });
    }
  }

  /** Upstream registration over HTTP: the node's capacity as it reports it (no manifest); the lease is the TTL. */
  register(reg: Registration): { readonly lease_seconds: number } {
    const capacity = reg.capacity ?? EMPTY_CAPACITY;
    const revision = createHash("sha256").update(JSON.stringify(capacity)).digest("hex").slice(0, 16);
    const before = this.opts.store.revisionOf(reg.node_id);
    this.opts.store.upsert({
      nodeId: reg.node_id, kind: reg.roles?.includes("hub") === true ? "hub" : "member", revision, capacity,
      ...(reg.subnet_id === undefined ? {} : { subnetId: reg.subnet_id }),
      ...(reg.hostname === undefined ? {} : { hostname: reg.hostname }),
      ...(reg.roles === undefined ? {} : { roles: reg.roles }),
      ...(reg.base_url === undefined ? {} : { baseUrl: reg.base_url }),
      ...(reg.node_state === undefined ? {} : { nodeState: reg.node_state }),
    });
    this.#changed(this.#liveness.seen(reg.node_id, "register"));
    if (before !== revision) {
      this.#publish("capacity.changed", { node_id: reg.node_id, revision, ...(before === undefined ? {} : { previous_revision: before }), capabilities: [] });
    }
    return { lease_seconds: Math.ceil(this.ttlMs / 1000) };
  }

  /** The TTL after which a silent node is offline. */
  get ttlMs(): number {
    return this.opts.ttlMs ?? DEFAULT_TTL_MS;
  }

  /**
   * A heartbeat from a registered node: liveness, telemetry, and its capabilities' probe results
   * (a status change publishes capacity.changed). An unknown node is told to register.
   */
  heartbeat(nodeId: string, telemetry: unknown, capabilities?: readonly CapabilityStatus[]): HeartbeatResult {
    if (!this.opts.store.heartbeat(nodeId, telemetry)) return { ok: false, reason: "node not registered" };
    this.#changed(this.#liveness.seen(nodeId, "heartbeat"));
    if (capabilities !== undefined) this.#probed(nodeId, capabilities);
    return { ok: true };
  }

  /** The revision the directory has for a node (undefined: unknown). */
  revisionOf(nodeId: string): string | undefined {
    return this.opts.store.revisionOf(nodeId);
  }

  /** One node as the API shows it, or undefined. */
  node(nodeId: string): NodeView | undefined {
    const r = this.opts.store.get(nodeId);
    return r === undefined ? undefined : this.#view(r);
  }

  /** Every node as the API and the members' snapshots show it. */
  nodes(): NodeView[] {
    return this.opts.store.list().map((r) => this.#view(r));
  }

  deregister(nodeId: string): boolean {
    this.#status.delete(nodeId);
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

  #view(r: NodeRecord): NodeView {
    const status = this.#status.get(r.node_id);
    const manifest = r.manifest as Partial<Manifest> | null;
    // A node registered over HTTP has no manifest: its io capacity says what it can do.
    const declared = manifest?.capabilities ?? r.capacity.io.flatMap((io) => io.capabilities.map((id) => ({ id, prio: io.priority, cost: 0, inputs: [], outputs: [] })));
    const capabilities = declared.map((c) => {
      const s = status?.get(c.id);
      return { id: c.id, status: s?.status ?? "up", ...(s?.error === undefined ? {} : { error: s.error }), prio: c.prio, cost: c.cost, inputs: c.inputs, outputs: c.outputs };
    });
    // The live state is the liveness's; the stored flag lags by the TTL check and is only for upstream readers.
    const online = this.#liveness.state(r.node_id) === "up";
    return { ...r, online, capabilities };
  }

  #probed(nodeId: string, results: readonly CapabilityStatus[]): void {
    const before = this.#status.get(nodeId) ?? new Map<string, CapabilityStatus>();
    const after = new Map(results.filter((c) => c.status !== "up").map((c) => [c.id, c]));
    const moved = [...new Set([...before.keys(), ...after.keys()])].filter((id) => before.get(id)?.status !== after.get(id)?.status);
    this.#status.set(nodeId, after);
    if (moved.length === 0) return;
    const record = this.opts.store.get(nodeId);
    if (record === undefined) return;
    const declared = ((record.manifest as Partial<Manifest> | null)?.capabilities ?? []).map((c) => c.id);
    this.#publish("capacity.changed", {
      node_id: nodeId,
      revision: record.revision,
      capabilities: declared.map((id) => ({ id, status: after.get(id)?.status ?? "up" })),
    });
  }

  #arm(): void {
    this.#timer = this.opts.clock.setTimer(() => {
      this.#flush();
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
    publishOrLog(this.opts.bus, { event_name, version: 1, source: this.opts.source, priority: 2, payload }, this.opts.clock, this.opts.logger);
  }
}
