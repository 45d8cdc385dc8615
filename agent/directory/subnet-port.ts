/**
 * What the HTTP API and the CLI need of the subnet directory, whichever node they run on. A hub
 * answers from its Directory (directory.ts) and takes registrations and heartbeats; a member
 * answers reads from the latest snapshot its hub broadcast and has no writer (the API then says
 * where to register). Views are plain JSON: what `GET /api/subnet/nodes` returns per node.
 */
import type { Manifest } from "../../abi/manifest.js";
import type { CapabilityStatus } from "./heartbeat.js";
import type { HeartbeatResult, Registration } from "./directory.js";

/** A capability as the directory shows it: what the manifest declares and the latest probe status. */
export type CapabilityView = CapabilityStatus & {
  readonly prio?: number;
  readonly cost?: number;
  readonly inputs?: readonly string[];
  readonly outputs?: readonly string[];
};

export interface SubnetNodeView {
  readonly node_id: string;
  readonly kind: string;
  readonly online: boolean;
  /** Epoch seconds, as upstream AdaOS keeps it. */
  readonly last_seen: number;
  readonly roles?: readonly string[];
  readonly hostname?: string | null;
  readonly base_url?: string | null;
  readonly revision?: string;
  /** Latest telemetry.heartbeat telemetry ({load, cpu, mem, temp_c, battery, metered_network, rtt_to}); null before the first. */
  readonly telemetry: unknown;
  readonly capabilities: readonly CapabilityView[];
  readonly [key: string]: unknown;
}

export interface SubnetReader {
  list(): readonly SubnetNodeView[];
  get(nodeId: string): SubnetNodeView | undefined;
}

/** Only a hub has one. */
export interface SubnetWriter {
  register(reg: Registration): { readonly lease_seconds: number };
  heartbeat(nodeId: string, telemetry: unknown, capabilities?: readonly CapabilityStatus[]): HeartbeatResult;
  deregister(nodeId: string): boolean;
  /** A manifest that passed checkManifest (manifest-check.ts). */
  announce(manifest: Manifest, extra?: { readonly hostname?: string; readonly baseUrl?: string }): void;
}
