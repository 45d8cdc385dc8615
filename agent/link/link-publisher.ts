/**
 * Publishing across a failover: straight to the active link while it is up; otherwise into the
 * bounded PublishBuffer, which is drained in order onto the next link that comes up (the same one
 * reconnected in place, or the one the failover switched to). While the buffer holds anything,
 * new publishes queue behind it, so order is kept. Bad subjects and oversized envelopes are
 * refused at once, as the adapters would, even when the envelope would only be buffered.
 */
import type { Envelope } from "../../abi/envelope.js";
import { TransportClosedError, PayloadTooLargeError } from "../core/errors.js";
import type { Logger } from "../core/logger.js";
import type { MetricsRegistry } from "../core/metrics.js";
import { DEFAULT_MAX_MESSAGE_BYTES } from "../transport/ingress.js";
import { checkSubject } from "../transport/names.js";
import type { Link } from "./link.js";
import { PublishBuffer, type DropHook } from "./publish-buffer.js";

export interface PublisherOptions {
  readonly logger: Logger;
  readonly metrics: MetricsRegistry;
  /** Largest encoded envelope, as the adapters' maxMessageBytes (default 1 MiB). */
  readonly maxMessageBytes?: number;
  /** Bounds of the buffer used while no link is up (publish-buffer.ts has the defaults). */
  readonly buffer?: { readonly maxMessages?: number; readonly maxBytes?: number };
  /** Every buffered publish that will not be sent (overflow, refused, closed). */
  readonly onDrop?: DropHook;
  /** Throws TransportClosedError when the failover is not connected or closed. */
  readonly isOpen: () => void;
}

export class LinkPublisher {
  readonly #buffer: PublishBuffer;
  readonly #maxBytes: number;

  constructor(private readonly opts: PublisherOptions) {
    this.#maxBytes = opts.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
    this.#buffer = new PublishBuffer({
      logger: opts.logger,
      metrics: opts.metrics,
      ...(opts.buffer?.maxMessages === undefined ? {} : { maxMessages: opts.buffer.maxMessages }),
      ...(opts.buffer?.maxBytes === undefined ? {} : { maxBytes: opts.buffer.maxBytes }),
      ...(opts.onDrop === undefined ? {} : { onDrop: opts.onDrop }),
    });
  }

  /** Publishes waiting for a link. */
  get length(): number {
    return this.#buffer.length;
  }

  publish(active: Link | undefined, subject: string, envelope: Envelope): void {
    this.opts.isOpen();
    if (active?.up === true && this.#buffer.length === 0) {
      try {
        return active.transport.publish(subject, envelope);
      } catch (err) {
        // The adapter closed under us (its closed() handler has not run yet): buffer instead.
        if (!(err instanceof TransportClosedError)) throw err;
      }
    }
    checkSubject(subject);
    const bytes = Buffer.byteLength(JSON.stringify(envelope), "utf8");
    if (bytes > this.#maxBytes) {
      throw new PayloadTooLargeError(`${envelope.event_name} (${envelope.id}) is ${bytes} bytes encoded; the limit is ${this.#maxBytes}`);
    }
    this.#buffer.push({ subject, envelope, bytes });
  }

  /** Send what is buffered, oldest first, while `usable()`; stops (keeping the rest) if the link drops. */
  drain(link: Link, usable: () => boolean): void {
    let sent = 0;
    for (let item = this.#buffer.peek(); item !== undefined && usable(); item = this.#buffer.peek()) {
      try {
        link.transport.publish(item.subject, item.envelope);
        this.#buffer.shift();
        sent++;
      } catch (err) {
        if (err instanceof TransportClosedError) break;
        this.#buffer.drop(item, "refused", err as Error);
      }
    }
    if (sent > 0) this.opts.logger.info({ link: link.label, sent, left: this.#buffer.length }, "buffered publishes sent on the hub link");
  }

  /** The link is closing for good: whatever is buffered is reported as dropped. */
  dropAll(): void {
    this.#buffer.dropAll("closed");
  }
}
