/**
 * The bridge between the in-process bus and one transport. Outbound: bus envelopes that match a
 * route go out on the route's subject. Inbound: envelopes received on the route's patterns are
 * published on the bus. Loop prevention: an envelope the bridge put on the bus is never sent back
 * out, and an envelope that originated on this node is never taken back in.
 *
 * Store-and-forward plugs in at both ends: `send` replaces the direct publish (a member hands its
 * outbound envelopes to its outbox, whose relay publishes them), and `inbox` drops what was already
 * taken in — by a persisted id, across restarts — since every link redelivers at least once.
 *
 * Request/reply crosses too (bridge-requests.ts): a bus request a route sends off this node goes as
 * a transport request, never through `send` (a reply is only wanted now), and its reply returns to
 * the requester's inbox; a command received with a reply address is asked on this bus and the
 * reply sent back. A command taken in is addressed to this node (`headers.target` = self: the
 * subject it came on is its address), so no bridge here sends it on to another node.
 */
import type { Envelope } from "../../abi/envelope.js";
import { HEADER } from "../../abi/envelope.js";
import { DEFAULT_REQUEST_TIMEOUT_MS, type Bus, type Subscription } from "../bus/bus.js";
import { DedupWindow } from "../bus/dedup.js";
import { matches, patternTokens, subjectTokens } from "../bus/subject.js";
import { systemClock, type Clock } from "../core/clock.js";
import type { Component } from "../core/component.js";
import type { Logger } from "../core/logger.js";
import type { Counter, MetricsRegistry } from "../core/metrics.js";
import type { Message, Transport, TransportSubscription } from "../transport/transport.js";
import { inboxKey, type Inbox } from "../outbox/inbox.js";
import type { EventCatalog } from "../registry/catalog.js";
import { AnswerCache } from "./answer-cache.js";
import { isBusRequest, RequestRelay } from "./bridge-requests.js";
import { originNode, type BridgeRoutes, type OutboundRule } from "./routes.js";

/** Ids of envelopes recently taken in from the wire; sized well above a burst between two ticks. */
const FROM_WIRE_WINDOW = 50_000;

export interface BridgeOptions {
  readonly bus: Bus;
  readonly transport: Transport;
  readonly nodeId: string;
  readonly routes: BridgeRoutes;
  readonly logger: Logger;
  readonly metrics: MetricsRegistry;
  /** Where outbound envelopes go; default: publish on the transport at once. A rejection is logged and counted. */
  readonly send?: (subject: string, envelope: Envelope) => void | Promise<unknown>;
  /** Persisted dedup of what was taken in; default: the bus's in-memory window only. */
  readonly inbox?: Inbox;
  /** How long a request across the bridge waits for its reply when the envelope has no ttl; default: the bus's default. */
  readonly requestTimeoutMs?: number;
  /** The event registry, to answer a failed request with an error reply (error-reply.ts); without it such a request is not answered. */
  readonly catalog?: EventCatalog;
  /** Answers to the other node's requests by id; share one between bridges that hear the same node (a hub's). */
  readonly answers?: AnswerCache;
  readonly clock?: Clock;
}

interface CompiledRule extends OutboundRule {
  readonly tokens: readonly string[];
}

export class Bridge implements Component {
  readonly name: string;
  readonly #fromWire = new DedupWindow(FROM_WIRE_WINDOW);
  readonly #rules: readonly CompiledRule[];
  readonly #out: Counter;
  readonly #in: Counter;
  readonly #dropped: Counter;
  readonly #requests: RequestRelay;
  #busSub: Subscription | undefined;
  #wireSubs: TransportSubscription[] = [];

  constructor(private readonly opts: BridgeOptions) {
    this.name = `bridge:${opts.transport.name}`;
    this.#rules = opts.routes.outbound.map((r) => ({ ...r, tokens: patternTokens(r.events) }));
    this.#out = opts.metrics.counter("adaos_bridge_out_total", "Envelopes the bridge sent from the bus to a transport.");
    this.#in = opts.metrics.counter("adaos_bridge_in_total", "Envelopes the bridge took from a transport onto the bus.");
    this.#dropped = opts.metrics.counter("adaos_bridge_dropped_total", "Envelopes the bridge did not forward, by reason.");
    this.#requests = new RequestRelay({
      bus: opts.bus,
      transport: opts.transport,
      nodeId: opts.nodeId,
      logger: opts.logger,
      metrics: opts.metrics,
      clock: opts.clock ?? systemClock,
      timeoutMs: opts.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS,
      catalog: opts.catalog,
      fromWire: (id) => this.#fromWire.seen(id),
      answers: opts.answers ?? new AnswerCache(opts.clock ?? systemClock),
    });
  }

  async start(): Promise<void> {
    await this.startInbound();
    this.startOutbound();
  }

  /** Take the bus's outbound envelopes from now on (with an outbox as `send`, before any link is up). */
  startOutbound(): void {
    this.#busSub ??= this.opts.bus.subscribe(">", (e) => this.#outbound(e));
  }

  /** Subscribe the inbound patterns on the transport; resolves once the broker has them. */
  async startInbound(): Promise<void> {
    for (const pattern of this.opts.routes.inbound) {
      this.#wireSubs.push(await this.opts.transport.subscribe(pattern, (m) => this.#received(m)));
    }
  }

  async stop(): Promise<void> {
    this.#busSub?.unsubscribe();
    for (const s of this.#wireSubs) s.unsubscribe();
    this.#wireSubs = [];
    await this.opts.transport.flush().catch(() => undefined);
  }

  #outbound(envelope: Envelope): void {
    if (this.#fromWire.has(envelope.id)) return; // it came from the wire: never echo it back
    const tokens = subjectTokens(envelope.event_name);
    const rule = this.#rules.find((r) => r.kinds.includes(envelope.kind) && matches(r.tokens, tokens));
    const subject = rule?.subject(envelope);
    if (subject === undefined) return;
    if (isBusRequest(envelope)) {
      this.#requests.forward(subject, envelope);
      this.#out.inc();
      return;
    }
    const failed = (err: unknown): void => {
      this.#dropped.inc({ reason: "publish_failed" });
      this.opts.logger.warn({ err, id: envelope.id, event: envelope.event_name, subject }, "bridge could not send an envelope");
    };
    try {
      const sent = this.opts.send === undefined ? this.opts.transport.publish(subject, envelope) : this.opts.send(subject, envelope);
      this.#out.inc();
      if (sent instanceof Promise) sent.catch(failed);
    } catch (err) {
      failed(err);
    }
  }

  #received(message: Message): void {
    const { envelope } = message;
    if (originNode(envelope.source) === this.opts.nodeId) {
      this.#dropped.inc({ reason: "own_origin" });
      return;
    }
    if (envelope.kind !== "command") return this.#inbound(envelope);
    const addressed = { ...envelope, headers: { ...envelope.headers, [HEADER.target]: this.opts.nodeId } };
    if (message.replyTo === undefined) return this.#inbound(addressed);
    this.#in.inc();
    this.#requests.answer(message, addressed);
  }

  #inbound(envelope: Envelope): void {
    this.#fromWire.seen(envelope.id);
    const { inbox } = this.opts;
    const key = inboxKey(envelope);
    if (inbox?.has(key) === true) {
      this.#dropped.inc({ reason: "duplicate" });
      return;
    }
    try {
      const result = this.opts.bus.publish(envelope);
      if (result.duplicate) this.#dropped.inc({ reason: "duplicate" });
      else this.#in.inc();
      inbox?.record(key).catch((err: unknown) => this.opts.logger.error({ err, id: envelope.id }, "bridge: cannot record a received envelope in the inbox"));
    } catch (err) {
      this.#dropped.inc({ reason: "refused" });
      this.opts.logger.warn({ err, id: envelope.id, event: envelope.event_name }, "bridge: the bus refused a received envelope");
    }
  }
}
