/**
 * What the resolver knows of a node: the directory's view (SubnetNodeView, the hub's own
 * directory or a member's snapshot) reduced to the facts the score and the constraints read.
 * A node is a candidate for a step when it is online and declares the step's capability with
 * status `up`. Missing telemetry counts as unknown, not as good: load 1 per core, no rtt known
 * (the hub's rtt to the node stands in when the pair's is missing).
 */
import type { CapabilityView, SubnetNodeView } from "../directory/subnet-port.js";
import { capName } from "./plan.js";

export interface NodeFacts {
  readonly node_id: string;
  readonly kind: string;
  readonly online: boolean;
  readonly prio_base: number;
  readonly tags: readonly string[];
  /** 1-minute load per core; null when unknown. */
  readonly load: number | null;
  readonly metered: boolean;
  readonly battery: { readonly percent: number; readonly charging: boolean } | null;
  /** Round trips this node measured, by peer node id (`hub` is the hub). */
  readonly rtt_to: Readonly<Record<string, number>>;
  readonly capabilities: readonly CapabilityView[];
  readonly skills: readonly string[];
}

export interface Candidate {
  readonly node: NodeFacts;
  readonly capability: CapabilityView;
}

/** A node's prio_base when its manifest gives none (the manifest schema's default). */
export const DEFAULT_PRIO_BASE = 50;

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
const num = (v: unknown): number | null => (typeof v === "number" && Number.isFinite(v) ? v : null);

export function nodeFacts(view: SubnetNodeView): NodeFacts {
  const t = isRecord(view.telemetry) ? view.telemetry : {};
  const rtt: Record<string, number> = {};
  if (isRecord(t.rtt_to)) for (const [k, v] of Object.entries(t.rtt_to)) if (num(v) !== null) rtt[k] = v as number;
  const b = isRecord(t.battery) ? t.battery : null;
  const capacity = isRecord(view.capacity) ? view.capacity : {};
  const skills = Array.isArray(capacity.skills)
    ? capacity.skills.filter((s): s is { name: string; active?: boolean } => isRecord(s) && typeof s.name === "string" && s.active !== false).map((s) => s.name)
    : [];
  return {
    node_id: view.node_id,
    kind: view.kind,
    online: view.online,
    prio_base: num(view.prio_base) ?? DEFAULT_PRIO_BASE,
    tags: Array.isArray(view.tags) ? view.tags.filter((x): x is string => typeof x === "string") : [],
    load: num(t.load),
    metered: t.metered_network === true,
    battery: b !== null && num(b.percent) !== null ? { percent: b.percent as number, charging: b.charging === true } : null,
    rtt_to: rtt,
    capabilities: view.capabilities,
    skills,
  };
}

/** Online nodes offering `need` with status up, each with that capability's declaration. */
export function candidatesFor(need: string, nodes: readonly NodeFacts[]): Candidate[] {
  const want = capName(need);
  const out: Candidate[] = [];
  for (const node of nodes) {
    if (!node.online) continue;
    const capability = node.capabilities.find((c) => capName(c.id) === want && c.status === "up");
    if (capability !== undefined) out.push({ node, capability });
  }
  return out;
}

/** Round trip between two nodes: what either measured to the other, else both to the hub, else null. */
export function rttBetween(a: NodeFacts, b: NodeFacts, hubId: string | undefined): number | null {
  if (a.node_id === b.node_id) return 0;
  const direct = a.rtt_to[b.node_id] ?? b.rtt_to[a.node_id];
  if (direct !== undefined) return direct;
  const viaHub = (n: NodeFacts): number | null => (n.kind === "hub" || n.node_id === hubId ? 0 : (n.rtt_to.hub ?? (hubId === undefined ? undefined : n.rtt_to[hubId]) ?? null));
  const x = viaHub(a);
  const y = viaHub(b);
  return x === null || y === null ? null : x + y;
}
