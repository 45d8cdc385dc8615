/**
 * The event catalog port: what the runtime knows about registered events. Two implementations:
 * precompiled (validators generated at build time, used by the agent) and source (compiles
 * abi/events/registry.yaml with ajv at run time, used by the developer commands).
 */
import type { EnvelopeKind } from "../../abi/envelope.js";

/** The shape ajv's compiled (and standalone) validators have. */
export interface CompiledValidator {
  (data: unknown): boolean;
  errors?: readonly AjvError[] | null;
}

export interface AjvError {
  readonly instancePath: string;
  readonly keyword: string;
  readonly params: Readonly<Record<string, unknown>>;
  readonly message?: string;
}

export type EventStatus = "draft" | "stable" | "deprecated";

/** One entry of abi/events/registry.yaml (seed 000 "минимальная запись в реестре"). */
export interface EventEntry {
  readonly fqdn: string;
  readonly version: number;
  readonly kind: EnvelopeKind;
  readonly summary: string;
  readonly producers: readonly string[];
  readonly consumers: readonly string[];
  /** Path of the payload schema, relative to abi/events/. */
  readonly schema: string;
  /** For commands: the reply event as "fqdn@version". */
  readonly reply?: string;
  /** Envelope fields or header names that must be present. */
  readonly required_headers: readonly string[];
  readonly semantics?: Readonly<Record<string, string>>;
  readonly status: EventStatus;
  /** Path of the main example envelope, relative to abi/events/. */
  readonly example?: string;
}

export interface CatalogEvent {
  readonly entry: EventEntry;
  readonly validatePayload: CompiledValidator;
}

export interface EventCatalog {
  /** The event registered under this name and major version, if any. */
  get(fqdn: string, version: number): CatalogEvent | undefined;
  /** Every registered event, in registry order. */
  list(): readonly EventEntry[];
  /** The compiled envelope v1 validator (abi/envelope.schema.json). */
  readonly validateEnvelope: CompiledValidator;
}

export function eventKey(fqdn: string, version: number): string {
  return `${fqdn}@${version}`;
}
