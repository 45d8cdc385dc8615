/**
 * The transport port: a link to a broker that moves envelopes, nothing else. Acks, dedup, routing,
 * retries and the choice of subject live above it (bridge, outbox). Adapters: nats.ts, mqtt.ts;
 * both pass the one contract suite in contract.ts. Where they differ it is declared in
 * `capabilities`, never silent.
 *
 * Every received message goes through the shared ingress (ingress.ts): size limit, JSON decode,
 * checkEnvelope(). Bad input is counted and handed to `onInvalid`, never to handlers, and never
 * throws out of a socket callback.
 */
import type { Envelope } from "../../abi/envelope.js";

export type TransportName = "nats" | "mqtt";

/** Link state, read as an async iterator (modelled on nats.js `Status`). */
export type LinkStatus =
  | { readonly type: "connecting" }
  | { readonly type: "up"; readonly server: string }
  | { readonly type: "down"; readonly reason: string }
  | { readonly type: "reconnecting"; readonly attempt: number }
  | { readonly type: "closed"; readonly error?: Error };

export interface TransportCapabilities {
  /**
   * true: the broker hands each message of a queue group to one member (NATS). false: every member
   * receives it and the members elect one above the broker (MQTT on aedes; see mqtt-groups.ts).
   */
  readonly nativeQueueGroups: boolean;
  /** true: request() fails fast with NoRespondersError when nothing subscribes; false: it times out. */
  readonly noResponders: boolean;
  /** Where a request carries its reply address: the protocol's reply subject, or headers.reply_to. */
  readonly replyAddress: "protocol" | "header";
}

/** A received envelope, already validated. */
export interface Message {
  /** The subject it was published on (MQTT topics are decoded back to subjects). */
  readonly subject: string;
  readonly envelope: Envelope;
  /** Where a reply goes when this is a request; answer with Transport.reply(). */
  readonly replyTo: string | undefined;
}

/** May return a promise; a throw or rejection is logged and counted, never fatal. */
export type MessageHandler = (message: Message) => void | Promise<void>;

export interface SubscribeOptions {
  /** Queue group: each message goes to one member of the group (across connections) instead of all. */
  readonly queue?: string;
}

export interface TransportSubscription {
  readonly pattern: string;
  readonly queue: string | undefined;
  /** Stops delivery at once (no handler call after it returns); the broker is told asynchronously. */
  unsubscribe(): void;
}

export interface RequestOptions {
  readonly timeoutMs: number;
}

export interface Transport {
  readonly name: TransportName;
  readonly capabilities: TransportCapabilities;
  /**
   * Connect, retrying until the first connection is up or `signal` aborts (then it rejects with
   * the signal's reason and the transport is closed). Later drops are reconnected automatically.
   */
  connect(signal: AbortSignal): Promise<void>;
  /**
   * Send an envelope on a subject. Buffered while reconnecting; throws SubjectInvalidError,
   * PayloadTooLargeError (above maxMessageBytes) or TransportClosedError (after close, or before connect).
   */
  publish(subject: string, envelope: Envelope): void;
  /** Resolves when everything published so far has reached the broker. */
  flush(): Promise<void>;
  /** Resolves once the broker has the subscription, so a publish after it is delivered. */
  subscribe(pattern: string, handler: MessageHandler, options?: SubscribeOptions): Promise<TransportSubscription>;
  /**
   * Publish a request and wait for the first reply (validated like any received message).
   * Rejects with TimeoutError, NoRespondersError (when capabilities.noResponders), or the
   * validation error of an invalid reply.
   */
  request(subject: string, envelope: Envelope, options: RequestOptions): Promise<Message>;
  /** Send `envelope` (built with deriveEnvelope(request.envelope, {kind: "reply", …})) to the requester. */
  reply(request: Message, envelope: Envelope): void;
  /** The current state first, then every change, ending after {type: "closed"}. */
  status(): AsyncIterable<LinkStatus>;
  /** Resolves (never rejects) when the transport is closed: with the error that closed it, if any. */
  closed(): Promise<Error | undefined>;
  /** Flush what can be flushed, fail pending requests, close the link. Idempotent. */
  close(): Promise<void>;
}
