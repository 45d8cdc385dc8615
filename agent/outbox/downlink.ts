/**
 * The downlink: commands from the root to this hub (`ada.hub.<hubId>.cmd.>`). The root stores them
 * in its ADAOS_DOWNLINK stream (agent/natsd/root-stream.ts); this hub pulls them through its
 * durable consumer `hub-<hubId>`, so after being offline it receives its backlog on reconnect.
 *
 * Exactly once in effect. JetStream delivers at least once: a command stays pending until acked,
 * and a lost ack, an expired ack_wait or a producer's re-publish (another Nats-Msg-Id) brings it
 * again. The inbox turns that into one run: a command whose inboxKey (idempotency_key header, else
 * id) is recorded is acked and dropped; otherwise the handler runs, the key is recorded (awaited:
 * durable), and only then the command is acked. Commands are handled one at a time in delivery
 * order, so a redelivery of a command whose handler is still running waits behind it and finds
 * the key. The one gap: a crash after the handler finished and before inbox.record was durable —
 * the redelivery runs the handler again; handlers whose effect must not repeat key on
 * headers.idempotency_key (and a repeat older than the inbox window is not recognised either).
 *
 * Failures. A failing handler is nak'ed with a full-jitter delay; its `maxAttempts`-th failure
 * moves the command to the dead-letter queue as `poison` (with the last error) and terms it. The
 * failures are counted here, per inbox key, not taken from the server's delivery count: nats-server
 * 2.9 also counts deliveries into a pull request whose client is gone (a stopped hub, a dropped
 * link) — it redelivers at once into it until that request's batch is used up (measured: one
 * command delivered 9 times in 0.5 s). So the consumer's max_deliver is unlimited (a finite one
 * dropped such a command without anyone seeing it), and the server's count is only a backstop
 * against a command that kills the process every time: past DELIVERY_LIMIT_PER_ATTEMPT ×
 * maxAttempts deliveries it goes to the DLQ without running. Failure counts live in memory, so a
 * restart gives a failing command up to maxAttempts more runs.
 * Bytes that are not a valid envelope go to the DLQ as `invalid`, a command past its ttl_ms as
 * `expired`; both are termed.
 * If the DLQ cannot take an entry, the command is nak'ed instead: it stays at the root.
 *
 * The link: its own nats connection (reconnecting forever), either to the hub's nats-server, whose
 * leafnode reaches the root, or straight to the root. The JetStream API is addressed by domain
 * (`$JS.<domain>.API`), which crosses the leaf: the hub's own JetStream has the hub id as domain.
 * Start returns at once (the hub runs while the root is away); a background loop connects, creates
 * or updates the consumer (an upsert), and consumes. nats.js re-pulls by itself after a client
 * reconnect and after two missed idle heartbeats (the root gone behind a leaf, where the client's
 * own link stays up); when the consumer or the stream is gone the consumption ends and the loop
 * creates it again, with full-jitter backoff while the root is unreachable. A pull request cannot be
 * withdrawn: after stop() the root keeps it up to PULL_EXPIRES_MS, and commands sent meanwhile go
 * into it and come back only after ack_wait (late, never lost).
 */
import { AckPolicy, connect, DeliverPolicy, nanos, NatsError, type ConsumerConfig, type ConsumerMessages, type JetStreamClient, type JsMsg, type NatsConnection } from "nats";
import type { Envelope } from "../../abi/envelope.js";
import { fullJitter, type BackoffPolicy } from "../core/backoff.js";
import { systemClock, type Clock } from "../core/clock.js";
import type { Component } from "../core/component.js";
import { isExpired } from "../core/envelope.js";
import { InternalError } from "../core/errors.js";
import type { Logger } from "../core/logger.js";
import type { Counter, MetricsRegistry } from "../core/metrics.js";
import { DOWNLINK_STREAM, downlinkConsumerName, downlinkFilter } from "../natsd/root-stream.js";
import type { EventCatalog } from "../registry/catalog.js";
import { checkEnvelope } from "../registry/check.js";
import { abortable, settledWithin } from "../transport/abort.js";
import type { DeadLetterInput, DeadLetters, DeadReason } from "./dead-letters.js";
import { inboxKey, type Inbox } from "./inbox.js";

export const DEFAULT_DOMAIN = "root";
export const DEFAULT_MAX_ATTEMPTS = 5;
/** A command's handler has this long before the root sends it again (the server's default too). */
export const DEFAULT_ACK_WAIT_MS = 30_000;
/** Nak delays and reconnect/consumer retries: first within a second, then up to a minute. */
export const DEFAULT_RETRY: BackoffPolicy = { baseMs: 1_000, capMs: 60_000 };
/**
 * Commands held at the hub at once. Each waits behind the ones before it while its ack_wait clock
 * already runs, so a batch must be handled within ack_wait: 3 s per command with the defaults.
 */
export const PULL_BATCH = 10;
/**
 * Life of one pull request. nats.js asks for idle heartbeats at half of it and re-checks the
 * consumer after two missed ones, then every PULL_EXPIRES_MS: a root gone behind the leaf is
 * noticed within ~5 s, and commands flow again at most ~5 s after it is back.
 */
export const PULL_EXPIRES_MS = 5_000;
/** One dial to a local or LAN server takes milliseconds; 2 s means it is not there. */
const CONNECT_TIMEOUT_MS = 2_000;
/** After the first connect, nats.js re-dials every second (plus its jitter), forever. */
const RECONNECT_WAIT_MS = 1_000;
/** stop() lets the running handler finish (and its ack go out) this long; later it is redelivered. */
const STOP_WAIT_MS = 2_000;
/**
 * Server-side deliveries allowed per attempt before a command counts as poison without running:
 * one real delivery plus at most a stale pull request's whole batch (see the header).
 */
export const DELIVERY_LIMIT_PER_ATTEMPT = PULL_BATCH + 1;
/** Failing commands whose failures are remembered; beyond it the oldest count is forgotten. */
const MAX_TRACKED_FAILURES = 10_000;
/** JetStream API error codes (nats-server errors.json). */
const JS_STREAM_NOT_FOUND = 10059;

export interface DownlinkConnect {
  readonly servers: readonly string[];
  readonly user?: string;
  readonly pass?: string;
  /** Client name shown by the server (connz). */
  readonly name: string;
}

export interface DownlinkOptions {
  readonly hubId: string;
  readonly connect: DownlinkConnect;
  /** The root's JetStream domain (default "root"). */
  readonly domain?: string;
  /** Default ADAOS_DOWNLINK. */
  readonly stream?: string;
  readonly inbox: Inbox;
  readonly dlq: DeadLetters;
  readonly catalog: EventCatalog;
  /** Runs a validated command; a rejection is a failed attempt. */
  readonly handler: (envelope: Envelope) => Promise<void>;
  /** Failed runs before a command is dead (default 5). */
  readonly maxAttempts?: number;
  /** Default 30 s. */
  readonly ackWaitMs?: number;
  /** Nak delays and reconnect/consumer retries (default DEFAULT_RETRY). */
  readonly retry?: BackoffPolicy;
  readonly logger: Logger;
  readonly metrics: MetricsRegistry;
  readonly clock?: Clock;
}

/** What could be read of a command, for the DLQ and the log. */
type About = Partial<Record<"id" | "event_name" | "source", string>>;
type Decoded = { readonly envelope: Envelope } | { readonly error: string; readonly partial: About };

export class Downlink implements Component {
  readonly name = "downlink";
  readonly #stream: string;
  readonly #consumer: string;
  readonly #maxAttempts: number;
  readonly #retry: BackoffPolicy;
  readonly #clock: Clock;
  readonly #received: Counter;
  readonly #duplicates: Counter;
  readonly #failed: Counter;
  readonly #dead: Counter;
  readonly #stop = new AbortController();
  #run: Promise<void> | undefined;
  #nc: NatsConnection | undefined;
  #messages: ConsumerMessages | undefined;
  /** Handler failures per inbox key, until the command succeeds or dies. */
  readonly #failures = new Map<string, number>();
  /** Whether the last consumer setup worked: problems are logged once per outage, not per retry. */
  #healthy = true;

  constructor(private readonly opts: DownlinkOptions) {
    this.#stream = opts.stream ?? DOWNLINK_STREAM;
    this.#consumer = downlinkConsumerName(opts.hubId);
    this.#maxAttempts = opts.maxAttempts ?? DEFAULT_MAX_ATTEMPTS;
    this.#retry = opts.retry ?? DEFAULT_RETRY;
    this.#clock = opts.clock ?? systemClock;
    this.#received = opts.metrics.counter("adaos_downlink_received_total", "Commands delivered to this hub by its downlink consumer, redeliveries included.");
    this.#duplicates = opts.metrics.counter("adaos_downlink_duplicates_total", "Downlink commands already in the inbox: acknowledged and dropped.");
    this.#failed = opts.metrics.counter("adaos_downlink_failed_total", "Downlink command runs whose handler failed.");
    this.#dead = opts.metrics.counter("adaos_downlink_dead_total", "Downlink commands moved to the dead-letter queue, by reason.");
  }

  /** The consumer's settings (an upsert: a changed ack_wait or max_deliver updates it). */
  consumerConfig(): Partial<ConsumerConfig> {
    return {
      durable_name: this.#consumer,
      description: `Commands for hub ${this.opts.hubId} (adaos-edge downlink)`,
      filter_subject: downlinkFilter(this.opts.hubId),
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
      ack_wait: nanos(this.opts.ackWaitMs ?? DEFAULT_ACK_WAIT_MS),
      max_deliver: -1, // failures are counted by #handle (see the header)
    };
  }

  start(signal: AbortSignal): Promise<void> {
    signal.throwIfAborted();
    if (this.#run !== undefined) throw new InternalError("Downlink.start() may be called once");
    this.#run = this.#loop(this.#stop.signal).catch((err: unknown) => this.opts.logger.error({ err }, "downlink loop failed; no more commands from the root"));
    return Promise.resolve();
  }

  async stop(): Promise<void> {
    this.#stop.abort(new Error("downlink stopped"));
    this.#messages?.stop();
    if (this.#run !== undefined) await settledWithin(this.#run, STOP_WAIT_MS);
    const nc = this.#nc;
    this.#nc = undefined;
    if (nc === undefined) return;
    await settledWithin(nc.flush(), STOP_WAIT_MS); // the last acks
    await nc.close().catch(() => undefined);
  }

  async #loop(stop: AbortSignal): Promise<void> {
    const nc = await this.#connect(stop);
    if (nc === undefined) return;
    this.#nc = nc;
    const domain = this.opts.domain ?? DEFAULT_DOMAIN;
    // checkAPI: false — no account-info request now: the root may be away.
    const jsm = await nc.jetstreamManager({ domain, checkAPI: false });
    const js = nc.jetstream({ domain });
    let attempt = 0;
    while (!stop.aborted) {
      const began = this.#clock.now();
      try {
        await jsm.consumers.add(this.#stream, this.consumerConfig());
        await this.#consume(js, stop);
      } catch (err) {
        if (stop.aborted) break;
        this.#unhealthy(err);
      }
      if (this.#clock.now() - began > this.#retry.capMs) attempt = 0;
      await this.#wait(fullJitter(attempt++, this.#retry), stop);
    }
  }

  /** The first connection, retried with backoff until it works or stop(); undefined when stopped. */
  async #connect(stop: AbortSignal): Promise<NatsConnection | undefined> {
    const c = this.opts.connect;
    for (let attempt = 0; !stop.aborted; attempt++) {
      try {
        const dial = connect({
          servers: [...c.servers],
          name: c.name,
          ...(c.user === undefined ? {} : { user: c.user }),
          ...(c.pass === undefined ? {} : { pass: c.pass }),
          maxReconnectAttempts: -1,
          reconnectTimeWait: RECONNECT_WAIT_MS,
          timeout: CONNECT_TIMEOUT_MS,
        });
        return await abortable(dial, stop, (late) => void late.close());
      } catch (err) {
        if (stop.aborted) break;
        this.#unhealthy(err);
        await this.#wait(fullJitter(attempt, this.#retry), stop);
      }
    }
    return undefined;
  }

  async #consume(js: JetStreamClient, stop: AbortSignal): Promise<void> {
    const consumer = await js.consumers.get(this.#stream, this.#consumer);
    // abort_on_missing_resource: a deleted consumer or stream ends the consumption, and #loop
    // creates it again (nats.js would otherwise poll for it forever).
    const messages = await consumer.consume({ max_messages: PULL_BATCH, expires: PULL_EXPIRES_MS, abort_on_missing_resource: true });
    this.#messages = messages;
    if (stop.aborted) messages.stop();
    if (!this.#healthy) this.opts.logger.info({ stream: this.#stream, consumer: this.#consumer }, "downlink consuming again");
    this.#healthy = true;
    try {
      for await (const m of messages) await this.#handle(m);
    } finally {
      this.#messages = undefined;
    }
  }

  async #handle(m: JsMsg): Promise<void> {
    this.#received.inc();
    const decoded = this.#decode(m.data);
    if ("error" in decoded) return this.#deadLetter(m, "invalid", decoded.error, decoded.partial);
    const env = decoded.envelope;
    const about = { id: env.id, event_name: env.event_name, source: env.source };
    if (isExpired(env, this.#clock.now())) return this.#deadLetter(m, "expired", `ttl_ms ${env.ttl_ms ?? 0} passed before delivery`, about);
    const key = inboxKey(env);
    if (this.opts.inbox.has(key)) {
      this.#duplicates.inc();
      m.ack();
      return;
    }
    const deliveries = m.info.deliveryCount;
    if (deliveries > DELIVERY_LIMIT_PER_ATTEMPT * this.#maxAttempts) {
      const error = `delivered ${deliveries} times without an outcome (the handler outlived ack_wait, or the node stopped or crashed each time)`;
      return this.#deadLetter(m, "poison", error, about, deliveries);
    }
    try {
      await this.opts.handler(env);
    } catch (err) {
      this.#failed.inc();
      const failures = (this.#failures.get(key) ?? 0) + 1;
      this.#failures.delete(key);
      const error = err instanceof Error ? err.message : String(err);
      if (failures >= this.#maxAttempts) return this.#deadLetter(m, "poison", error, about, failures);
      this.#failures.set(key, failures);
      if (this.#failures.size > MAX_TRACKED_FAILURES) this.#failures.delete(this.#failures.keys().next().value ?? key);
      const delayMs = fullJitter(failures - 1, this.#retry);
      this.opts.logger.warn({ ...about, failures, delayMs, err }, "downlink command failed; the root sends it again");
      m.nak(delayMs);
      return;
    }
    this.#failures.delete(key);
    try {
      await this.opts.inbox.record(key);
    } catch (err) {
      // The effect happened: acking is right; only a later repeat of this key goes unrecognised.
      this.opts.logger.error({ ...about, err }, "could not record a handled command in the inbox; acknowledging it anyway");
    }
    m.ack();
  }

  #decode(data: Uint8Array): Decoded {
    let json: unknown;
    try {
      json = JSON.parse(new TextDecoder().decode(data));
    } catch (err) {
      return { error: `not JSON: ${(err as Error).message}`, partial: {} };
    }
    try {
      return { envelope: Object.freeze(checkEnvelope(this.opts.catalog, json).envelope) };
    } catch (err) {
      const fields = typeof json === "object" && json !== null ? (json as Record<string, unknown>) : {};
      const partial: About = {};
      for (const k of ["id", "event_name", "source"] as const) if (typeof fields[k] === "string") partial[k] = fields[k];
      return { error: (err as Error).message, partial };
    }
  }

  /** Into the DLQ and termed; if the DLQ refuses, nak'ed instead (the command stays at the root). */
  #deadLetter(m: JsMsg, reason: DeadReason, error: string, about: About, attempts = m.info.deliveryCount): void {
    const entry: DeadLetterInput = {
      reason,
      origin: "inbound",
      data: m.data.slice(),
      id: about.id,
      eventName: about.event_name,
      source: about.source,
      subject: m.subject,
      attempts,
      lastError: error,
    };
    try {
      this.opts.dlq.add([entry]);
    } catch (err) {
      this.opts.logger.error({ ...about, reason, err }, "dead-letter queue refused a downlink command; the root keeps it");
      m.nak(fullJitter(m.info.deliveryCount, this.#retry));
      return;
    }
    this.#dead.inc({ reason });
    this.opts.logger.warn({ ...about, reason, attempts: entry.attempts, error, subject: m.subject }, "downlink command moved to the dead-letter queue");
    m.term();
  }

  #unhealthy(err: unknown): void {
    const missingStream = err instanceof NatsError && err.api_error?.err_code === JS_STREAM_NOT_FOUND;
    const hint = missingStream ? `; create it at the root: nats stream add --config root-stream-downlink.json (adaos-edge root config)` : "";
    const fields = { err, stream: this.#stream, consumer: this.#consumer };
    if (this.#healthy) this.opts.logger.warn(fields, `downlink cannot reach its consumer at the root; retrying${hint}`);
    else this.opts.logger.debug(fields, "downlink still cannot reach its consumer");
    this.#healthy = false;
  }

  #wait(ms: number, stop: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      if (stop.aborted) return resolve();
      const done = (): void => {
        timer.cancel();
        stop.removeEventListener("abort", done);
        resolve();
      };
      const timer = this.#clock.setTimer(done, ms);
      stop.addEventListener("abort", done, { once: true });
    });
  }
}
