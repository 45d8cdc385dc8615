/**
 * An EventCatalog compiled at run time from in-memory entries and schemas, with the same ajv
 * settings as the registry tooling. Tests use it to define the few events they need.
 */
import type { Ajv2020 } from "ajv/dist/2020.js";
import envelopeSchema from "../../abi/envelope.schema.json" with { type: "json" };
import type { CatalogEvent, CompiledValidator, EventCatalog, EventEntry } from "./catalog.js";
import { eventKey } from "./catalog.js";
import { createEventAjv } from "./ajv.js";

export interface EventDefinition {
  readonly entry: EventEntry;
  readonly schema: object;
}

export class MemoryCatalog implements EventCatalog {
  readonly validateEnvelope: CompiledValidator;
  readonly #events = new Map<string, CatalogEvent>();
  readonly #entries: EventEntry[] = [];

  constructor(definitions: readonly EventDefinition[], ajv: Ajv2020 = createEventAjv()) {
    this.validateEnvelope = ajv.compile(envelopeSchema);
    for (const def of definitions) {
      const validatePayload = ajv.compile(def.schema);
      this.#events.set(eventKey(def.entry.fqdn, def.entry.version), { entry: def.entry, validatePayload });
      this.#entries.push(def.entry);
    }
  }

  get(fqdn: string, version: number): CatalogEvent | undefined {
    return this.#events.get(eventKey(fqdn, version));
  }

  list(): readonly EventEntry[] {
    return this.#entries;
  }
}

/** A minimal entry for tests and tools: fills the descriptive fields. */
export function entry(fqdn: string, kind: EventEntry["kind"] = "event", extra: Partial<EventEntry> = {}): EventEntry {
  return {
    fqdn,
    version: 1,
    kind,
    summary: fqdn,
    producers: [],
    consumers: [],
    schema: `${fqdn.split(".")[0] ?? fqdn}/${fqdn.split(".").slice(1).join(".")}/v1/schema.json`,
    required_headers: [],
    status: "stable",
    ...extra,
  };
}
