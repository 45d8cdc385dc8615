/**
 * Request/reply across a bridge, both ways over one transport.
 *
 * Out (`forward`): a bus request (a command with `headers.reply_to`, the bus's inbox) that a route
 * sends off this node goes as `transport.request(subject)` — without the bus's reply_to, which
 * means nothing on the other node — and the reply is published on this bus to that inbox, so the
 * caller's `bus.request` resolves. A failed transport request (timeout, no responders, link
 * closed) is logged at debug and counted; the caller's own bus request then times out.
 *
 * In (`answer`): a request from the wire is asked on this bus with `bus.request` (the bus sets its
 * own inbox) and the bus's reply is sent back unchanged with `transport.reply` (its id, and its
 * causation_id = the request's id). When there is no reply (timeout — the bridges' own catch-all
 * subscriptions mean the bus never reports "no responders" — or the bus refused the request) the
 * requester gets an error reply if the command's reply event can carry one (error-reply.ts), else
 * nothing and it times out.
 *
 * Both ways wait at most the envelope's remaining ttl when it has one, else `timeoutMs`.
 */
import type { Envelope } from "../../abi/envelope.js";
import { HEADER } from "../../abi/envelope.js";
import type { Bus } from "../bus/bus.js";
import type { Clock } from "../core/clock.js";
import { expiresAt } from "../core/envelope.js";
import type { Logger } from "../core/logger.js";
import type { Counter, MetricsRegistry } from "../core/metrics.js";
import type { EventCatalog } from "../registry/catalog.js";
import type { Message, Transport } from "../transport/transport.js";
import { errorCode, errorReply } from "./error-reply.js";
import type { AnswerCache } from "./answer-cache.js";

export interface RequestRelayOptions {
  readonly bus: Bus;
  readonly transport: Transport;
  readonly nodeId: string;
  readonly logger: Logger;
  readonly metrics: MetricsRegistry;
  readonly clock: Clock;
  /** Wait for a reply when the envelope has no ttl. */
  readonly timeoutMs: number;
  /** To build error replies; without it a failed request from the wire is not answered. */
  readonly catalog: EventCatalog | undefined;
  /** Marks an envelope id as taken from the wire, so the bridge never sends it back out. */
  readonly fromWire: (id: string) => void;
  /** Answers by request id, shared by a hub's bridges. */
  readonly answers: AnswerCache;
}

/** A bus request: a command the bus published with its reply inbox. */
export function isBusRequest(envelope: Envelope): boolean {
  return envelope.kind === "command" && envelope.headers[HEADER.replyTo] !== undefined;
}

/** The envelope without its reply_to header: the other side's reply address is not ours to pass on. */
function withoutReplyTo(envelope: Envelope): Envelope {
  const { [HEADER.replyTo]: _replyTo, ...headers } = envelope.headers;
  return { ...envelope, headers };
}

export class RequestRelay {
  readonly #requests: Counter;
  readonly #source: string;

  constructor(private readonly opts: RequestRelayOptions) {
    this.#requests = opts.metrics.counter(
      "adaos_bridge_requests_total",
      "Requests the bridge carried: direction out (asked over the transport) or in (answered from the bus), by outcome.",
    );
    this.#source = `bridge@${opts.nodeId}`;
  }

  /** Send a bus request on `subject`; its reply goes to the requester's inbox on this bus. */
  forward(subject: string, request: Envelope): void {
    const inbox = request.headers[HEADER.replyTo];
    if (inbox === undefined) return;
    const { transport, bus, logger } = this.opts;
    const done = (outcome: string, err?: unknown): void => {
      this.#requests.inc({ direction: "out", outcome });
      if (err !== undefined) logger.debug({ err, id: request.id, event: request.event_name, subject }, "bridge: a request to the other node got no reply");
    };
    let asked: Promise<Message>;
    try {
      asked = transport.request(subject, withoutReplyTo(request), { timeoutMs: this.#timeout(request) });
    } catch (err) {
      done(errorCode(err), err);
      return;
    }
    asked.then(
      (reply) => {
        this.opts.fromWire(reply.envelope.id);
        try {
          bus.publish(reply.envelope, { subject: inbox });
          done("ok");
        } catch (err) {
          done("refused", err);
        }
      },
      (err: unknown) => done(errorCode(err), err),
    );
  }

  /** Ask this bus `request` (the envelope `message` carries, addressed to this node) and answer over the transport. */
  answer(message: Message, request: Envelope): void {
    const { bus, logger, catalog, clock } = this.opts;
    this.opts.fromWire(request.id);
    // bus.request() replaces reply_to with this bus's own inbox. A request sent again after a link
    // switch gets the first asking's answer (answer-cache.ts).
    const { answer, repeat } = this.opts.answers.get(request.id, () => bus.request(request, { timeoutMs: this.#timeout(request) }));
    if (repeat) this.#requests.inc({ direction: "in", outcome: "repeat" });
    answer
      .then(
        (reply) => this.#reply(message, reply, "ok"),
        (err: unknown) => {
          logger.debug({ err, id: request.id, event: request.event_name }, "bridge: no reply on this node to a request from the other node");
          const reply = catalog === undefined ? undefined : errorReply(catalog, request, err, this.#source, clock);
          if (reply === undefined) this.#requests.inc({ direction: "in", outcome: "unanswered" });
          else this.#reply(message, reply, "error");
        },
      )
      .catch((err: unknown) => logger.error({ err, id: request.id }, "bridge: answering a request failed"));
  }

  #reply(message: Message, reply: Envelope, outcome: string): void {
    try {
      this.opts.transport.reply(message, reply);
      this.#requests.inc({ direction: "in", outcome });
    } catch (err) {
      this.#requests.inc({ direction: "in", outcome: "reply_failed" });
      this.opts.logger.debug({ err, id: message.envelope.id }, "bridge: could not send a reply to the other node");
    }
  }

  #timeout(envelope: Envelope): number {
    const at = expiresAt(envelope);
    return at === undefined ? this.opts.timeoutMs : Math.max(1, at - this.opts.clock.now());
  }
}
