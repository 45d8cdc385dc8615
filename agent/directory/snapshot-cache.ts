/**
 * A member's view of its subnet: the latest `net.subnet.directory.snapshot` its hub broadcast,
 * served by the member's own `GET /api/subnet/nodes`. Before the first snapshot the list is empty.
 */
import type { Bus, Subscription } from "../bus/bus.js";
import type { Component } from "../core/component.js";
import type { SubnetNodeView, SubnetReader } from "./subnet-port.js";
import { fromSnapshot, type SnapshotNode } from "./views.js";

interface SnapshotPayload {
  readonly hub_id: string;
  readonly seq: number;
  readonly nodes: readonly SnapshotNode[];
}

export class SnapshotCache implements Component, SubnetReader {
  readonly name = "directory-snapshot";
  #nodes = new Map<string, SubnetNodeView>();
  #sub: Subscription | undefined;
  #from: { hub: string; seq: number; at: number } | undefined;

  constructor(private readonly bus: Bus) {}

  /** The hub and seq of the snapshot shown, if any. */
  get from(): { readonly hub: string; readonly seq: number } | undefined {
    return this.#from;
  }

  start(): Promise<void> {
    this.#sub = this.bus.subscribe("net.subnet.directory.snapshot", (e) => {
      const p = e.payload as unknown as SnapshotPayload;
      // An older snapshot arriving late (a resend) must not undo a newer one; seq restarts with the hub, its clock does not.
      const at = Date.parse(e.ts);
      if (this.#from !== undefined && at < this.#from.at) return;
      this.#from = { hub: p.hub_id, seq: p.seq, at };
      this.#nodes = new Map(p.nodes.map((n) => [n.node_id, fromSnapshot(n)]));
    });
    return Promise.resolve();
  }

  stop(): Promise<void> {
    this.#sub?.unsubscribe();
    this.#sub = undefined;
    return Promise.resolve();
  }

  list(): readonly SubnetNodeView[] {
    return [...this.#nodes.values()];
  }

  get(nodeId: string): SubnetNodeView | undefined {
    return this.#nodes.get(nodeId);
  }
}
