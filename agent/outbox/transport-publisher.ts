/**
 * A member's relay sink: outbox entries go to its hub over the member's link (a Transport, in
 * practice the NATS/MQTT failover). An entry counts as sent once `flush()` says the broker has it;
 * the hub drops repeats by envelope id, so resending after an unclear failure is safe.
 *
 * While the link is not up nothing is published (a failover link would only buffer it in memory,
 * bounded, where the outbox already keeps it durably): every entry is `retry`. A flush that does
 * not resolve within FLUSH_TIMEOUT_MS (the link dropped under it) is `retry` for all. An entry the
 * transport refuses as such (too large, bad subject, stored bytes that are not JSON) is `poison`.
 *
 * Link state is read from `transport.status()` in the background, from the first send or probe
 * until the transport closes (the constructor only assigns fields).
 */
import type { Envelope } from "../../abi/envelope.js";
import { systemClock, type Clock } from "../core/clock.js";
import { PayloadTooLargeError, SubjectInvalidError } from "../core/errors.js";
import type { LinkStatus, Transport } from "../transport/transport.js";
import type { OutgoingMessage, Publisher, SendOutcome } from "./publisher.js";

/** A flush on a live LAN link takes milliseconds; 5 s means the link went away under it. */
export const FLUSH_TIMEOUT_MS = 5000;

export interface TransportPublisherOptions {
  readonly name?: string;
  readonly flushTimeoutMs?: number;
  readonly clock?: Clock;
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

export class TransportPublisher implements Publisher {
  readonly name: string;
  #status: LinkStatus | undefined;
  #watching: Promise<void> | undefined;
  #firstStatus: Promise<void> | undefined;

  constructor(private readonly transport: Transport, private readonly opts: TransportPublisherOptions = {}) {
    this.name = opts.name ?? `${transport.name}-link`;
  }

  async send(batch: readonly OutgoingMessage[], signal: AbortSignal): Promise<SendOutcome[]> {
    if (!(await this.reachable(signal))) {
      const why = `the link to the hub is ${this.#status?.type ?? "not connected"}`;
      return batch.map((m) => ({ type: "retry", id: m.id, error: why }));
    }
    const outcomes = new Map<string, SendOutcome>();
    const published: string[] = [];
    for (const m of batch) {
      try {
        const envelope = JSON.parse(Buffer.from(m.data).toString("utf8")) as Envelope;
        this.transport.publish(m.subject, envelope);
        published.push(m.id);
      } catch (err) {
        const never = err instanceof PayloadTooLargeError || err instanceof SubjectInvalidError || err instanceof SyntaxError;
        outcomes.set(m.id, never ? { type: "poison", id: m.id, error: message(err) } : { type: "retry", id: m.id, error: message(err) });
      }
    }
    const flushed = published.length === 0 ? undefined : await this.#flush(signal);
    for (const id of published) outcomes.set(id, flushed === undefined ? { type: "sent", id } : { type: "retry", id, error: flushed });
    return batch.map((m) => outcomes.get(m.id) ?? { type: "retry", id: m.id, error: "not sent" });
  }

  /** The link's latest status is `up`. */
  async reachable(_signal: AbortSignal): Promise<boolean> {
    this.#watch();
    await this.#firstStatus;
    return this.#status?.type === "up";
  }

  /** undefined when the flush resolved; else why it did not. */
  #flush(signal: AbortSignal): Promise<string | undefined> {
    const ms = this.opts.flushTimeoutMs ?? FLUSH_TIMEOUT_MS;
    return new Promise((resolve) => {
      const done = (why: string | undefined): void => {
        timer.cancel();
        signal.removeEventListener("abort", onAbort);
        resolve(why);
      };
      const onAbort = (): void => done("aborted before the broker confirmed");
      const timer = (this.opts.clock ?? systemClock).setTimer(() => done(`the broker did not confirm within ${ms} ms`), ms);
      signal.addEventListener("abort", onAbort, { once: true });
      if (signal.aborted) return onAbort();
      this.transport.flush().then(() => done(undefined), (err: unknown) => done(`flush failed: ${message(err)}`));
    });
  }

  #watch(): void {
    if (this.#watching !== undefined) return;
    let first: () => void = () => undefined;
    this.#firstStatus = new Promise((resolve) => (first = resolve));
    this.#watching = (async () => {
      try {
        for await (const s of this.transport.status()) {
          this.#status = s;
          first();
        }
      } catch (err) {
        this.#status = { type: "closed", error: err instanceof Error ? err : new Error(String(err)) };
      }
      first();
    })();
  }
}
