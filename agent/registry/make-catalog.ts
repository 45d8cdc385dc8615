/**
 * An EventCatalog over entries and their payload validators. Shared by the source catalog (ajv at
 * run time) and the precompiled one (generated validators); it imports no ajv itself.
 */
import { eventKey, type CatalogEvent, type CompiledValidator, type EventCatalog, type EventEntry } from "./catalog.js";

/** Entries without a validator are left out; the first of two entries with one key wins. */
export function makeCatalog(
  entries: readonly EventEntry[],
  validatorOf: (key: string) => CompiledValidator | undefined,
  validateEnvelope: CompiledValidator,
): EventCatalog {
  const events = new Map<string, CatalogEvent>();
  for (const entry of entries) {
    const key = eventKey(entry.fqdn, entry.version);
    const validatePayload = validatorOf(key);
    if (validatePayload !== undefined && !events.has(key)) events.set(key, { entry, validatePayload });
  }
  const list = Object.freeze([...events.values()].map((e) => e.entry));
  return {
    get: (fqdn, version) => events.get(eventKey(fqdn, version)),
    list: () => list,
    validateEnvelope,
  };
}
