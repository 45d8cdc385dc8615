/**
 * The plan model of the resolver (abi/plan.schema.json): what a plan, the interpretation of an
 * input and the scenario routing DSL (abi/routing.schema.json) are once loaded. Seed 000,
 * "ядро: модель событий и шагов", "политика и директивы сценариев".
 */

/** Policies a plan or a step asks for; each adds to policy_fit (score.ts). */
export type Policy = "low-latency" | "private" | "low-cost";
export const POLICIES: readonly Policy[] = ["low-latency", "private", "low-cost"];

/** local: only nodes of this subnet not tagged `cloud`; cloud-ok: any. */
export type DataResidency = "local" | "cloud-ok";

export interface Constraints {
  readonly policies: readonly Policy[];
  readonly data_residency: DataResidency;
}

export interface PlanStep {
  /** Unique in the plan, ^[a-z0-9][a-z0-9_-]{0,63}$. */
  readonly id: string;
  /** capability://<family>.<verb> */
  readonly need: string;
  readonly depends_on: readonly string[];
  /** A node hint (hints.ts), e.g. `member:any(tag:server)`, `browser:current`, `hub`. */
  readonly prefer?: string;
  /** Step-level constraints, over the plan's. */
  readonly constraints?: Partial<Constraints>;
  /** Arguments passed to the node that runs the step (templates over earlier steps' outputs: `${steps.find.url}`). */
  readonly args: Readonly<Record<string, unknown>>;
}

export interface Interpretation {
  readonly intent?: { readonly name: string; readonly slots: Readonly<Record<string, unknown>>; readonly confidence?: number };
  readonly directives?: {
    /** skill://<kind>/<node_id>/<capability family.verb> — "the skill addressed by name". */
    readonly addressed_skill?: string | null;
    /** hub | member:<id> | any — "the one active here". */
    readonly prefer_agent?: string;
    readonly plan_hint?: readonly string[];
  };
}

export interface Plan {
  readonly id?: string;
  readonly steps: readonly PlanStep[];
  readonly constraints: Constraints;
  readonly interpretation?: Interpretation;
}

/** routing.forbid values: conditions that rule a node out for a capability. */
export type OverrideAction = "pin_to_addressed" | "pin_if_available";

export interface RoutingRules {
  readonly defaults: Partial<Constraints>;
  /** capability (without the capability:// prefix, or with it) → node hint. */
  readonly prefer: Readonly<Record<string, string>>;
  /** capability → conditions (hints.ts `matchesCondition`): `network:metered`, `tag:x`, `kind:browser`, `node:id`, `battery:low`. */
  readonly forbid: Readonly<Record<string, readonly string[]>>;
  readonly overrides: readonly { readonly when: { readonly addressed_skill?: boolean; readonly prefer_agent?: string }; readonly action: OverrideAction }[];
}

export const NO_RULES: RoutingRules = { defaults: {}, prefer: {}, forbid: {}, overrides: [] };

/** `capability://media.search` and `media.search` name the same capability. */
export function capName(need: string): string {
  return need.startsWith("capability://") ? need.slice("capability://".length) : need;
}
