/**
 * Request/reply for the MQTT adapter: each request gets a reply subject under this connection's
 * inbox (`_INBOX.<clientId>.<n>`, subscribed once as `_INBOX/<clientId>/#`), carried in the
 * envelope's headers.reply_to. The first reply settles the request; later ones are dropped.
 */
import type { Envelope } from "../../abi/envelope.js";
import { TimeoutError } from "../core/errors.js";
import type { Ingress } from "./ingress.js";
import type { Message } from "./transport.js";

interface Pending {
  readonly resolve: (message: Message) => void;
  readonly reject: (err: Error) => void;
  readonly timer: NodeJS.Timeout;
}

export class MqttRequests {
  readonly #pending = new Map<string, Pending>();
  readonly #dotted: string;
  #seq = 0;

  /** `prefix` is the inbox subject without the trailing `.<n>`. */
  constructor(readonly prefix: string, private readonly ingress: Ingress) {
    this.#dotted = `${prefix}.`;
  }

  /** Whether a received subject is one of our reply subjects. */
  owns(subject: string): boolean {
    return subject.startsWith(this.#dotted);
  }

  /** Register a reply subject, let `publish` send the request with it, wait for the reply. */
  send(subject: string, envelope: Envelope, timeoutMs: number, publish: (inbox: string) => void): Promise<Message> {
    const inbox = `${this.#dotted}${++this.#seq}`;
    return new Promise<Message>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(inbox);
        reject(new TimeoutError(
          `no reply to ${envelope.event_name} (${envelope.id}) on ${subject} within ${timeoutMs} ms (MQTT cannot tell whether anything subscribes)`,
        ));
      }, timeoutMs);
      this.#pending.set(inbox, { resolve, reject, timer });
      try {
        publish(inbox);
      } catch (err) {
        this.#settle(inbox)?.reject(err as Error);
      }
    });
  }

  /** A message on our inbox: validated like any received message; an invalid reply rejects the request. */
  onReply(subject: string, payload: Uint8Array): void {
    const pending = this.#settle(subject);
    if (pending === undefined) return; // a late or duplicate reply: the request already ended
    try {
      pending.resolve({ subject, envelope: this.ingress.check(payload, subject), replyTo: undefined });
    } catch (err) {
      pending.reject(err as Error);
    }
  }

  failAll(err: Error): void {
    for (const inbox of [...this.#pending.keys()]) this.#settle(inbox)?.reject(err);
  }

  #settle(inbox: string): Pending | undefined {
    const pending = this.#pending.get(inbox);
    if (pending === undefined) return undefined;
    this.#pending.delete(inbox);
    clearTimeout(pending.timer);
    return pending;
  }
}
