/**
 * The precompiled event catalog: what the running agent uses. Entries come from the generated
 * abi/events/_dist/registry.json, validators from the generated ajv standalone code in
 * abi/events/_dist/validators.ts, so start-up compiles nothing and loads no ajv compiler
 * (`npm run codegen` regenerates both; `events registry build --check` catches drift).
 */
import registry from "../../abi/events/_dist/registry.json" with { type: "json" };
import { envelope, payloads } from "../../abi/events/_dist/validators.js";
import { InternalError } from "../core/errors.js";
import { eventKey, type CompiledValidator, type EventCatalog, type EventEntry } from "./catalog.js";
import { DIST_FORMAT, canonicalEntry } from "./conventions.js";
import { makeCatalog } from "./make-catalog.js";

/** The shape of _dist/registry.json (see codegen-events.ts). */
export interface DistRegistry {
  readonly format: number;
  readonly events: readonly (EventEntry & { readonly payload_schema?: unknown })[];
}

let cached: EventCatalog | undefined;

/** The catalog of the generated files; built on first use and shared. */
export function precompiledCatalog(): EventCatalog {
  cached ??= catalogFromDist(registry as unknown as DistRegistry, envelope, payloads);
  return cached;
}

/** Build a catalog from a generated index and validators, refusing if they disagree. */
export function catalogFromDist(
  dist: DistRegistry,
  validateEnvelope: CompiledValidator,
  validators: Readonly<Record<string, CompiledValidator>>,
): EventCatalog {
  const regenerate = "the generated files in abi/events/_dist are out of date; run `npm run codegen`";
  if (dist.format !== DIST_FORMAT) {
    throw new InternalError(`_dist/registry.json has format ${String(dist.format)}, this agent reads format ${DIST_FORMAT}: ${regenerate}`);
  }
  const entries = dist.events.map((e) => canonicalEntry(e));
  const keys = new Set(entries.map((e) => eventKey(e.fqdn, e.version)));
  const missing = [...keys].filter((k) => validators[k] === undefined);
  const extra = Object.keys(validators).filter((k) => !keys.has(k));
  if (missing.length > 0 || extra.length > 0) {
    const details = [missing.length > 0 ? `no validator for ${missing.join(", ")}` : "", extra.length > 0 ? `validators without an entry: ${extra.join(", ")}` : ""];
    throw new InternalError(`${details.filter((d) => d !== "").join("; ")}: ${regenerate}`);
  }
  return makeCatalog(entries, (key) => validators[key], validateEnvelope);
}
