/**
 * Building a node's manifest (abi/manifest.schema.json) from what the node is and what its drivers
 * declare. The upstream `capacity.io` entries (seed 003: the IO router picks a node by io_type) are
 * derived from the capabilities' families — `display.*` → display, `speaker.*`/`audio.out` →
 * audio_out, `mic.*`/`audio.in` → audio_in, `tts.*` → say, `console.*` → stdout; other families
 * are not io and stay capabilities only. `revision` is the first 16 hex digits of sha256 over the
 * canonical JSON (keys sorted) of everything else, so the same manifest always has the same
 * revision and the hub rewrites a node's capacity only when it really changed.
 */
import { createHash } from "node:crypto";
import type { CapabilityDecl, CapacityIo, CapacityItem, Manifest, NodeKind } from "../../abi/manifest.js";

const IO_TYPES: readonly (readonly [RegExp, string])[] = [
  [/^display\./, "display"],
  [/^(speaker\.|audio\.out$)/, "audio_out"],
  [/^(mic\.|audio\.in$)/, "audio_in"],
  [/^tts\./, "say"],
  [/^console\./, "stdout"],
];

export interface ManifestInput {
  readonly nodeId: string;
  readonly kind: NodeKind;
  readonly prioBase?: number;
  readonly tags?: readonly string[];
  readonly capabilities: readonly CapabilityDecl[];
  readonly skills?: readonly CapacityItem[];
  readonly scenarios?: readonly CapacityItem[];
}

/** The io_type a capability id maps to (capability://display.play → display), if any. */
export function ioTypeOf(capabilityId: string): string | undefined {
  const family = capabilityId.replace(/^capability:\/\//, "");
  return IO_TYPES.find(([re]) => re.test(family))?.[1];
}

function capacityIo(capabilities: readonly CapabilityDecl[]): CapacityIo[] {
  const byType = new Map<string, { capabilities: string[]; priority: number }>();
  for (const c of capabilities) {
    const type = ioTypeOf(c.id);
    if (type === undefined) continue;
    const e = byType.get(type) ?? { capabilities: [], priority: 0 };
    e.capabilities.push(c.id);
    e.priority = Math.max(e.priority, Math.round(c.prio));
    byType.set(type, e);
  }
  return [...byType].map(([io_type, e]) => ({ io_type, capabilities: e.capabilities, priority: e.priority }));
}

function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(",")}]`;
  if (value !== null && typeof value === "object") {
    return `{${Object.keys(value).sort().map((k) => `${JSON.stringify(k)}:${canonical((value as Record<string, unknown>)[k])}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

export function revisionOf(manifest: Omit<Manifest, "revision">): string {
  return createHash("sha256").update(canonical(manifest)).digest("hex").slice(0, 16);
}

export function buildManifest(input: ManifestInput): Manifest {
  const body: Omit<Manifest, "revision"> = {
    version: 1,
    agent: `agent://${input.kind}/${input.nodeId}`,
    node_id: input.nodeId,
    kind: input.kind,
    prio_base: input.prioBase ?? 0,
    tags: input.tags ?? [],
    capabilities: input.capabilities,
    capacity: { io: capacityIo(input.capabilities), skills: input.skills ?? [], scenarios: input.scenarios ?? [] },
  };
  return { ...body, revision: revisionOf(body) };
}
