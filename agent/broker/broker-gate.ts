/**
 * The aedes hooks of the hub's broker: authenticate (authenticator.ts), authorize every publish
 * and subscribe (policy.ts), the size limit, and the metrics and per-peer logs of all refusals.
 *
 * A refused SUBSCRIBE is negated: SUBACK carries 128 for it [MQTT-3.9.3] and the connection stays.
 * A refused PUBLISH cannot be reported in MQTT 3.1.1; the server either acknowledges and drops it
 * or closes the connection [MQTT-3.3.5-2]. aedes only offers "error → close", which would make a
 * member's client resend the message after every reconnect, forever; so the gate acknowledges and
 * drops it instead: the packet is re-addressed to DENIED_TOPIC (emptied, not retained), which no
 * one may subscribe to and authorizeForward never forwards.
 */
import type { AedesOptions, AedesPublishPacket, Client, PublishPacket, Subscription } from "aedes";
import type { Clock } from "../core/clock.js";
import type { Logger } from "../core/logger.js";
import type { Counter, MetricsRegistry } from "../core/metrics.js";
import { authenticate, type AuthenticatorOptions } from "./authenticator.js";
import { PeerLog } from "./peer-log.js";
import { compileRules, mayPublish, maySubscribe, type Rules } from "./policy.js";

/** Where refused publishes go: nobody hears this topic. */
export const DENIED_TOPIC = "$adaos/denied";
/** CONNACK "server unavailable": the credentials store failed, not the client. */
const SERVER_UNAVAILABLE = 3;
/** Topics and messages quoted in logs are cut to this length. */
const QUOTE_MAX = 200;
const EMPTY = Buffer.alloc(0);

export interface GateOptions extends AuthenticatorOptions {
  readonly maxMessageBytes: number;
  readonly logger: Logger;
  readonly metrics: MetricsRegistry;
  readonly clock: Clock;
}

export interface Session {
  readonly rules: Rules;
  /** The credential's serial (credentials-store.ts); undefined for the hub and the subnet token. */
  readonly serial: number | undefined;
}

type Hooks = Required<Pick<AedesOptions, "authenticate" | "authorizePublish" | "authorizeSubscribe" | "authorizeForward">>;

export class BrokerGate {
  /** Weak: aedes still authorizes a client's will after its socket has closed. */
  readonly #sessions = new WeakMap<Client, Session>();
  readonly #addresses = new WeakMap<Client, string>();
  /** Clients whose CONNECT was refused: aedes reports that once more as a client error. */
  readonly #refused = new WeakSet<Client>();
  readonly #tokenLogged = new Set<string>();
  readonly #peerLog: PeerLog;
  readonly #authFailures: Counter;
  readonly #denied: Counter;
  readonly #dropped: Counter;
  readonly #clientErrors: Counter;

  constructor(private readonly opts: GateOptions) {
    this.#peerLog = new PeerLog(opts.logger, opts.clock);
    this.#authFailures = opts.metrics.counter("adaos_broker_auth_failures_total", "MQTT connections refused at CONNECT, by reason.");
    this.#denied = opts.metrics.counter("adaos_broker_denied_total", "MQTT publishes and subscriptions refused by the topic policy, by action.");
    this.#dropped = opts.metrics.counter("adaos_broker_dropped_total", "MQTT messages dropped (oversized) or connections closed for a packet over the frame limit, by reason.");
    this.#clientErrors = opts.metrics.counter("adaos_broker_client_errors_total", "MQTT connections closed by an error (malformed packets, timeouts, resets), by stage.");
  }

  readonly hooks: Hooks = {
    authenticate: (client, username, password, done) => {
      authenticate(this.opts, client.id, username, password).then(
        (result) => {
          if (result.ok) {
            const { identity } = result;
            this.#sessions.set(client, { rules: compileRules(this.opts.hubId, { identity, clientId: client.id }), serial: result.serial });
            if (identity.via === "subnet-token" && !this.#tokenLogged.has(identity.nodeId)) {
              this.#tokenLogged.add(identity.nodeId);
              this.opts.logger.info({ node: identity.nodeId, clientId: client.id, peer: this.#address(client) },
                `node ${identity.nodeId} joined with the shared subnet token (first-setup mode); give it its own credential: adaos-edge nodes add ${identity.nodeId}`);
            }
            return done(null, true);
          }
          this.#refuse(client, result.reason, result.message);
          done(Object.assign(new Error(result.message), { returnCode: result.returnCode }), false);
        },
        (err: unknown) => {
          this.opts.logger.error({ err, clientId: client.id }, "MQTT authentication failed inside the hub");
          this.#refuse(client, "internal", "the credentials store failed");
          done(Object.assign(new Error("server unavailable"), { returnCode: SERVER_UNAVAILABLE }), false);
        },
      );
    },

    authorizePublish: (client, packet, done) => {
      const session = client === null ? undefined : this.#sessions.get(client);
      if (client === null || session === undefined) return done(sink(packet)); // a will of a client gone before it was known
      const size = typeof packet.payload === "string" ? Buffer.byteLength(packet.payload) : packet.payload.length;
      if (size > this.opts.maxMessageBytes) {
        this.#dropped.inc({ reason: "oversized" });
        this.#warn(client, { topic: quote(packet.topic), bytes: size, limit: this.opts.maxMessageBytes }, "MQTT message over the size limit dropped");
        return done(sink(packet));
      }
      const decision = mayPublish(session.rules, packet.topic);
      if (decision.allowed) return done(null);
      this.#denied.inc({ action: "publish" });
      this.#warn(client, { topic: quote(packet.topic), reason: decision.reason }, "MQTT publish refused by the topic policy (acknowledged and dropped)");
      done(sink(packet));
    },

    authorizeSubscribe: (client, sub: Subscription, done) => {
      const session = this.#sessions.get(client);
      const decision = session === undefined ? { allowed: false as const, reason: "not authenticated" } : maySubscribe(session.rules, sub.topic);
      if (decision.allowed) return done(null, sub);
      this.#denied.inc({ action: "subscribe" });
      this.#warn(client, { filter: quote(sub.topic), reason: decision.reason }, "MQTT subscription refused by the topic policy");
      done(null, null);
    },

    authorizeForward: (_client, packet: AedesPublishPacket) => (packet.topic === DENIED_TOPIC ? null : packet),
  };

  /** A new connection from `address` (its IP: the key of its logs until it has authenticated). */
  attach(client: Client, address: string): void {
    this.#addresses.set(client, address);
  }

  session(client: Client): Session | undefined {
    return this.#sessions.get(client);
  }

  /** aedes' clientError / connectionError: the connection is already being closed. */
  onClientError(client: Client, err: Error, stage: "connection" | "client"): void {
    if (this.#refused.has(client)) return;
    this.#clientErrors.inc({ stage });
    this.#warn(client, { err: quote(err.message), clientId: client.id ?? undefined }, "MQTT connection closed after an error");
  }

  /** frame-guard.ts closed a connection. */
  onFrameRefused(address: string, length: number): void {
    this.#dropped.inc({ reason: "frame_too_large" });
    this.#peerLog.warn(`addr:${address}`, { announced: length }, "MQTT connection closed: it sent a packet over the frame limit (or a malformed length)");
  }

  #refuse(client: Client, reason: string, message: string): void {
    this.#refused.add(client);
    this.#authFailures.inc({ reason });
    this.#peerLog.warn(`addr:${this.#address(client)}`, { clientId: quote(client.id ?? ""), reason }, `MQTT connection refused: ${message}`);
  }

  /** Per-peer key: the node once authenticated, else the remote address. */
  #warn(client: Client, fields: Record<string, unknown>, msg: string): void {
    const session = this.#sessions.get(client);
    const key = session === undefined ? `addr:${this.#address(client)}` : `node:${session.rules.peer.identity.nodeId}`;
    this.#peerLog.warn(key, session === undefined ? fields : { ...fields, node: session.rules.peer.identity.nodeId }, msg);
  }

  #address(client: Client): string {
    return this.#addresses.get(client) ?? "unknown";
  }
}

/** Re-address a refused publish to the topic nobody hears; returns null for aedes' callback. */
function sink(packet: PublishPacket): null {
  packet.topic = DENIED_TOPIC;
  packet.payload = EMPTY;
  packet.retain = false;
  return null;
}

function quote(text: string): string {
  return text.length > QUOTE_MAX ? `${text.slice(0, QUOTE_MAX)}…` : text;
}
