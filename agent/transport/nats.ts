/**
 * The NATS adapter over the `nats` client (nats.js 2.x). Everything is native: wildcards, queue
 * groups, request/reply with the protocol's reply subject and the server's no-responders status,
 * reconnection with resubscription, and link status from the client's status iterator.
 */
import { connect, DebugEvents, ErrorCode, Events, NatsError, nkeyAuthenticator, type Msg, type NatsConnection, type Status, type Subscription } from "nats";
import type { Envelope } from "../../abi/envelope.js";
import { TransportClosedError, EnvelopeInvalidError, InternalError, NoRespondersError, TimeoutError } from "../core/errors.js";
import { Ingress, type TransportOptions } from "./ingress.js";
import { checkPattern, checkQueue, checkSubject } from "./names.js";
import { abortable, settledWithin, sleep } from "./abort.js";
import { StatusFeed } from "./status-feed.js";
import type {
  LinkStatus, Message, MessageHandler, RequestOptions, SubscribeOptions, Transport, TransportCapabilities, TransportSubscription,
} from "./transport.js";

/** A member should notice a restarted hub within about a second; the client adds jitter. */
const RECONNECT_WAIT_MS = 1000;
/** One dial (TCP + INFO/CONNECT) on a LAN takes milliseconds; 2 s means the host is not there. */
const CONNECT_TIMEOUT_MS = 2000;
/** A silently dead link (no FIN, e.g. Wi-Fi gone) is noticed after PING_INTERVAL × MAX_PINGS_OUT ≈ 10 s. */
const PING_INTERVAL_MS = 5000;
const MAX_PINGS_OUT = 2;
/** close() waits this long for buffered messages to drain before closing hard. */
const CLOSE_DRAIN_MS = 2000;

// nats.js error codes as plain strings (NatsError.code is typed string).
const CODE_TIMEOUT: string = ErrorCode.Timeout;
const CODE_NO_RESPONDERS: string = ErrorCode.NoResponders;
const CODE_CONNECTION_CLOSED: string = ErrorCode.ConnectionClosed;

function server(data: Status["data"]): string {
  return typeof data === "string" ? data : JSON.stringify(data);
}

export interface NatsTransportOptions extends TransportOptions {
  readonly servers: string | readonly string[];
  /** Login at the server (the hub's nats-server has a user per node). */
  readonly user?: string;
  readonly pass?: string;
  /** Or an NKey user seed (`SU…`): the client signs the server's nonce with it instead of sending a password. */
  readonly nkeySeed?: string;
  /** Client name shown by the server (connz). */
  readonly name?: string;
  readonly reconnectWaitMs?: number;
}

export class NatsTransport implements Transport {
  readonly name = "nats";
  readonly capabilities: TransportCapabilities = { nativeQueueGroups: true, noResponders: true, replyAddress: "protocol" };
  readonly #ingress: Ingress;
  readonly #feed = new StatusFeed();
  readonly #closed: Promise<Error | undefined>;
  #resolveClosed: (err: Error | undefined) => void = () => undefined;
  #nc: NatsConnection | undefined;
  #closing = false;
  /** close() during connect() stops the first-connect loop. */
  readonly #stopConnecting = new AbortController();

  constructor(private readonly opts: NatsTransportOptions) {
    this.#ingress = new Ingress("nats", opts);
    this.#closed = new Promise((resolve) => (this.#resolveClosed = resolve));
  }

  async connect(signal: AbortSignal): Promise<void> {
    if (this.#nc !== undefined || this.#closing) throw new InternalError("NatsTransport.connect() may be called once");
    const wait = this.opts.reconnectWaitMs ?? RECONNECT_WAIT_MS;
    const stop = AbortSignal.any([signal, this.#stopConnecting.signal]);
    for (let attempt = 1; ; attempt++) {
      try {
        stop.throwIfAborted();
        this.#nc = await abortable(this.#dial(wait), stop, (late) => void late.close());
        break;
      } catch (err) {
        if (stop.aborted) {
          this.#finish(undefined);
          throw signal.aborted ? signal.reason : new TransportClosedError("the NATS transport was closed while connecting");
        }
        // Never up yet, so not "down": the reason is logged, the state is "reconnecting".
        this.opts.logger.debug({ err, attempt }, "NATS connect failed; retrying");
        this.#feed.push({ type: "reconnecting", attempt });
        await sleep(wait, stop).catch(() => undefined);
      }
    }
    const nc = this.#nc;
    void this.#watch(nc);
    void nc.closed().then((err) => this.#finish(err instanceof Error ? err : undefined));
    this.#feed.push({ type: "up", server: `nats://${nc.getServer()}` });
  }

  #dial(waitMs: number): Promise<NatsConnection> {
    return connect({
      servers: typeof this.opts.servers === "string" ? this.opts.servers : [...this.opts.servers],
      name: this.opts.name ?? "adaos-edge",
      ...(this.opts.user === undefined ? {} : { user: this.opts.user }),
      ...(this.opts.pass === undefined ? {} : { pass: this.opts.pass }),
      ...(this.opts.nkeySeed === undefined ? {} : { authenticator: nkeyAuthenticator(new TextEncoder().encode(this.opts.nkeySeed)) }),
      reconnect: true,
      maxReconnectAttempts: -1,
      reconnectTimeWait: waitMs,
      timeout: CONNECT_TIMEOUT_MS,
      pingInterval: PING_INTERVAL_MS,
      maxPingOut: MAX_PINGS_OUT,
      waitOnFirstConnect: false,
    });
  }

  async #watch(nc: NatsConnection): Promise<void> {
    let attempt = 0;
    try {
      for await (const s of nc.status()) {
        const next = this.#statusOf(s, () => ++attempt);
        if (next?.type === "up") attempt = 0;
        if (next !== undefined) this.#feed.push(next);
      }
    } catch (err) {
      this.opts.logger.error({ err }, "NATS status iterator failed");
    }
  }

  #statusOf(s: Status, nextAttempt: () => number): LinkStatus | undefined {
    switch (s.type) {
      case Events.Disconnect:
        return { type: "down", reason: `disconnected from ${server(s.data)}` };
      case DebugEvents.Reconnecting:
        return { type: "reconnecting", attempt: nextAttempt() };
      case Events.Reconnect:
        return { type: "up", server: `nats://${server(s.data)}` };
      case Events.Error:
      case Events.LDM:
        this.opts.logger.warn({ status: s.type, data: s.data }, "NATS server reported a problem");
        return undefined;
      default:
        return undefined;
    }
  }

  publish(subject: string, envelope: Envelope): void {
    this.#conn().publish(checkSubject(subject), this.#ingress.encode(envelope));
  }

  async flush(): Promise<void> {
    await this.#conn().flush();
  }

  async subscribe(pattern: string, handler: MessageHandler, options: SubscribeOptions = {}): Promise<TransportSubscription> {
    const nc = this.#conn();
    checkPattern(pattern);
    const queue = checkQueue(options.queue);
    let open = true;
    const sub: Subscription = nc.subscribe(pattern, {
      ...(queue === undefined ? {} : { queue }),
      callback: (err, msg) => {
        if (err !== null) {
          this.opts.logger.warn({ err, pattern }, "NATS subscription error");
          return;
        }
        if (!open) return;
        const envelope = this.#ingress.decode(msg.data, msg.subject);
        if (envelope === undefined) return;
        this.#ingress.deliver(handler, { subject: msg.subject, envelope, replyTo: msg.reply === "" ? undefined : msg.reply }, pattern);
      },
    });
    await nc.flush();
    return {
      pattern,
      queue,
      unsubscribe: () => {
        if (!open) return;
        open = false;
        if (!sub.isClosed()) sub.unsubscribe();
      },
    };
  }

  async request(subject: string, envelope: Envelope, options: RequestOptions): Promise<Message> {
    const nc = this.#conn();
    let msg: Msg;
    try {
      msg = await nc.request(checkSubject(subject), this.#ingress.encode(envelope), { timeout: options.timeoutMs });
    } catch (err) {
      throw this.#requestError(err, subject, envelope, options.timeoutMs);
    }
    return { subject: msg.subject, envelope: this.#ingress.check(msg.data, msg.subject), replyTo: undefined };
  }

  #requestError(err: unknown, subject: string, envelope: Envelope, timeoutMs: number): Error {
    if (!(err instanceof NatsError)) return err as Error;
    const what = `${envelope.event_name} (${envelope.id}) on ${subject}`;
    // nats.js fails the requests in flight at close() with TIMEOUT: report what really happened.
    if (this.#closing) return new TransportClosedError(`NATS transport closed before the reply to ${what}`, { cause: err });
    if (err.code === CODE_TIMEOUT) return new TimeoutError(`no reply to ${what} within ${timeoutMs} ms`, { cause: err });
    if (err.code === CODE_NO_RESPONDERS) return new NoRespondersError(`nothing subscribes to ${subject} (request ${what})`, { cause: err });
    return new InternalError(`request ${what} failed: ${err.message}`, { cause: err });
  }

  reply(request: Message, envelope: Envelope): void {
    if (request.replyTo === undefined) throw new EnvelopeInvalidError(`${request.envelope.event_name} (${request.envelope.id}) was not a request: no reply address`);
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
    this.#stopConnecting.abort();
    const nc = this.#nc;
    if (nc === undefined) return this.#finish(undefined);
    if (!nc.isClosed()) {
      if (this.#feed.current.type === "up") await settledWithin(nc.drain(), CLOSE_DRAIN_MS);
      await nc.close();
    }
    const err = await nc.closed();
    // Closed by us: a drain error or none is not the link's failure.
    this.#finish(err instanceof Error && !(err instanceof NatsError && err.code === CODE_CONNECTION_CLOSED) ? err : undefined);
  }

  #conn(): NatsConnection {
    if (this.#closing || this.#feed.isClosed) throw new TransportClosedError("the NATS transport is closed");
    if (this.#nc === undefined) throw new TransportClosedError("the NATS transport is not connected yet: call connect() first");
    return this.#nc;
  }

  #finish(err: Error | undefined): void {
    if (this.#feed.isClosed) return;
    this.#closing = true;
    this.#feed.push(err === undefined ? { type: "closed" } : { type: "closed", error: err });
    this.#resolveClosed(err);
  }
}
