/**
 * The reply a bridge sends when it cannot get a real one for a request from the other node (no
 * handler answered in time, the bus refused the request, it was a duplicate). There is no generic
 * error event in the registry, so the error travels in the command's own registered reply event,
 * with `headers.error_code`, and only when that event's schema accepts a payload the bridge can
 * make without knowing the command: first the registry's result convention `{ok: false, error:
 * {code, message}}`, then `{}`. When neither is valid (e.g. scenario.run.result needs the
 * scenario id) there is no error reply and the requester times out.
 */
import type { Envelope } from "../../abi/envelope.js";
import { HEADER } from "../../abi/envelope.js";
import type { Clock } from "../core/clock.js";
import { deriveEnvelope } from "../core/envelope.js";
import type { EventCatalog } from "../registry/catalog.js";
import { checkEnvelope } from "../registry/check.js";
import { parseEventRef } from "../registry/conventions.js";

/** The error schemas' limit on `error.message` (e.g. abi/events/scenario/run.result/v1). */
const MAX_MESSAGE = 2000;
const INTERNAL = "E_INTERNAL";

/** The stable code of an AdaosError, else E_INTERNAL. */
export function errorCode(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === "string" && /^E_[A-Z0-9_]+$/.test(code) ? code : INTERNAL;
}

/** A valid reply envelope carrying `err`, or undefined when the command's reply event cannot carry it. */
export function errorReply(catalog: EventCatalog, request: Envelope, err: unknown, source: string, clock: Clock): Envelope | undefined {
  const ref = catalog.get(request.event_name, request.version)?.entry.reply;
  const reply = ref === undefined ? undefined : parseEventRef(ref);
  if (reply === undefined) return undefined;
  const code = errorCode(err);
  const message = (err instanceof Error ? err.message : String(err)).slice(0, MAX_MESSAGE) || code;
  for (const payload of [{ ok: false, error: { code, message } }, {}]) {
    const envelope = deriveEnvelope(request, {
      event_name: reply.fqdn, version: reply.version, kind: "reply", source, payload, headers: { [HEADER.errorCode]: code },
    }, clock);
    try {
      return checkEnvelope(catalog, structuredClone(envelope)).envelope;
    } catch {
      // not valid for this reply event: try the next, smaller payload
    }
  }
  return undefined;
}
