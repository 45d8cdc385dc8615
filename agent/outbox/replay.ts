/**
 * Replay of one dead letter: its bytes go back through validation (envelope v1 + the event
 * registry + expiry, as the bus checks them), then where they were going — origin "outbox"
 * re-enqueues the envelope for its subject, origin "inbound" publishes it on the bus.
 *
 * This never touches the DLQ: on `ok` the caller removes the entry, otherwise it stays and the
 * result says why (the catalog code, and a message carrying the validator's JSON pointers).
 *
 * Decisions:
 * - Validation runs here before the bus sees the envelope, so a replay that fails does not go
 *   through the bus's reject path (which may itself file a dead letter: a failed replay must not
 *   add a second copy of the entry).
 * - An expired envelope fails with E_ENVELOPE_EXPIRED. That is correct: its ttl_ms says it must
 *   never run late, and replay does not change that; purge it instead.
 * - Inbound, and the bus reports a duplicate (its in-memory dedup window still remembers the id,
 *   i.e. it was delivered once in this process's life): nothing was delivered, so the replay
 *   failed — E_ENVELOPE_INVALID, as the bus itself reports a duplicate request — and the entry
 *   stays; it can be replayed after a restart (the window is memory only) or purged.
 * - Outbox, and the id is already waiting there: it will be sent, so that counts as replayed
 *   (`duplicate: true`) and the entry may leave the DLQ.
 */
import type { Envelope } from "../../abi/envelope.js";
import type { Bus } from "../bus/bus.js";
import type { Clock } from "../core/clock.js";
import { isExpired } from "../core/envelope.js";
import { BadRequestError, EnvelopeExpiredError, EnvelopeInvalidError, NotFoundError, asAdaosError, type Issue } from "../core/errors.js";
import type { EventCatalog } from "../registry/catalog.js";
import { checkEnvelope } from "../registry/check.js";
import type { DeadLetter } from "./dead-letters.js";
import type { Outbox } from "./outbox.js";

export interface ReplayDeps {
  readonly bus: Bus;
  /** What validates the envelope (the bus's own catalog). */
  readonly catalog: EventCatalog;
  /** For the expiry check. */
  readonly clock: Clock;
  /** Where origin "outbox" entries go back to; without it they cannot be replayed. */
  readonly outbox?: Outbox | undefined;
}

export type ReplayResult =
  | { readonly ok: true; readonly duplicate: boolean }
  | { readonly ok: false; readonly code: string; readonly message: string; readonly issues?: readonly Issue[] };

export async function replayDeadLetter(entry: DeadLetter, deps: ReplayDeps): Promise<ReplayResult> {
  try {
    const envelope = validate(entry, deps);
    if (entry.origin === "outbox") {
      if (deps.outbox === undefined) throw new NotFoundError(`dead letter ${entry.dlqId} came from an outbox, and this agent has no outbox to put it back into`);
      if (entry.subject === null) throw new BadRequestError(`dead letter ${entry.dlqId} came from the outbox but has no subject to send it to`);
      const { duplicate } = await deps.outbox.enqueue(entry.subject, envelope);
      return { ok: true, duplicate };
    }
    const result = deps.bus.publish(envelope);
    if (result.duplicate) {
      throw new EnvelopeInvalidError(
        `envelope ${envelope.id} is a duplicate: the bus delivered this id recently and still remembers it, so nothing was delivered; it stays in the DLQ (replay it after a restart, or purge it)`,
      );
    }
    return { ok: true, duplicate: false };
  } catch (err) {
    const e = asAdaosError(err);
    return e.issues.length > 0 ? { ok: false, code: e.code, message: e.message, issues: e.issues } : { ok: false, code: e.code, message: e.message };
  }
}

/** The stored bytes as a valid, unexpired envelope, or the error checkEnvelope/expiry throws. */
function validate(entry: DeadLetter, deps: ReplayDeps): Envelope {
  let data: unknown;
  try {
    data = JSON.parse(Buffer.from(entry.data).toString("utf8"));
  } catch (err) {
    throw new EnvelopeInvalidError(`dead letter ${entry.dlqId} is not JSON: ${(err as Error).message}`, {
      cause: err,
      issues: [{ pointer: "/", message: "is not valid JSON" }],
    });
  }
  // checkEnvelope fills defaults into what it is given: `data` is our own fresh copy.
  const { envelope } = checkEnvelope(deps.catalog, data);
  if (isExpired(envelope, deps.clock.now())) {
    throw new EnvelopeExpiredError(`envelope ${envelope.id} (${envelope.event_name}) has expired (ts ${envelope.ts}, ttl_ms ${envelope.ttl_ms ?? "-"}); it is never replayed — purge it`);
  }
  return envelope;
}
