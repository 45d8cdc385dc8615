/**
 * The hub's relay sink: outbox entries go to the root's uplink stream as JetStream publishes
 * (`Nats-Msg-Id` = envelope id, so a resend is dropped by the stream's duplicate window), confirmed
 * by a PubAck. It has its own NATS connection — to the hub's own nats-server when that is a
 * leafnode of the root, else to the root's servers — reconnecting forever.
 *
 * Outcomes: a PubAck (also `duplicate: true`) is `sent`. `poison` only for what can never pass:
 * the client's MAX_PAYLOAD_EXCEEDED (larger than the server's max_payload; thrown before sending),
 * BAD_SUBJECT, and the JetStream API errors 10054 (JSStreamMessageExceedsMaximumErr, the stream's
 * max_msg_size) and 10097 (JSStreamHeaderExceedsMaximumErr). Everything else — 503 no responders,
 * timeouts, connection closed/draining/disconnected, unknown errors — is `retry` (the safe default).
 *
 * reachable(): a request to `$JS.<domain>.API.STREAM.INFO.<stream>` with a 500 ms timeout. Measured
 * with nats-server 2.9.10: it works on a direct connection to the root and through a hub whose
 * nats-server is a leafnode of the root — with different JetStream domains on the two sides, each
 * server maps `$JS.<its domain>.API.>` to its own JetStream and the hub forwards `$JS.root.API.>`
 * over the leaf. While the root is away the hub answers 503 (no responders) at once. A reply that
 * carries a JetStream error (stream not found, JetStream unavailable) is "not reachable" too: the
 * route is there but a send could not succeed, and the reason is logged once. So is a replicated
 * stream without a leader (the first seconds after the whole root restarted): a publish would only
 * wait out its ack timeout.
 *
 * The first connection is dialled here, not by nats.js `waitOnFirstConnect`: that loop cannot be
 * cancelled (a hub stopped while its root is away would keep dialling forever), so connect() dials
 * with `waitOnFirstConnect: false` until it succeeds or `signal` aborts; after that nats.js
 * reconnects forever (`maxReconnectAttempts: -1`).
 */
import { connect, ErrorCode, Events, NatsError, type JetStreamClient, type NatsConnection, type PubAck } from "nats";
import type { Logger } from "../core/logger.js";
import { abortable, sleep } from "../transport/abort.js";
import { UPLINK_STREAM } from "../natsd/root-stream.js";
import type { OutgoingMessage, Publisher, SendOutcome } from "./publisher.js";

/** The root's JetStream domain (agent/natsd/root-conf.ts writes `domain: root`). */
export const DEFAULT_ROOT_DOMAIN = "root";
/** A PubAck on loopback takes ~0.1 ms and an R3 stream a few ms; 5 s means it is not coming. */
export const DEFAULT_ACK_TIMEOUT_MS = 5000;
/** The probe answers in well under a millisecond when the root is there; 500 ms means it is not. */
export const PROBE_TIMEOUT_MS = 500;
/**
 * Re-dial a lost root every 500 ms (nats.js adds up to 100 ms jitter): a returning root is
 * reconnected within ~0.6 s, inside the 1.5 s the first buffered event may take to arrive.
 */
const RECONNECT_WAIT_MS = 500;
/** One dial (TCP + INFO/CONNECT) takes milliseconds; 2 s means the host is not there. */
const CONNECT_TIMEOUT_MS = 2000;
/** A silently dead link (no FIN) is noticed after PING_INTERVAL_MS × MAX_PINGS_OUT ≈ 10 s. */
const PING_INTERVAL_MS = 5000;
const MAX_PINGS_OUT = 2;

/** JetStream API error codes (nats-server errors.json) of messages the stream will never take. */
export const POISON_JS_ERRORS: ReadonlySet<number> = new Set([
  10054, // JSStreamMessageExceedsMaximumErr: larger than the stream's max_msg_size
  10097, // JSStreamHeaderExceedsMaximumErr: headers larger than 64 KiB
]);
/** Client-side errors of the message itself. */
const POISON_CLIENT_ERRORS: ReadonlySet<string> = new Set<string>([ErrorCode.MaxPayloadExceeded, ErrorCode.BadSubject]);
const CODE_NO_RESPONDERS: string = ErrorCode.NoResponders;

export interface JetStreamPublisherOptions {
  readonly servers: readonly string[];
  readonly user?: string;
  readonly pass?: string;
  /** Client name shown by the server (connz). */
  readonly name: string;
  readonly domain?: string;
  readonly stream?: string;
  readonly ackTimeoutMs?: number;
  readonly logger: Logger;
  /** Aborts connecting (connect() then rejects with its reason). */
  readonly signal: AbortSignal;
}

/** What a publish error means for the entry. */
export function classify(id: string, err: unknown): SendOutcome {
  if (err instanceof NatsError) {
    const api = err.jsError();
    if (api !== null && POISON_JS_ERRORS.has(api.err_code ?? 0)) return { type: "poison", id, error: `${api.description} (JetStream ${api.err_code ?? "?"})` };
    if (POISON_CLIENT_ERRORS.has(err.code)) return { type: "poison", id, error: `${err.message} (${err.code})` };
    if (err.code === CODE_NO_RESPONDERS) return { type: "retry", id, error: "no responders (503): the stream is not reachable" };
    return { type: "retry", id, error: api === null ? `${err.message} (${err.code})` : `${api.description} (JetStream ${api.err_code ?? "?"})` };
  }
  return { type: "retry", id, error: err instanceof Error ? err.message : String(err) };
}

export class JetStreamPublisher implements Publisher {
  readonly name: string;
  readonly #js: JetStreamClient;
  readonly #probeSubject: string;
  readonly #ackTimeoutMs: number;
  #connected = true;
  /** Sends waiting for acks, told when the connection drops. */
  readonly #onDisconnect = new Set<() => void>();
  /** The last probe's complaint, so a misconfigured root is logged once, not 4 times a second. */
  #lastComplaint: string | undefined;

  private constructor(private readonly nc: NatsConnection, private readonly opts: JetStreamPublisherOptions) {
    this.name = opts.name;
    this.#js = nc.jetstream();
    this.#probeSubject = `$JS.${opts.domain ?? DEFAULT_ROOT_DOMAIN}.API.STREAM.INFO.${opts.stream ?? UPLINK_STREAM}`;
    this.#ackTimeoutMs = opts.ackTimeoutMs ?? DEFAULT_ACK_TIMEOUT_MS;
  }

  /** Dial until connected (or `signal` aborts); from then on the connection reconnects by itself. */
  static async connect(opts: JetStreamPublisherOptions): Promise<JetStreamPublisher> {
    for (let attempt = 1; ; attempt++) {
      opts.signal.throwIfAborted();
      try {
        const nc = await abortable(dial(opts), opts.signal, (late) => void late.close());
        const p = new JetStreamPublisher(nc, opts);
        void p.#watch();
        opts.logger.info({ server: nc.getServer(), publisher: opts.name }, "JetStream publisher connected");
        return p;
      } catch (err) {
        if (opts.signal.aborted) throw opts.signal.reason;
        if (attempt === 1) opts.logger.warn({ err, servers: opts.servers }, "JetStream publisher cannot connect yet; retrying");
        await sleep(RECONNECT_WAIT_MS, opts.signal).catch(() => undefined);
      }
    }
  }

  async send(batch: readonly OutgoingMessage[], signal: AbortSignal): Promise<SendOutcome[]> {
    if (!this.#connected || this.nc.isClosed() || signal.aborted) {
      const why = signal.aborted ? "aborted before sending" : this.nc.isClosed() ? "the connection is closed" : "disconnected from the server; reconnecting";
      return batch.map((m) => ({ type: "retry", id: m.id, error: why }));
    }
    // Pipelined: every publish is out before the first ack is awaited. Acks still missing when
    // the send is aborted or the connection drops are `retry` at once (a resend is deduplicated).
    const pending = batch.map((m) => this.#publish(m));
    let stopWaiting: (why: string) => void = () => undefined;
    const interrupted = new Promise<string>((resolve) => (stopWaiting = resolve));
    const onAbort = (): void => stopWaiting("aborted before the ack");
    const onDisconnect = (): void => stopWaiting("disconnected before the ack");
    signal.addEventListener("abort", onAbort, { once: true });
    this.#onDisconnect.add(onDisconnect);
    try {
      return await Promise.all(pending.map((p, i) => Promise.race([p, interrupted]).then((o): SendOutcome =>
        typeof o === "string" ? { type: "retry", id: batch[i]?.id ?? "", error: o } : o)));
    } finally {
      signal.removeEventListener("abort", onAbort);
      this.#onDisconnect.delete(onDisconnect);
    }
  }

  #publish(m: OutgoingMessage): Promise<SendOutcome> {
    try {
      return this.#js.publish(m.subject, m.data, { msgID: m.id, timeout: this.#ackTimeoutMs }).then(
        (_ack: PubAck): SendOutcome => ({ type: "sent", id: m.id }),
        (err: unknown) => classify(m.id, err),
      );
    } catch (err) {
      return Promise.resolve(classify(m.id, err));
    }
  }

  async reachable(signal: AbortSignal): Promise<boolean> {
    if (!this.#connected || this.nc.isClosed() || signal.aborted) return false;
    try {
      const reply = await this.nc.request(this.#probeSubject, new Uint8Array(0), { timeout: PROBE_TIMEOUT_MS });
      const body = reply.json<{ error?: { code?: number; err_code?: number; description?: string }; cluster?: { leader?: string } }>();
      // A replicated stream answers INFO from its last known config before it has elected a leader
      // (after the whole root restarted): a publish then waits out its ack timeout. Not yet.
      if (body.error === undefined && body.cluster !== undefined && (body.cluster.leader ?? "") === "") return false;
      if (body.error === undefined) {
        this.#lastComplaint = undefined;
        return true;
      }
      this.#complain(`the root answers but: ${body.error.description ?? "error"} (JetStream ${body.error.err_code ?? body.error.code ?? "?"})`);
      return false;
    } catch (err) {
      // 503 (no route to the root) or a timeout: simply not reachable now.
      if (!(err instanceof NatsError)) this.#complain(`probe failed: ${err instanceof Error ? err.message : String(err)}`);
      return false;
    }
  }

  #complain(what: string): void {
    if (what === this.#lastComplaint) return;
    this.#lastComplaint = what;
    this.opts.logger.warn({ subject: this.#probeSubject }, what);
  }

  async #watch(): Promise<void> {
    try {
      for await (const s of this.nc.status()) {
        if (s.type === Events.Disconnect) {
          this.#connected = false;
          for (const f of [...this.#onDisconnect]) f();
        } else if (s.type === Events.Reconnect) this.#connected = true;
      }
    } catch (err) {
      this.opts.logger.error({ err }, "NATS status iterator failed");
    }
  }

  /** Close the connection (sends in flight end as `retry`). Idempotent. */
  async close(): Promise<void> {
    if (!this.nc.isClosed()) await this.nc.close();
    await this.nc.closed();
  }
}

function dial(opts: JetStreamPublisherOptions): Promise<NatsConnection> {
  return connect({
    servers: [...opts.servers],
    name: opts.name,
    ...(opts.user === undefined ? {} : { user: opts.user }),
    ...(opts.pass === undefined ? {} : { pass: opts.pass }),
    reconnect: true,
    maxReconnectAttempts: -1,
    reconnectTimeWait: RECONNECT_WAIT_MS,
    timeout: CONNECT_TIMEOUT_MS,
    pingInterval: PING_INTERVAL_MS,
    maxPingOut: MAX_PINGS_OUT,
    waitOnFirstConnect: false,
  });
}
