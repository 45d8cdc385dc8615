/**
 * The seed's score (000, "резолвер"), every term kept so a caller can say why a node won:
 *
 *   score = w_prio·cap.prio + w_base·prio_base − w_load·load − w_rtt·rtt − w_cost·cost
 *         + w_policy·policy_fit + w_addressed·addressed
 *
 * rtt is the sum of round trips (ms) to the nodes bound to adjacent steps (candidates.ts
 * rttBetween), or to the hub when no neighbour is bound yet; an unknown one counts as
 * UNKNOWN_RTT_MS. load is per core, unknown = 1. policy_fit is the mean over the policies asked
 * for, each in [−1, 1]:
 *   low-latency  1 − rtt/50 ms, clamped (0 ms → 1, ≥ 100 ms → −1)
 *   low-cost     1 − cost/2.5, clamped (free → 1, cost ≥ 5 → −1)
 *   private      hub 1, member 0.5, browser 0; a node tagged `cloud` −1
 * addressed is 1 when the node hosts the addressed skill. Weights come from config
 * resolver.weights.
 */
import type { Candidate, NodeFacts } from "./candidates.js";
import { rttBetween } from "./candidates.js";
import type { Policy } from "./plan.js";

export interface Weights {
  readonly prio: number;
  readonly base: number;
  readonly load: number;
  readonly rtt: number;
  readonly cost: number;
  readonly policy: number;
  readonly addressed: number;
}

/** The defaults of config resolver.weights. */
export const DEFAULT_WEIGHTS: Weights = { prio: 1, base: 0.5, load: 30, rtt: 0.2, cost: 5, policy: 20, addressed: 1000 };

/** A round trip nobody measured: a typical home Wi-Fi hop, so unmeasured nodes are not favoured. */
export const UNKNOWN_RTT_MS = 50;
/** Load per core when the node sent none yet: busy enough not to win on it. */
export const UNKNOWN_LOAD = 1;

export interface ScoreInput {
  readonly candidate: Candidate;
  /** Nodes bound to the steps adjacent to this one (its dependencies already bound). */
  readonly adjacent: readonly NodeFacts[];
  readonly hubId: string | undefined;
  readonly policies: readonly Policy[];
  readonly addressed: boolean;
  readonly weights: Weights;
}

/** Each signed contribution to the total, and the inputs they came from. */
export interface ScoreTerms {
  readonly prio: number;
  readonly base: number;
  readonly load: number;
  readonly rtt: number;
  readonly cost: number;
  readonly policy: number;
  readonly addressed: number;
  readonly total: number;
  readonly inputs: { readonly prio: number; readonly prio_base: number; readonly load: number; readonly rtt_ms: number; readonly cost: number; readonly policy_fit: number };
}

const clamp = (x: number, lo: number, hi: number): number => Math.min(hi, Math.max(lo, x));
const round = (x: number): number => Math.round(x * 1000) / 1000;

export function rttTerm(node: NodeFacts, adjacent: readonly NodeFacts[], hubId: string | undefined): number {
  if (adjacent.length === 0) {
    if (node.kind === "hub" || node.node_id === hubId) return 0;
    return node.rtt_to.hub ?? (hubId === undefined ? undefined : node.rtt_to[hubId]) ?? UNKNOWN_RTT_MS;
  }
  return adjacent.reduce((sum, p) => sum + (rttBetween(node, p, hubId) ?? UNKNOWN_RTT_MS), 0);
}

export function policyFit(policies: readonly Policy[], node: NodeFacts, rttMs: number, cost: number): number {
  if (policies.length === 0) return 0;
  const fit = (p: Policy): number => {
    switch (p) {
      case "low-latency": return clamp(1 - rttMs / 50, -1, 1);
      case "low-cost": return clamp(1 - cost / 2.5, -1, 1);
      case "private": return node.tags.includes("cloud") ? -1 : node.kind === "hub" ? 1 : node.kind === "member" ? 0.5 : 0;
    }
  };
  return policies.reduce((s, p) => s + fit(p), 0) / policies.length;
}

export function score(i: ScoreInput): ScoreTerms {
  const { node, capability } = i.candidate;
  const w = i.weights;
  const prio = capability.prio ?? 0;
  const cost = capability.cost ?? 0;
  const load = node.load ?? UNKNOWN_LOAD;
  const rttMs = rttTerm(node, i.adjacent, i.hubId);
  const fit = policyFit(i.policies, node, rttMs, cost);
  const terms = {
    prio: round(w.prio * prio),
    base: round(w.base * node.prio_base),
    load: round(-w.load * load),
    rtt: round(-w.rtt * rttMs),
    cost: round(-w.cost * cost),
    policy: round(w.policy * fit),
    addressed: i.addressed ? w.addressed : 0,
  };
  const total = round(terms.prio + terms.base + terms.load + terms.rtt + terms.cost + terms.policy + terms.addressed);
  return { ...terms, total, inputs: { prio, prio_base: node.prio_base, load, rtt_ms: rttMs, cost, policy_fit: round(fit) } };
}
