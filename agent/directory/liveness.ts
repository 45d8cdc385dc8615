/**
 * Which nodes are online, from when the hub last heard from each (issue 5 item 4): a node is up
 * from its first heartbeat (or announce, or HTTP register), down once its TTL passes without one
 * (3 missed heartbeats by default), at once when its link reports it gone (MQTT last will, NATS
 * disconnect) or when it deregisters. Each change is reported once, with its reason. Pure logic
 * on an injected clock: the hub's directory calls check() on a timer.
 */
import type { Clock } from "../core/clock.js";

export type NodeState = "up" | "down";
export type UpReason = "heartbeat" | "announce" | "register";
export type DownReason = "ttl" | "link" | "deregister";

export interface LivenessChange {
  readonly nodeId: string;
  readonly state: NodeState;
  readonly reason: UpReason | DownReason;
  /** Epoch ms the hub last heard from the node. */
  readonly lastSeen: number;
  /** For an up after a down: how long it was down. */
  readonly downForMs?: number;
}

interface Entry {
  state: NodeState;
  lastSeen: number;
  downSince: number | undefined;
}

/** 3 heartbeats at the default 5 s interval. */
export const DEFAULT_TTL_MS = 15_000;

export class Liveness {
  readonly #nodes = new Map<string, Entry>();

  constructor(private readonly clock: Clock, private readonly ttlMs = DEFAULT_TTL_MS) {}

  /** Known from before (a hub restart): listed as down until it is heard from. */
  restore(nodeId: string, lastSeen: number): void {
    if (!this.#nodes.has(nodeId)) this.#nodes.set(nodeId, { state: "down", lastSeen, downSince: lastSeen });
  }

  /** Heard from the node now; the change when it was down or unknown. */
  seen(nodeId: string, reason: UpReason = "heartbeat"): LivenessChange | undefined {
    const now = this.clock.now();
    const e = this.#nodes.get(nodeId);
    if (e === undefined) {
      this.#nodes.set(nodeId, { state: "up", lastSeen: now, downSince: undefined });
      return { nodeId, state: "up", reason, lastSeen: now };
    }
    e.lastSeen = now;
    if (e.state === "up") return undefined;
    const downForMs = e.downSince === undefined ? undefined : now - e.downSince;
    e.state = "up";
    e.downSince = undefined;
    return { nodeId, state: "up", reason, lastSeen: now, ...(downForMs === undefined ? {} : { downForMs }) };
  }

  /** Its link says it is gone (or it deregistered): down at once. Undefined when it already was. */
  gone(nodeId: string, reason: "link" | "deregister"): LivenessChange | undefined {
    const e = this.#nodes.get(nodeId);
    if (reason === "deregister") this.#nodes.delete(nodeId);
    if (e === undefined || e.state === "down") return undefined;
    e.state = "down";
    e.downSince = this.clock.now();
    return { nodeId, state: "down", reason, lastSeen: e.lastSeen };
  }

  /** Nodes whose TTL passed since they were last heard from: each reported down once. */
  check(): LivenessChange[] {
    const now = this.clock.now();
    const changes: LivenessChange[] = [];
    for (const [nodeId, e] of this.#nodes) {
      if (e.state !== "up" || now - e.lastSeen < this.ttlMs) continue;
      e.state = "down";
      e.downSince = now;
      changes.push({ nodeId, state: "down", reason: "ttl", lastSeen: e.lastSeen });
    }
    return changes;
  }

  state(nodeId: string): NodeState | undefined {
    return this.#nodes.get(nodeId)?.state;
  }

  /** When the next node would time out, for the caller's timer (undefined: nobody is up). */
  nextDeadline(): number | undefined {
    let next: number | undefined;
    for (const e of this.#nodes.values()) if (e.state === "up") next = Math.min(next ?? Infinity, e.lastSeen + this.ttlMs);
    return next;
  }
}
