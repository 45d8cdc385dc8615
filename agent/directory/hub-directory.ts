/**
 * The hub's directory at work on its bus (issue 5 item 4): it opens the SQLite store at start,
 * takes every node's `net.subnet.node.announced` and `telemetry.heartbeat` (its own and, through
 * the bridges, its members'), answers `net.subnet.ping` so members measure their round trip, asks
 * a node to announce again when a heartbeat comes from a node it does not know or with another
 * manifest revision, and broadcasts `net.subnet.directory.snapshot` a second after any change
 * (up, down, capacity) and every `snapshotMs` besides. It is also the API's reader and writer.
 *
 * A member can only speak for itself: a payload whose node_id is not the envelope source's node
 * is dropped (the brokers already stop a member publishing on another's subjects).
 */
import type { Envelope } from "../../abi/envelope.js";
import { HEADER } from "../../abi/envelope.js";
import type { Manifest } from "../../abi/manifest.js";
import type { Bus, Subscription } from "../bus/bus.js";
import { originNode } from "../bridge/routes.js";
import type { Clock, TimerHandle } from "../core/clock.js";
import type { Component } from "../core/component.js";
import { createEnvelope } from "../core/envelope.js";
import { StorageError } from "../core/errors.js";
import type { Logger } from "../core/logger.js";
import type { Counter, MetricsRegistry } from "../core/metrics.js";
import { Directory, type HeartbeatResult, type Registration } from "./directory.js";
import { DirectoryStore } from "./directory-store.js";
import type { CapabilityStatus } from "./heartbeat.js";
import { checkManifest } from "./manifest-check.js";
import type { SubnetNodeView, SubnetReader, SubnetWriter } from "./subnet-port.js";
import { apiView, snapshotNode } from "./views.js";

/** A node is asked to announce at most this often (a heartbeat every 5 s must not mean a request every 5 s). */
const ASK_AGAIN_MS = 10_000;
/** Changes within this window go out in one snapshot. */
const SNAPSHOT_DEBOUNCE_MS = 1000;

export interface HubDirectoryOptions {
  readonly hubId: string;
  readonly dataDir: string;
  readonly bus: Bus;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly ttlMs: number;
  readonly snapshotMs: number;
  /** How long a node has to answer net.subnet.announce. */
  readonly announceTimeoutMs: number;
  readonly metrics?: MetricsRegistry;
}

interface AnnouncedPayload {
  readonly manifest: unknown;
  readonly hostname?: string;
  readonly base_url?: string;
}

interface HeartbeatPayload {
  readonly node_id: string;
  readonly seq: number;
  readonly telemetry: Record<string, unknown>;
  readonly capabilities?: readonly CapabilityStatus[];
  readonly revision?: string;
}

export class HubDirectory implements Component, SubnetReader, SubnetWriter {
  readonly name = "directory";
  readonly #source: string;
  readonly #subs: Subscription[] = [];
  /** When each node was last asked to announce (and whether the request is still out). */
  readonly #asked = new Map<string, number>();
  #store: DirectoryStore | undefined;
  #directory: Directory | undefined;
  #seq = 0;
  #debounce: TimerHandle | undefined;
  #periodic: TimerHandle | undefined;
  #stopped = false;
  readonly #heartbeats: Counter | undefined;

  constructor(private readonly opts: HubDirectoryOptions) {
    this.#source = `directory@${opts.hubId}`;
    const m = opts.metrics;
    this.#heartbeats = m?.counter("adaos_directory_heartbeats_total", "Heartbeats the hub's directory took over the bus and HTTP, by outcome (ok; unknown: the node is not registered and is asked to announce or told to register).");
    m?.counter("adaos_directory_capacity_writes_total", "Rewrites of a node's capacity tables in SQLite: announces and registrations whose manifest changed (heartbeats never rewrite them).", () => [[{}, this.capacityWrites]]);
    m?.counter("adaos_directory_heartbeat_flushes_total", "Transactions that wrote the heartbeats taken since the one before (one a second at most).", () => [[{}, this.#store?.flushes ?? 0]]);
    m?.gauge("adaos_directory_nodes", "Nodes in the subnet directory, online and offline.", () => {
      const nodes = this.#directory?.nodes() ?? [];
      const online = nodes.filter((n) => n.online).length;
      return [[{ state: "online" }, online], [{ state: "offline" }, nodes.length - online]];
    });
  }

  /** Capacity rewrites since start (the bench's "writes only on change"). */
  get capacityWrites(): number {
    return this.#store?.capacityWrites ?? 0;
  }

  async start(): Promise<void> {
    const { bus, clock, logger } = this.opts;
    this.#stopped = false;
    this.#store = DirectoryStore.open(this.opts.dataDir, clock);
    this.#directory = new Directory({ store: this.#store, bus, clock, logger, source: this.#source, ttlMs: this.opts.ttlMs });
    await this.#directory.start();
    this.#subs.push(
      bus.subscribe("net.subnet.node.announced", (e) => this.#onAnnounced(e), { maxPending: 10_000 }),
      bus.subscribe("telemetry.heartbeat", (e) => this.#onHeartbeat(e), { maxPending: 10_000 }),
      bus.subscribe("net.subnet.ping", (e) => this.#onPing(e), { maxPending: 10_000 }),
      bus.subscribe("net.subnet.node.*", () => this.#changed()),
      bus.subscribe("capacity.changed", () => this.#changed()),
    );
    this.#armPeriodic();
    this.#changed();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    for (const s of this.#subs.splice(0)) s.unsubscribe();
    this.#debounce?.cancel();
    this.#periodic?.cancel();
    this.#debounce = this.#periodic = undefined;
    await this.#directory?.stop();
    this.#store?.close();
    this.#store = undefined;
    this.#directory = undefined;
  }

  // SubnetReader

  list(): readonly SubnetNodeView[] {
    return this.#dir().nodes().map(apiView);
  }

  get(nodeId: string): SubnetNodeView | undefined {
    const n = this.#dir().node(nodeId);
    return n === undefined ? undefined : apiView(n);
  }

  // SubnetWriter

  register(reg: Registration): { readonly lease_seconds: number } {
    return this.#dir().register(reg);
  }

  /** Over the bus or HTTP alike; counted by outcome. */
  heartbeat(nodeId: string, telemetry: unknown, capabilities?: readonly CapabilityStatus[]): HeartbeatResult {
    const result = this.#dir().heartbeat(nodeId, telemetry, capabilities);
    this.#heartbeats?.inc({ outcome: result.ok ? "ok" : "unknown" });
    return result;
  }

  deregister(nodeId: string): boolean {
    return this.#dir().deregister(nodeId);
  }

  announce(manifest: Manifest, extra: { readonly hostname?: string; readonly baseUrl?: string } = {}): void {
    this.#dir().announce(manifest, "announce", extra);
  }

  /** The node's link says it is gone (link-presence.ts). */
  linkGone(nodeId: string): void {
    this.#directory?.linkGone(nodeId);
  }

  #dir(): Directory {
    if (this.#directory === undefined) throw new StorageError("the directory is not open");
    return this.#directory;
  }

  /** The node an envelope speaks for, when it may: the payload's node_id must be the sender's. */
  #speaker(e: Envelope, nodeId: string | undefined, what: string): string | undefined {
    const origin = originNode(e.source);
    if (nodeId !== undefined && origin === nodeId) return nodeId;
    this.opts.logger.warn({ source: e.source, node_id: nodeId, event: e.event_name }, `directory: dropped a ${what} that does not come from the node it names`);
    return undefined;
  }

  #onAnnounced(e: Envelope): void {
    const p = e.payload as unknown as AnnouncedPayload;
    const claimed = (p.manifest as { node_id?: string } | null)?.node_id;
    const nodeId = this.#speaker(e, claimed, "manifest");
    if (nodeId !== undefined) this.#accept(nodeId, p);
  }

  #accept(nodeId: string, p: AnnouncedPayload): void {
    const checked = checkManifest(p.manifest);
    if (!checked.ok) {
      this.opts.logger.warn({ node_id: nodeId, issues: checked.issues.slice(0, 5) }, "directory: refused an invalid manifest");
      return;
    }
    if (checked.manifest.node_id !== nodeId) return;
    this.announce(checked.manifest, { ...(p.hostname === undefined ? {} : { hostname: p.hostname }), ...(p.base_url === undefined ? {} : { baseUrl: p.base_url }) });
  }

  #onHeartbeat(e: Envelope): void {
    if (e.kind !== "event") return;
    const p = e.payload as unknown as HeartbeatPayload;
    const nodeId = this.#speaker(e, p.node_id, "heartbeat");
    if (nodeId === undefined || this.#directory === undefined) return;
    const result = this.heartbeat(nodeId, p.telemetry, p.capabilities);
    if (!result.ok) this.#ask(nodeId, "unknown");
    else if (p.revision !== undefined && p.revision !== this.#directory.revisionOf(nodeId)) this.#ask(nodeId, "revision");
  }

  /** Ask a node for its manifest (net.subnet.announce); its reply is taken like an announce. */
  #ask(nodeId: string, reason: "unknown" | "revision"): void {
    const now = this.opts.clock.now();
    const last = this.#asked.get(nodeId);
    if (last !== undefined && now - last < ASK_AGAIN_MS) return;
    this.#asked.set(nodeId, now);
    const known = this.#directory?.revisionOf(nodeId);
    const command = createEnvelope({
      event_name: "net.subnet.announce", version: 1, kind: "command", source: this.#source, priority: 2,
      headers: { [HEADER.target]: nodeId },
      payload: { reason, ...(known === undefined ? {} : { known_revision: known }) },
    }, this.opts.clock);
    this.opts.bus.request(command, { timeoutMs: this.opts.announceTimeoutMs }).then(
      (reply) => {
        if (!this.#stopped) this.#accept(nodeId, reply.payload as unknown as AnnouncedPayload);
      },
      (err: unknown) => this.opts.logger.debug({ err, node_id: nodeId }, "directory: a node did not answer net.subnet.announce"),
    );
  }

  #onPing(e: Envelope): void {
    if (e.kind !== "command") return;
    const seq = (e.payload as { seq?: number }).seq ?? 0;
    try {
      this.opts.bus.reply(e, { event_name: "net.subnet.ping.result", version: 1, payload: { hub_id: this.opts.hubId, seq, hub_ts: new Date(this.opts.clock.now()).toISOString() } });
    } catch (err) {
      this.opts.logger.debug({ err }, "directory: could not answer a ping");
    }
  }

  #changed(): void {
    if (this.#debounce !== undefined || this.#stopped) return;
    this.#debounce = this.opts.clock.setTimer(() => {
      this.#debounce = undefined;
      this.#broadcast();
    }, SNAPSHOT_DEBOUNCE_MS);
  }

  #armPeriodic(): void {
    this.#periodic = this.opts.clock.setTimer(() => {
      this.#broadcast();
      if (!this.#stopped) this.#armPeriodic();
    }, this.opts.snapshotMs);
  }

  #broadcast(): void {
    if (this.#directory === undefined) return;
    try {
      this.opts.bus.publish(createEnvelope({
        event_name: "net.subnet.directory.snapshot", version: 1, source: this.#source, priority: 3,
        // A snapshot is worth nothing once the next one is due.
        ttl_ms: this.opts.snapshotMs,
        payload: { hub_id: this.opts.hubId, seq: this.#seq++, nodes: this.#directory.nodes().map(snapshotNode) },
      }, this.opts.clock));
    } catch (err) {
      this.opts.logger.error({ err }, "directory: could not publish a snapshot");
    }
  }
}
