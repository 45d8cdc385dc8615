/** Node manifest v1: the types of abi/manifest.schema.json (kept in step by agent/directory/manifest.test.ts). */

export type NodeKind = "hub" | "member" | "browser";

export type Probe =
  | { readonly kind: "http"; readonly url: string; readonly timeout_ms?: number }
  | { readonly kind: "command"; readonly argv: readonly string[]; readonly timeout_ms?: number }
  | { readonly kind: "internal"; readonly check: string };

export interface CapabilityDecl {
  /** capability://<family>.<verb> */
  readonly id: string;
  readonly prio: number;
  readonly cost: number;
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
  readonly probe?: Probe;
}

export interface CapacityIo {
  readonly io_type: string;
  readonly capabilities: readonly string[];
  readonly priority: number;
  readonly id_hint?: string;
}

export interface CapacityItem {
  readonly name: string;
  readonly version?: string;
  readonly active?: boolean;
  readonly dev?: boolean;
}

export interface Manifest {
  readonly version: 1;
  readonly agent: string;
  readonly node_id: string;
  readonly kind: NodeKind;
  readonly prio_base: number;
  readonly tags: readonly string[];
  readonly capabilities: readonly CapabilityDecl[];
  readonly capacity: { readonly io: readonly CapacityIo[]; readonly skills: readonly CapacityItem[]; readonly scenarios: readonly CapacityItem[] };
  readonly revision: string;
}
