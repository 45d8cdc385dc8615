/**
 * The MQTT adapter over the `mqtt` client (mqtt.js 5, protocol 3.1.1: aedes 1.x speaks no MQTT 5).
 * Subjects map to topics with abi/subjects.ts; every received message is re-matched with NATS
 * rules (MQTT's `a/#` also matches `a`). QoS 1 by default; TCP_NODELAY on the socket (without it a
 * QoS 1 round trip takes ~88 ms: Nagle × delayed ACK). Requests carry their reply subject in the
 * envelope's `headers.reply_to`, answered on this connection's inbox `_INBOX.<clientId>.<n>`.
 * Queue groups are elected above the broker (mqtt-groups.ts). The broker cannot say that nothing
 * subscribes, so a request without responders ends in TimeoutError.
 */
import { randomBytes } from "node:crypto";
import { connect, type MqttClient } from "mqtt";
import { HEADER, type Envelope } from "../../abi/envelope.js";
import { TransportClosedError, EnvelopeInvalidError, InternalError, type SubjectInvalidError } from "../core/errors.js";
import { matches } from "../bus/subject.js";
import { abortable, settledWithin } from "./abort.js";
import { Ingress, type TransportOptions } from "./ingress.js";
import { GroupElection, PRESENCE_PREFIX, presenceTopic } from "./mqtt-groups.js";
import { MqttFilters } from "./mqtt-filters.js";
import { MqttRequests } from "./mqtt-requests.js";
import { checkPattern, checkQueue, filterOf, subjectOf, topicOf } from "./names.js";
import { StatusFeed } from "./status-feed.js";
import type {
  LinkStatus, Message, MessageHandler, RequestOptions, SubscribeOptions, Transport, TransportCapabilities, TransportSubscription,
} from "./transport.js";

/** A member should notice a restarted hub within about a second. */
const RECONNECT_WAIT_MS = 1000;
/** One dial (TCP + CONNECT/CONNACK) on a LAN takes milliseconds; 2 s means the host is not there. */
const CONNECT_TIMEOUT_MS = 2000;
/** The broker drops a silent client after 1.5 × keepalive (15 s) and fires its will [MQTT-3.1.2-24]. */
const KEEPALIVE_S = 10;
/** close() waits this long for in-flight QoS 1 publishes and the group record before closing hard. */
const CLOSE_TIMEOUT_MS = 2000;

export interface MqttTransportOptions extends TransportOptions {
  /** mqtt://host:port */
  readonly url: string;
  readonly qos?: 0 | 1;
  /** Defaults to adaos-<random>; it must be one subject token (it names the inbox). */
  readonly clientId?: string;
  readonly reconnectWaitMs?: number;
}

interface LocalSub {
  readonly pattern: string;
  readonly tokens: readonly string[];
  readonly queue: string | undefined;
  readonly filter: string;
  readonly handler: MessageHandler;
  open: boolean;
}

export class MqttTransport implements Transport {
  readonly name = "mqtt";
  readonly capabilities: TransportCapabilities = { nativeQueueGroups: false, noResponders: false, replyAddress: "header" };
  readonly #id: string;
  readonly #qos: 0 | 1;
  readonly #ingress: Ingress;
  readonly #feed = new StatusFeed();
  readonly #groups: GroupElection;
  readonly #requests: MqttRequests;
  readonly #subs = new Set<LocalSub>();
  readonly #filters: MqttFilters;
  readonly #rr = new Map<string, number>();
  readonly #closed: Promise<Error | undefined>;
  #resolveClosed: (err: Error | undefined) => void = () => undefined;
  #client: MqttClient | undefined;
  #closing = false;
  #attempt = 0;
  #lastError: string | undefined;
  #sent = 0;
  #done = 0;
  #flushWaiters: { target: number; resolve: () => void }[] = [];

  constructor(private readonly opts: MqttTransportOptions) {
    this.#id = opts.clientId ?? `adaos-${randomBytes(8).toString("hex")}`;
    this.#qos = opts.qos ?? 1;
    this.#ingress = new Ingress("mqtt", opts);
    this.#requests = new MqttRequests(`_INBOX.${this.#id}`, this.#ingress);
    this.#filters = new MqttFilters({ client: () => this.#conn(), qos: this.#qos, logger: opts.logger });
    this.#groups = new GroupElection(this.#id, {
      // Not #conn(): close() erases the record after it has refused new work.
      publishRetained: async (topic, payload) => void (await this.#client?.publishAsync(topic, payload, { qos: 1, retain: true })),
      subscribe: (filter) => this.#filters.acquire(filter),
    }, opts.logger);
    this.#closed = new Promise((resolve) => (this.#resolveClosed = resolve));
  }

  async connect(signal: AbortSignal): Promise<void> {
    if (this.#client !== undefined || this.#closing) throw new InternalError("MqttTransport.connect() may be called once");
    signal.throwIfAborted();
    const client = connect(this.opts.url, {
      clientId: this.#id,
      protocolVersion: 4,
      clean: true,
      resubscribe: true,
      reconnectPeriod: this.opts.reconnectWaitMs ?? RECONNECT_WAIT_MS,
      connectTimeout: CONNECT_TIMEOUT_MS,
      keepalive: KEEPALIVE_S,
      will: { topic: presenceTopic(this.#id), payload: Buffer.alloc(0), qos: 1, retain: true },
    });
    this.#client = client;
    const up = new Promise<void>((resolve) => client.once("connect", () => resolve()));
    const closedFirst = this.#closed.then(() => Promise.reject(new TransportClosedError("the MQTT transport was closed while connecting")));
    closedFirst.catch(() => undefined); // only read when close() wins the race below
    client.on("connect", () => this.#onConnect(client));
    client.on("close", () => this.#onClose());
    client.on("reconnect", () => this.#feed.push({ type: "reconnecting", attempt: ++this.#attempt }));
    client.on("error", (err) => {
      this.#lastError = err.message;
      this.opts.logger.debug({ err }, "MQTT client error");
    });
    client.on("end", () => this.#finish(undefined));
    client.on("message", (topic, payload) => this.#onMessage(topic, payload));
    try {
      await abortable(Promise.race([up, closedFirst]), signal, () => undefined);
      await abortable(this.#filters.acquire(filterOf(`${this.#requests.prefix}.>`)), signal, () => undefined);
    } catch (err) {
      client.end(true);
      this.#finish(undefined);
      throw err;
    }
  }

  #onConnect(client: MqttClient): void {
    (client.stream as unknown as { setNoDelay?: (on: boolean) => void }).setNoDelay?.(true);
    this.#attempt = 0;
    this.#lastError = undefined;
    this.#feed.push({ type: "up", server: this.opts.url });
    this.#groups.onConnect();
    this.#filters.connected();
  }

  #onClose(): void {
    // Our own close() ends the link: that is "closed", not "down".
    if (!this.#closing && this.#feed.current.type === "up") this.#feed.push({ type: "down", reason: this.#lastError ?? "connection closed" });
  }

  /** Never throws: it runs inside mqtt.js's packet handling. */
  #onMessage(topic: string, payload: Buffer): void {
    try {
      if (topic.startsWith(PRESENCE_PREFIX)) return this.#groups.onPresence(topic, payload);
      let subject: string;
      let tokens: readonly string[];
      try {
        ({ subject, tokens } = subjectOf(topic));
      } catch (err) {
        return this.#ingress.refuse(payload, "bad_subject", err as SubjectInvalidError, topic);
      }
      if (this.#requests.owns(subject)) return this.#requests.onReply(subject, payload);
      const targets = this.#targets(tokens, payload);
      if (targets.length === 0) return;
      const envelope = this.#ingress.decode(payload, subject);
      if (envelope === undefined) return;
      const message: Message = { subject, envelope, replyTo: envelope.headers[HEADER.replyTo] };
      for (const sub of targets) if (sub.open) this.#ingress.deliver(sub.handler, message, sub.pattern);
    } catch (err) {
      this.opts.logger.error({ err, topic }, "MQTT message handling failed");
    }
  }

  /** Plain subscriptions that match, plus one local member of each queue group this member owns the message for. */
  #targets(tokens: readonly string[], payload: Buffer): LocalSub[] {
    const targets: LocalSub[] = [];
    let groups: Map<string, LocalSub[]> | undefined;
    for (const sub of this.#subs) {
      if (!matches(sub.tokens, tokens)) continue;
      if (sub.queue === undefined) targets.push(sub);
      else {
        groups ??= new Map();
        const members = groups.get(sub.queue);
        if (members === undefined) groups.set(sub.queue, [sub]);
        else members.push(sub);
      }
    }
    for (const [queue, members] of groups ?? []) {
      if (!this.#groups.owns(queue, tokens, payload)) continue;
      const i = (this.#rr.get(queue) ?? 0) % members.length;
      this.#rr.set(queue, i + 1);
      targets.push(members[i] as LocalSub);
    }
    return targets;
  }

  publish(subject: string, envelope: Envelope): void {
    const client = this.#conn();
    const topic = topicOf(subject);
    const bytes = this.#ingress.encode(envelope);
    this.#sent++;
    client.publish(topic, bytes, { qos: this.#qos }, (err) => this.#published(err));
  }

  #published(err: Error | undefined): void {
    this.#done++;
    if (err !== undefined) this.opts.logger.debug({ err }, "MQTT publish not acknowledged");
    if (this.#flushWaiters.length === 0) return;
    const due = this.#flushWaiters.filter((w) => w.target <= this.#done);
    this.#flushWaiters = this.#flushWaiters.filter((w) => w.target > this.#done);
    for (const w of due) w.resolve();
  }

  flush(): Promise<void> {
    this.#conn();
    if (this.#done >= this.#sent) return Promise.resolve();
    return new Promise((resolve) => this.#flushWaiters.push({ target: this.#sent, resolve }));
  }

  async subscribe(pattern: string, handler: MessageHandler, options: SubscribeOptions = {}): Promise<TransportSubscription> {
    this.#conn();
    const tokens = checkPattern(pattern);
    const queue = checkQueue(options.queue);
    const sub: LocalSub = { pattern, tokens, queue, filter: filterOf(pattern), handler, open: true };
    await this.#filters.acquire(sub.filter);
    this.#subs.add(sub);
    // The data subscription is live before the record announces us, so no message we own is missed.
    if (queue !== undefined) await this.#groups.join(queue, pattern);
    return { pattern, queue, unsubscribe: () => this.#unsubscribe(sub) };
  }

  #unsubscribe(sub: LocalSub): void {
    if (!sub.open) return;
    sub.open = false;
    this.#subs.delete(sub);
    if (sub.queue !== undefined && !this.#closing) this.#groups.leave(sub.queue, sub.pattern);
    this.#filters.release(sub.filter, this.#closing);
  }

  request(subject: string, envelope: Envelope, options: RequestOptions): Promise<Message> {
    this.#conn();
    return this.#requests.send(subject, envelope, options.timeoutMs, (inbox) => {
      this.publish(subject, { ...envelope, headers: { ...envelope.headers, [HEADER.replyTo]: inbox } });
    });
  }

  reply(request: Message, envelope: Envelope): void {
    if (request.replyTo === undefined) throw new EnvelopeInvalidError(`${request.envelope.event_name} (${request.envelope.id}) was not a request: no reply_to header`);
    this.publish(request.replyTo, envelope);
  }

  status(): AsyncIterable<LinkStatus> {
    return this.#feed.iterate();
  }

  closed(): Promise<Error | undefined> {
    return this.#closed;
  }

  async close(): Promise<void> {
    if (this.#closing) return void (await this.#closed);
    this.#closing = true;
    this.#requests.failAll(new TransportClosedError("the MQTT transport closed before the reply arrived"));
    const client = this.#client;
    if (client !== undefined) {
      if (client.connected) {
        await settledWithin(this.#groups.withdraw(), CLOSE_TIMEOUT_MS);
        if (!(await settledWithin(client.endAsync(false), CLOSE_TIMEOUT_MS))) await client.endAsync(true);
      } else {
        await client.endAsync(true);
      }
    }
    this.#finish(undefined);
  }

  #conn(): MqttClient {
    if (this.#closing || this.#feed.isClosed) throw new TransportClosedError("the MQTT transport is closed");
    if (this.#client === undefined) throw new TransportClosedError("the MQTT transport is not connected yet: call connect() first");
    return this.#client;
  }

  #finish(err: Error | undefined): void {
    if (this.#feed.isClosed) return;
    this.#closing = true;
    this.#requests.failAll(new TransportClosedError("the MQTT transport closed before the reply arrived"));
    for (const w of this.#flushWaiters) w.resolve();
    this.#flushWaiters = [];
    this.#filters.closed();
    this.#feed.push(err === undefined ? { type: "closed" } : { type: "closed", error: err });
    this.#resolveClosed(err);
  }
}
