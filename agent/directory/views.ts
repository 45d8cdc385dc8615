/**
 * The two outward shapes of a directory node: the API's (`GET /api/subnet/nodes`, upstream
 * AdaOS fields first — last_seen in epoch seconds, capacity — then ours) and the members'
 * snapshot entry (net.subnet.directory.snapshot: ISO time, no capacity, the manifest's routing
 * facts). A member's API shows the snapshot entry back in the API shape (fromSnapshot).
 */
import type { Manifest } from "../../abi/manifest.js";
import type { NodeView } from "./directory.js";
import type { SubnetNodeView } from "./subnet-port.js";

export interface SnapshotNode {
  readonly node_id: string;
  readonly kind: string;
  readonly online: boolean;
  readonly last_seen: string;
  readonly revision: string;
  readonly base_url?: string;
  readonly prio_base?: number;
  readonly tags?: readonly string[];
  readonly capabilities: NodeView["capabilities"];
  readonly telemetry: unknown;
}

function routing(n: NodeView): { prio_base?: number; tags?: readonly string[] } {
  const m = n.manifest as Partial<Manifest> | null;
  return { ...(m?.prio_base === undefined ? {} : { prio_base: m.prio_base }), ...(m?.tags === undefined ? {} : { tags: m.tags }) };
}

export function apiView(n: NodeView): SubnetNodeView {
  return {
    node_id: n.node_id,
    subnet_id: n.subnet_id,
    hostname: n.hostname,
    roles: n.roles,
    base_url: n.base_url,
    node_state: n.node_state,
    online: n.online,
    last_seen: n.last_seen,
    capacity: n.capacity,
    kind: n.kind,
    revision: n.revision,
    ...routing(n),
    capabilities: n.capabilities,
    telemetry: n.telemetry ?? null,
  };
}

export function snapshotNode(n: NodeView): SnapshotNode {
  return {
    node_id: n.node_id,
    kind: n.kind,
    online: n.online,
    last_seen: new Date(n.last_seen * 1000).toISOString(),
    revision: n.revision,
    ...(n.base_url === null ? {} : { base_url: n.base_url }),
    ...routing(n),
    capabilities: n.capabilities,
    telemetry: n.telemetry ?? null,
  };
}

export function fromSnapshot(n: SnapshotNode): SubnetNodeView {
  return { ...n, last_seen: Date.parse(n.last_seen) / 1000, base_url: n.base_url ?? null };
}
