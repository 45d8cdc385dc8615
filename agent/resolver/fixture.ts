/**
 * Nodes and plans for the resolver's tests and benchmark: the seed's film example ("найди фильм и
 * покажи в браузере") — a media server, two browsers, a TV and a NAS — built as the directory
 * would show them.
 */
import type { CapabilityView } from "../directory/subnet-port.js";
import type { NodeFacts } from "./candidates.js";
import { NO_RULES, type Plan, type PlanStep } from "./plan.js";
import { DEFAULT_WEIGHTS } from "./score.js";
import type { ResolveInput } from "./resolve.js";

export function cap(id: string, prio: number, extra: Partial<CapabilityView> = {}): CapabilityView {
  return { id: `capability://${id}`, status: "up", prio, cost: 1, inputs: [], outputs: [], ...extra };
}

export function node(node_id: string, kind: string, capabilities: readonly CapabilityView[], extra: Partial<NodeFacts> = {}): NodeFacts {
  return { node_id, kind, online: true, prio_base: 50, tags: [], load: 0.1, metered: false, battery: null, rtt_to: { hub: 5 }, capabilities, skills: [], ...extra };
}

export function step(id: string, need: string, extra: Partial<PlanStep> = {}): PlanStep {
  return { id, need: `capability://${need}`, depends_on: [], args: {}, ...extra };
}

export function plan(steps: readonly PlanStep[], extra: Partial<Plan> = {}): Plan {
  return { steps, constraints: { policies: [], data_residency: "cloud-ok" }, ...extra };
}

/** find → stream → display. */
export const FILM_PLAN = plan([
  step("find", "media.search", { args: { title: "Inception" } }),
  step("stream", "media.playback", { depends_on: ["find"] }),
  step("display", "ui.render.video", { depends_on: ["stream"] }),
]);

export function filmNodes(): NodeFacts[] {
  return [
    node("hub-1", "hub", [], { rtt_to: {} }),
    node("plex1", "member", [cap("media.search", 85), cap("media.playback", 90, { outputs: ["hls", "dash"] })], { prio_base: 70, tags: ["server"], rtt_to: { hub: 4 } }),
    node("nas", "member", [cap("media.search", 60), cap("media.playback", 70, { outputs: ["mp4"] })], { prio_base: 60, rtt_to: { hub: 6 } }),
    node("browser-abc", "browser", [cap("ui.render.video", 95, { inputs: ["hls", "dash", "mp4"] })], { rtt_to: { hub: 8, plex1: 10 } }),
    node("tv", "member", [cap("ui.render.video", 90, { inputs: ["mp4"] })], { prio_base: 60, rtt_to: { hub: 5 } }),
  ];
}

export function input(extra: Partial<ResolveInput> = {}): ResolveInput {
  return { plan: FILM_PLAN, nodes: filmNodes(), hubId: "hub-1", rules: NO_RULES, weights: DEFAULT_WEIGHTS, ...extra };
}
