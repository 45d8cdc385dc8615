/**
 * The resolver (seed 000 "минимальный алгоритм резолвера"): bind each step of a plan to the best
 * node, pure — no leases, no side effects (POST /resolve shows exactly this).
 *
 * Per step, in dependency order:
 *   1. candidates: nodes declaring the capability; an offline node or a capability not `up` is
 *      rejected with that reason;
 *   2. hard rules: nodes excluded by the caller (re-planning after a failure), data_residency
 *      `local` rules out nodes tagged `cloud`, routing.forbid conditions for the capability;
 *   3. pins: an addressed skill (directives.addressed_skill `skill://<kind>/<node>/<capability>`)
 *      pins the step to that node only when allowed — an override `{when: {addressed_skill:
 *      true}, action: pin_to_addressed}` or ctx.allow_addressed — and otherwise only adds
 *      w_addressed; prefer_agent (directives) and then the step's `prefer` or routing.prefer hint
 *      narrow the set when it keeps at least one node (pin_if_available), else fall back to all;
 *   4. score (score.ts), rtt to the nodes bound to the step's dependencies;
 *   5. formats: for each dependency, producer.outputs ∩ consumer.inputs must not be empty when
 *      both declare formats (a capability without declared formats does not constrain).
 * The best-scoring compatible candidate is taken; when a later step then has none, the search
 * backtracks to the next candidate of the earlier steps (bounded by MAX_SEARCH nodes visited).
 * Every loser gets a reason: its rule, its format mismatch, or its lower score.
 */
import type { CapabilityView } from "../directory/subnet-port.js";
import type { Candidate, NodeFacts } from "./candidates.js";
import { parseCondition, parseHint, type HintContext, type NodeTest } from "./hints.js";
import { capName, type Constraints, type Plan, type PlanStep, type Policy, type RoutingRules } from "./plan.js";
import { score, type ScoreTerms, type Weights } from "./score.js";

/** A bound on the backtracking search: a plan the greedy choice cannot satisfy is rare and small. */
export const MAX_SEARCH = 20_000;

export interface ResolveContext extends HintContext {
  /** Allow the addressed skill to pin its step (as the pin_to_addressed override does). */
  readonly allow_addressed?: boolean;
}

export interface ResolveInput {
  readonly plan: Plan;
  readonly nodes: readonly NodeFacts[];
  readonly hubId?: string;
  readonly rules: RoutingRules;
  readonly weights: Weights;
  readonly ctx?: ResolveContext;
  /** step id → node ids not to use (they failed). */
  readonly exclude?: ReadonlyMap<string, ReadonlySet<string>>;
  /** step id → node id already bound (kept as is; e.g. steps that already ran). */
  readonly fixed?: ReadonlyMap<string, string>;
}

export interface Binding {
  readonly step: string;
  readonly need: string;
  readonly node_id: string;
  readonly score: ScoreTerms;
  /** Why this node: pins, hints, formats. */
  readonly reasons: readonly string[];
  /** Formats it shares with each dependency's node, by dependency step. */
  readonly formats: Readonly<Record<string, readonly string[]>>;
}

export interface Rejection {
  readonly step: string;
  readonly node_id: string;
  readonly reason: string;
  readonly score?: number;
}

export interface Resolution {
  readonly ok: boolean;
  readonly bindings: readonly Binding[];
  readonly rejected: readonly Rejection[];
  readonly unresolved: readonly { readonly step: string; readonly reason: string }[];
}

interface Option {
  readonly candidate: Candidate;
  readonly terms: ScoreTerms;
  readonly reasons: readonly string[];
}

interface StepPlan {
  readonly step: PlanStep;
  /** Candidates that passed the rules, best first (scores with no dependency bound yet). */
  readonly pool: readonly { candidate: Candidate; reasons: readonly string[]; addressed: boolean }[];
  readonly policies: readonly Policy[];
  readonly rejected: Rejection[];
}

export function topoOrder(steps: readonly PlanStep[]): PlanStep[] {
  const byId = new Map(steps.map((s) => [s.id, s]));
  const out: PlanStep[] = [];
  const state = new Map<string, "visiting" | "done">();
  const visit = (s: PlanStep, path: string[]): void => {
    const st = state.get(s.id);
    if (st === "done") return;
    if (st === "visiting") throw new Error(`the plan's steps depend on each other in a cycle: ${[...path, s.id].join(" → ")}`);
    state.set(s.id, "visiting");
    for (const d of s.depends_on) {
      const dep = byId.get(d);
      if (dep === undefined) throw new Error(`step ${s.id} depends on ${d}, which is not in the plan`);
      visit(dep, [...path, s.id]);
    }
    state.set(s.id, "done");
    out.push(s);
  };
  for (const s of steps) visit(s, []);
  return out;
}

function constraintsOf(input: ResolveInput, step: PlanStep): Constraints {
  const d = input.rules.defaults;
  return {
    policies: step.constraints?.policies ?? (input.plan.constraints.policies.length > 0 ? input.plan.constraints.policies : (d.policies ?? [])),
    data_residency: step.constraints?.data_residency ?? input.plan.constraints.data_residency ?? d.data_residency ?? "cloud-ok",
  };
}

/** `skill://<kind>/<node>/<capability>` → its node and capability. */
function addressedSkill(text: string | null | undefined): { node: string; cap: string } | undefined {
  const m = text === null || text === undefined ? null : /^skill:\/\/[a-z]+\/([A-Za-z0-9_.-]+)\/(.+)$/.exec(text);
  return m === null || m[1] === undefined || m[2] === undefined ? undefined : { node: m[1], cap: capName(m[2]) };
}

function lookup<T>(map: Readonly<Record<string, T>>, need: string): T | undefined {
  return map[capName(need)] ?? map[need] ?? map[`capability://${capName(need)}`];
}

function narrow<T extends { candidate: Candidate }>(pool: T[], test: NodeTest, ctx: HintContext, label: string, rejected: Rejection[], step: string, notes: string[]): T[] {
  const kept = pool.filter((p) => test(p.candidate.node, ctx));
  if (kept.length === 0) {
    notes.push(`${label}: no candidate matches, all kept`);
    return pool;
  }
  for (const p of pool) if (!kept.includes(p)) rejected.push({ step, node_id: p.candidate.node.node_id, reason: `not ${label}` });
  return kept;
}

function planStep(input: ResolveInput, step: PlanStep): StepPlan & { notes: string[] } {
  const rejected: Rejection[] = [];
  const notes: string[] = [];
  const ctx = input.ctx ?? {};
  const want = capName(step.need);
  const { policies, data_residency } = constraintsOf(input, step);
  const forbid = (lookup(input.rules.forbid, step.need) ?? []).map((c) => ({ text: c, test: parseCondition(c) }));
  const excluded = input.exclude?.get(step.id);
  const addressed = addressedSkill(input.plan.interpretation?.directives?.addressed_skill);
  const addressedHere = addressed !== undefined && addressed.cap === want ? addressed : undefined;
  const pinAddressed = addressedHere !== undefined && (ctx.allow_addressed === true || input.rules.overrides.some((o) => o.when.addressed_skill === true && o.action === "pin_to_addressed"));

  let pool: { candidate: Candidate; reasons: string[]; addressed: boolean }[] = [];
  for (const node of input.nodes) {
    const cap = node.capabilities.find((c) => capName(c.id) === want);
    if (cap === undefined) continue;
    const reject = (reason: string): void => void rejected.push({ step: step.id, node_id: node.node_id, reason });
    if (!node.online) { reject("node offline"); continue; }
    if (cap.status !== "up") { reject(`capability ${cap.status}${typeof cap.error === "string" ? `: ${cap.error}` : ""}`); continue; }
    if (excluded?.has(node.node_id) === true) { reject("excluded: failed earlier in this run"); continue; }
    if (data_residency === "local" && node.tags.includes("cloud")) { reject("data_residency local: node tagged cloud"); continue; }
    const hit = forbid.find((f) => f.test(node, ctx));
    if (hit !== undefined) { reject(`forbidden by routing.forbid: ${hit.text}`); continue; }
    pool.push({ candidate: { node, capability: cap }, reasons: [], addressed: addressedHere?.node === node.node_id });
  }
  if (pinAddressed && addressedHere !== undefined) {
    const pinned = pool.filter((p) => p.candidate.node.node_id === addressedHere.node);
    for (const p of pool) if (!pinned.includes(p)) rejected.push({ step: step.id, node_id: p.candidate.node.node_id, reason: `pinned to the addressed skill on ${addressedHere.node}` });
    pool = pinned;
    for (const p of pool) p.reasons.push("pinned to the addressed skill");
  } else {
    if (addressedHere !== undefined) notes.push("addressed skill not pinned (no pin_to_addressed override): it only adds w_addressed");
    const preferAgent = input.plan.interpretation?.directives?.prefer_agent;
    if (preferAgent !== undefined && preferAgent !== "any") pool = narrow(pool, parseHint(preferAgent), ctx, `prefer_agent ${preferAgent}`, rejected, step.id, notes);
    const hint = step.prefer ?? lookup(input.rules.prefer, step.need);
    if (hint !== undefined) pool = narrow(pool, parseHint(hint), ctx, `preferred (${hint})`, rejected, step.id, notes);
  }
  return { step, pool, policies, rejected, notes };
}

/** Formats the producer's outputs share with the consumer's inputs; undefined when either declares none (no constraint). */
export function sharedFormats(producer: CapabilityView, consumer: CapabilityView): string[] | undefined {
  const out = producer.outputs ?? [];
  const inp = consumer.inputs ?? [];
  if (out.length === 0 || inp.length === 0) return undefined;
  return out.filter((f) => inp.includes(f));
}

export function resolvePlan(input: ResolveInput): Resolution {
  let order: PlanStep[];
  try {
    order = topoOrder(input.plan.steps);
  } catch (err) {
    return { ok: false, bindings: [], rejected: [], unresolved: [{ step: "*", reason: (err as Error).message }] };
  }
  const plans = order.map((s) => planStep(input, s));
  const chosen = new Map<string, { option: Option; formats: Record<string, readonly string[]> }>();
  const rejectedAt = new Map<string, Rejection[]>();
  let visited = 0;
  let deepest = { index: -1, reason: "" };

  const options = (i: number): { option: Option; formats: Record<string, readonly string[]> }[] => {
    const sp = plans[i] as StepPlan & { notes: string[] };
    const deps = sp.step.depends_on.map((d) => ({ id: d, bound: chosen.get(d) })).filter((d) => d.bound !== undefined);
    const adjacent = deps.map((d) => (d.bound as { option: Option }).option.candidate.node);
    const fixedNode = input.fixed?.get(sp.step.id);
    const scored: { option: Option; formats: Record<string, readonly string[]> }[] = [];
    const lost: Rejection[] = [];
    for (const p of sp.pool) {
      if (fixedNode !== undefined && p.candidate.node.node_id !== fixedNode) continue;
      const formats: Record<string, readonly string[]> = {};
      let mismatch: string | undefined;
      for (const d of deps) {
        const producer = (d.bound as { option: Option }).option.candidate.capability;
        const shared = sharedFormats(producer, p.candidate.capability);
        if (shared === undefined) continue;
        if (shared.length === 0) {
          mismatch = `formats: ${d.id}'s outputs [${(producer.outputs ?? []).join(", ")}] ∩ inputs [${(p.candidate.capability.inputs ?? []).join(", ")}] = ∅`;
          break;
        }
        formats[d.id] = shared;
      }
      if (mismatch !== undefined) {
        lost.push({ step: sp.step.id, node_id: p.candidate.node.node_id, reason: mismatch });
        continue;
      }
      const terms = score({ candidate: p.candidate, adjacent, hubId: input.hubId, policies: sp.policies, addressed: p.addressed, weights: input.weights });
      scored.push({ option: { candidate: p.candidate, terms, reasons: p.reasons }, formats });
    }
    scored.sort((a, b) => b.option.terms.total - a.option.terms.total || (a.option.candidate.node.node_id < b.option.candidate.node.node_id ? -1 : 1));
    rejectedAt.set(sp.step.id, lost);
    if (scored.length === 0 && i > deepest.index) {
      deepest = { index: i, reason: sp.pool.length === 0 ? `no candidate for ${sp.step.need}` : `no candidate for ${sp.step.need} compatible with the nodes bound to ${sp.step.depends_on.join(", ")}` };
    }
    return scored;
  };

  const search = (i: number): boolean => {
    if (i === plans.length) return true;
    const sp = plans[i] as StepPlan;
    for (const o of options(i)) {
      if (++visited > MAX_SEARCH) return false;
      chosen.set(sp.step.id, o);
      if (search(i + 1)) return true;
      chosen.delete(sp.step.id);
    }
    return false;
  };

  const ok = search(0);
  const rejected: Rejection[] = [];
  const bindings: Binding[] = [];
  for (const [i, sp] of (plans as (StepPlan & { notes: string[] })[]).entries()) {
    const c = chosen.get(sp.step.id);
    // Against the final neighbours: an honest "why not" for every loser (and the format mismatches).
    const all = c === undefined ? [] : options(i);
    rejected.push(...sp.rejected, ...(rejectedAt.get(sp.step.id) ?? []));
    if (c === undefined) continue;
    for (const o of all) {
      if (o.option.candidate.node.node_id === c.option.candidate.node.node_id) continue;
      rejected.push({ step: sp.step.id, node_id: o.option.candidate.node.node_id, reason: `lower score ${o.option.terms.total} < ${c.option.terms.total}`, score: o.option.terms.total });
    }
    bindings.push({
      step: sp.step.id,
      need: sp.step.need,
      node_id: c.option.candidate.node.node_id,
      score: c.option.terms,
      reasons: [...c.option.reasons, ...sp.notes, ...(Object.keys(c.formats).length > 0 ? [`formats ${Object.entries(c.formats).map(([d, f]) => `${d}: ${f.join("|")}`).join("; ")}`] : [])],
      formats: c.formats,
    });
  }
  const unresolved = ok ? [] : [{ step: (plans[Math.max(0, deepest.index)] as StepPlan | undefined)?.step.id ?? "*", reason: visited > MAX_SEARCH ? `search gave up after ${MAX_SEARCH} tries` : deepest.reason }];
  return { ok, bindings: ok ? bindings : [], rejected: dedupe(rejected), unresolved };
}

function dedupe(list: readonly Rejection[]): Rejection[] {
  const seen = new Set<string>();
  return list.filter((r) => {
    const k = `${r.step}\u0000${r.node_id}\u0000${r.reason}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}
