/**
 * What every adapter does with bytes: encode an envelope (with the size limit), and on receive
 * check the size, decode JSON, validate with checkEnvelope(), and run handlers contained. Bad
 * input goes to the onInvalid hook and the adaos_transport_invalid_total counter, never to a
 * handler, and nothing here throws into a socket callback.
 */
import type { Envelope } from "../../abi/envelope.js";
import {
  AdaosError, EnvelopeInvalidError, PayloadInvalidError, PayloadTooLargeError, SubjectInvalidError, UnknownEventError,
} from "../core/errors.js";
import type { Logger } from "../core/logger.js";
import type { Counter, MetricsRegistry } from "../core/metrics.js";
import type { EventCatalog } from "../registry/catalog.js";
import { checkEnvelope } from "../registry/check.js";
import type { Message, MessageHandler, TransportName } from "./transport.js";

/** 1 MiB: the default max_payload of nats-server, and the default for both transports. */
export const DEFAULT_MAX_MESSAGE_BYTES = 1024 * 1024;
/** A flood of bad input is logged once per reason per interval (with how many were suppressed). */
const INVALID_LOG_INTERVAL_MS = 10_000;

export type InvalidReason = "too_large" | "malformed_json" | "invalid_envelope" | "unknown_event" | "invalid_payload" | "bad_subject";

/** Called for every received message that is not handed to handlers (the DLQ hooks in here). */
export type InvalidHook = (raw: Uint8Array, reason: InvalidReason, error: AdaosError, subject: string) => void;

export interface TransportOptions {
  readonly catalog: EventCatalog;
  readonly logger: Logger;
  readonly metrics: MetricsRegistry;
  /** Largest encoded envelope sent or accepted, in bytes (default 1 MiB). */
  readonly maxMessageBytes?: number;
  readonly onInvalid?: InvalidHook;
}

function reasonOf(err: AdaosError): InvalidReason {
  if (err instanceof PayloadTooLargeError) return "too_large";
  if (err instanceof UnknownEventError) return "unknown_event";
  if (err instanceof PayloadInvalidError) return "invalid_payload";
  if (err instanceof SubjectInvalidError) return "bad_subject";
  return "invalid_envelope";
}

export class Ingress {
  readonly maxBytes: number;
  readonly #invalid: Counter;
  readonly #handlerErrors: Counter;
  readonly #lastLog = new Map<InvalidReason, { at: number; suppressed: number }>();

  constructor(private readonly transport: TransportName, private readonly opts: TransportOptions) {
    this.maxBytes = opts.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
    this.#invalid = opts.metrics.counter("adaos_transport_invalid_total", "Received messages refused before any handler, by transport and reason.");
    this.#handlerErrors = opts.metrics.counter("adaos_transport_handler_errors_total", "Transport subscription handlers that threw or rejected.");
  }

  /** JSON bytes of an envelope; throws PayloadTooLargeError above the limit. */
  encode(envelope: Envelope): Buffer {
    const bytes = Buffer.from(JSON.stringify(envelope), "utf8");
    if (bytes.length > this.maxBytes) {
      throw new PayloadTooLargeError(`${envelope.event_name} (${envelope.id}) is ${bytes.length} bytes encoded; the limit is ${this.maxBytes}`);
    }
    return bytes;
  }

  /** The validated envelope, or undefined after counting and reporting why not. */
  decode(raw: Uint8Array, subject: string): Envelope | undefined {
    const result = this.#validate(raw, subject);
    if (!("refused" in result)) return result;
    this.refuse(raw, result.refused, result.error, subject);
    return undefined;
  }

  /** Like decode(), but throws the (counted and reported) error: for request replies. */
  check(raw: Uint8Array, subject: string): Envelope {
    const result = this.#validate(raw, subject);
    if (!("refused" in result)) return result;
    this.refuse(raw, result.refused, result.error, subject);
    throw result.error;
  }

  /** Count, log (rate-limited) and hand to onInvalid a message that no handler will see. */
  refuse(raw: Uint8Array, reason: InvalidReason, error: AdaosError, subject: string): void {
    this.#invalid.inc({ transport: this.transport, reason });
    this.#log(reason, error, subject, raw.length);
    if (this.opts.onInvalid === undefined) return;
    try {
      this.opts.onInvalid(raw, reason, error, subject);
    } catch (hookErr) {
      this.opts.logger.error({ err: hookErr }, "transport onInvalid hook failed");
    }
  }

  #validate(raw: Uint8Array, subject: string): Envelope | { refused: InvalidReason; error: AdaosError } {
    if (raw.length > this.maxBytes) {
      return { refused: "too_large", error: new PayloadTooLargeError(`message on ${subject} is ${raw.length} bytes; the limit is ${this.maxBytes}`) };
    }
    let data: unknown;
    try {
      data = JSON.parse(Buffer.from(raw.buffer, raw.byteOffset, raw.length).toString("utf8"));
    } catch (err) {
      return { refused: "malformed_json", error: new EnvelopeInvalidError(`message on ${subject} is not JSON: ${(err as Error).message}`, { cause: err }) };
    }
    try {
      return Object.freeze(checkEnvelope(this.opts.catalog, data).envelope);
    } catch (err) {
      const error = err instanceof AdaosError ? err : new EnvelopeInvalidError(String(err), { cause: err });
      return { refused: reasonOf(error), error };
    }
  }

  /** Run a handler; a throw or a rejection is logged and counted, never propagated. */
  deliver(handler: MessageHandler, message: Message, pattern: string): void {
    try {
      const done = handler(message);
      if (done !== undefined) done.catch((err: unknown) => this.#handlerFailed(err, message, pattern));
    } catch (err) {
      this.#handlerFailed(err, message, pattern);
    }
  }

  #handlerFailed(err: unknown, message: Message, pattern: string): void {
    this.#handlerErrors.inc({ transport: this.transport });
    this.opts.logger.error({ err, subject: message.subject, id: message.envelope.id, pattern }, "transport handler failed; message skipped for it");
  }

  #log(reason: InvalidReason, error: AdaosError, subject: string, bytes: number): void {
    const now = Date.now();
    const last = this.#lastLog.get(reason);
    if (last !== undefined && now - last.at < INVALID_LOG_INTERVAL_MS) {
      last.suppressed++;
      return;
    }
    const suppressed = last?.suppressed ?? 0;
    this.#lastLog.set(reason, { at: now, suppressed: 0 });
    this.opts.logger.warn({ transport: this.transport, reason, subject, bytes, code: error.code, err: error.message, suppressed }, "refused a received message");
  }
}
