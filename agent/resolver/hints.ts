/**
 * Node hints and conditions of plans and the routing DSL.
 *
 * A hint names the nodes a step prefers (soft: when none of them is a candidate, all are):
 *   any · hub · node:<id> · tag:<tag> · <kind>:any · <kind>:any(tag:<tag>) · <kind>:<id> ·
 *   <kind>:self / <kind>:current (the node the input came from, ctx.origin)
 * where <kind> is hub, member or browser. A condition rules a node out (routing.forbid):
 *   network:metered · tag:<tag> · kind:<kind> · node:<id> · battery:low (below 20 %, not
 *   charging) · battery:any (running on battery).
 * Both are parsed once and fail with BadRequestError naming the text.
 */
import { BadRequestError } from "../core/errors.js";
import type { NodeFacts } from "./candidates.js";

/** Below this a node on battery counts as low (battery:low). */
export const LOW_BATTERY_PERCENT = 20;

export interface HintContext {
  /** The node the input came from (browser:current, member:self). */
  readonly origin?: string;
}

export type NodeTest = (node: NodeFacts, ctx: HintContext) => boolean;

const KINDS = new Set(["hub", "member", "browser"]);
const HINT = /^(?:(any)|(hub)|node:([A-Za-z0-9_.-]+)|tag:([A-Za-z0-9_.:-]+)|(hub|member|browser):(any|self|current|[A-Za-z0-9_.-]+)(?:\(tag:([A-Za-z0-9_.:-]+)\))?)$/;

export function parseHint(text: string): NodeTest {
  const m = HINT.exec(text.trim());
  if (m === null) throw new BadRequestError(`bad node hint "${text}": use any, hub, node:<id>, tag:<tag>, <kind>:any, <kind>:any(tag:<tag>), <kind>:<id> or <kind>:current`);
  const [, any, hub, nodeId, tag, kind, which, kindTag] = m;
  if (any !== undefined) return () => true;
  if (hub !== undefined) return (n) => n.kind === "hub";
  if (nodeId !== undefined) return (n) => n.node_id === nodeId;
  if (tag !== undefined) return (n) => n.tags.includes(tag);
  if (kind === undefined || which === undefined || !KINDS.has(kind)) throw new BadRequestError(`bad node hint "${text}"`);
  const withTag = (n: NodeFacts): boolean => kindTag === undefined || n.tags.includes(kindTag);
  if (which === "any") return (n) => n.kind === kind && withTag(n);
  if (which === "self" || which === "current") return (n, ctx) => n.kind === kind && ctx.origin === n.node_id && withTag(n);
  return (n) => n.kind === kind && n.node_id === which && withTag(n);
}

const CONDITION = /^(?:network:(metered)|tag:([A-Za-z0-9_.:-]+)|kind:(hub|member|browser)|node:([A-Za-z0-9_.-]+)|battery:(low|any))$/;

export function parseCondition(text: string): NodeTest {
  const m = CONDITION.exec(text.trim());
  if (m === null) throw new BadRequestError(`bad condition "${text}": use network:metered, tag:<tag>, kind:<kind>, node:<id>, battery:low or battery:any`);
  const [, metered, tag, kind, nodeId, battery] = m;
  if (metered !== undefined) return (n) => n.metered;
  if (tag !== undefined) return (n) => n.tags.includes(tag);
  if (kind !== undefined) return (n) => n.kind === kind;
  if (nodeId !== undefined) return (n) => n.node_id === nodeId;
  if (battery === "low") return (n) => n.battery !== null && !n.battery.charging && n.battery.percent < LOW_BATTERY_PERCENT;
  return (n) => n.battery !== null && !n.battery.charging;
}
