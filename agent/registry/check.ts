/**
 * Ingress validation of one envelope against envelope v1 and the event registry. Every ingress
 * (bus publish, transport receive, HTTP, CLI validate) goes through checkEnvelope().
 */
import type { Envelope } from "../../abi/envelope.js";
import { EnvelopeInvalidError, PayloadInvalidError, UnknownEventError } from "../core/errors.js";
import type { Issue } from "../core/errors.js";
import type { CatalogEvent, EventCatalog } from "./catalog.js";
import { issuesFromAjv } from "./issues.js";

/**
 * Validate `data` as an envelope (ajv fills defaults for tenant, priority and headers, so pass a
 * copy you own) and return it typed. Throws EnvelopeInvalidError, UnknownEventError or
 * PayloadInvalidError with JSON-pointer issues.
 */
export function checkEnvelope(catalog: EventCatalog, data: unknown): { envelope: Envelope; event: CatalogEvent } {
  if (!catalog.validateEnvelope(data)) {
    const issues = issuesFromAjv(catalog.validateEnvelope.errors);
    throw new EnvelopeInvalidError(`invalid envelope: ${summarize(issues)}`, { issues });
  }
  const envelope = data as Envelope;
  const event = catalog.get(envelope.event_name, envelope.version);
  if (event === undefined) {
    const known = catalog.list().filter((e) => e.fqdn === envelope.event_name).map((e) => e.version);
    const hint = known.length > 0 ? ` (registered versions: ${known.join(", ")})` : "";
    throw new UnknownEventError(`unknown event ${envelope.event_name}@${envelope.version}${hint}`, {
      issues: [{ pointer: known.length > 0 ? "/version" : "/event_name", message: `not in the event registry${hint}` }],
    });
  }
  const problems: Issue[] = [];
  if (event.entry.kind !== envelope.kind) {
    problems.push({ pointer: "/kind", message: `must be "${event.entry.kind}" for ${event.entry.fqdn}@${event.entry.version}` });
  }
  for (const name of event.entry.required_headers) {
    const asField = (envelope as unknown as Record<string, unknown>)[name];
    if (asField === undefined && envelope.headers[name] === undefined) {
      problems.push({ pointer: `/headers/${name}`, message: "is required by the registry entry" });
    }
  }
  if (problems.length > 0) throw new EnvelopeInvalidError(`invalid envelope: ${summarize(problems)}`, { issues: problems });
  if (!event.validatePayload(envelope.payload)) {
    const issues = issuesFromAjv(event.validatePayload.errors, "/payload");
    throw new PayloadInvalidError(`invalid payload for ${envelope.event_name}@${envelope.version}: ${summarize(issues)}`, { issues });
  }
  return { envelope, event };
}

function summarize(issues: readonly Issue[]): string {
  const shown = issues.slice(0, 3).map((i) => `${i.pointer} ${i.message}`).join("; ");
  return issues.length > 3 ? `${shown}; and ${issues.length - 3} more` : shown;
}
