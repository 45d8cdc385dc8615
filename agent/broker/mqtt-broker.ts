/**
 * The hub's MQTT broker as a component: aedes on a net.Server the agent owns, with per-node
 * authentication and topic authorization (broker-gate.ts), a frame limit checked before packets
 * are buffered (frame-guard.ts), and containment: a bad client is logged (rate-limited per peer),
 * counted and disconnected, never fatal, and no other client notices.
 *
 * Credentials are read from <data_dir>/credentials.db at every CONNECT, so `adaos-edge nodes add`
 * works while the hub runs; a revoked or re-issued credential also closes the connections made
 * with the old one within REVOCATION_CHECK_MS. The agent's own client logs in with `hubLogin`.
 */
import type { EventEmitter } from "node:events";
import { createServer, type Server, type Socket } from "node:net";
import { Aedes, type Client } from "aedes";
import { systemClock, type Clock, type TimerHandle } from "../core/clock.js";
import type { Component } from "../core/component.js";
import { InternalError } from "../core/errors.js";
import type { Logger } from "../core/logger.js";
import type { Gauge, MetricsRegistry } from "../core/metrics.js";
import { DEFAULT_MAX_MESSAGE_BYTES } from "../transport/ingress.js";
import { BrokerGate } from "./broker-gate.js";
import { CredentialsStore, REVOCATION_CHECK_MS } from "./credentials-store.js";
import { guardFrames } from "./frame-guard.js";
import { listen } from "../core/listen.js";
import { generateSecret } from "./secret-hash.js";

/** A client on the LAN sends CONNECT within milliseconds of connecting; a socket that does not is dropped. */
export const CONNECT_TIMEOUT_MS = 10_000;
/** Room in a frame besides the payload: topic (≤ 64 KiB, MQTT strings are 16-bit), packet id, header. */
const FRAME_HEADROOM_BYTES = 64 * 1024 + 16;

export interface MqttBrokerOptions {
  readonly host: string;
  /** 0 picks a free port; `url` tells which. */
  readonly port: number;
  /** The hub's node id: the username of the agent's own client, and the `{hubId}` of the topic rules. */
  readonly hubId: string;
  /** Where credentials.db lives. */
  readonly dataDir: string;
  /** The shared subnet token (ADAOS_EDGE_TOKEN); undefined turns the first-setup mode off. */
  readonly subnetToken: string | undefined;
  /** Payloads above this are acknowledged and dropped (default 1 MiB). */
  readonly maxMessageBytes?: number;
  /** A packet above this closes the connection before it is buffered (default 2 × maxMessageBytes + 64 KiB). */
  readonly maxFrameBytes?: number;
  readonly revocationCheckMs?: number;
  readonly logger: Logger;
  readonly metrics: MetricsRegistry;
  readonly clock?: Clock;
}

export class MqttBroker implements Component {
  readonly name = "mqtt-broker";
  #server: Server | undefined;
  #aedes: Aedes | undefined;
  #store: CredentialsStore | undefined;
  #gate: BrokerGate | undefined;
  #sweep: TimerHandle | undefined;
  #hubSecret = "";
  readonly #live = new Set<Client>();
  readonly #nodeWatchers = new Set<(nodes: ReadonlySet<string>) => void>();
  readonly #sockets = new Set<Socket>();
  #clients: Gauge | undefined;

  constructor(private readonly opts: MqttBrokerOptions) {}

  /** mqtt://host:port as a client on this machine reaches it (a wildcard address through loopback). */
  get url(): string {
    const address = this.#server?.address();
    if (address === null || address === undefined || typeof address === "string") throw new InternalError("the MQTT broker is not listening");
    const host = address.address === "0.0.0.0" ? "127.0.0.1" : address.address === "::" ? "::1" : address.address;
    return `mqtt://${host.includes(":") ? `[${host}]` : host}:${address.port}`;
  }

  /** The login of the agent's own client (role hub: allowed everything); valid until stop(). */
  get hubLogin(): { readonly username: string; readonly password: string } {
    if (this.#server === undefined) throw new InternalError("the MQTT broker is not started");
    return { username: this.opts.hubId, password: this.#hubSecret };
  }

  async start(signal: AbortSignal): Promise<void> {
    if (this.#server !== undefined) throw new InternalError("the MQTT broker is already started");
    signal.throwIfAborted();
    const o = this.opts;
    const clock = o.clock ?? systemClock;
    const maxMessageBytes = o.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
    const maxFrameBytes = o.maxFrameBytes ?? 2 * maxMessageBytes + FRAME_HEADROOM_BYTES;
    this.#hubSecret = generateSecret();
    const store = CredentialsStore.open(o.dataDir, clock);
    const gate = new BrokerGate({ hubId: o.hubId, hubSecret: this.#hubSecret, subnetToken: o.subnetToken, credentials: store, maxMessageBytes, logger: o.logger, metrics: o.metrics, clock });
    let aedes: Aedes | undefined;
    try {
      aedes = await Aedes.createBroker({ ...gate.hooks, connectTimeout: CONNECT_TIMEOUT_MS });
      this.#watch(aedes, gate);
      const server = createServer({ noDelay: true }, (socket) => this.#accept(socket, aedes as Aedes, gate, maxFrameBytes));
      await listen(server, o.host, o.port, signal, {
        who: "the MQTT broker",
        portFlag: "--mqtt-port, mqtt.port",
        hostSetting: "mqtt.host",
        usualSuspect: "another MQTT broker such as mosquitto, or another hub",
      });
      server.on("error", (err) => o.logger.error({ err }, "MQTT server error"));
      this.#server = server;
    } catch (err) {
      if (aedes !== undefined) await closeAedes(aedes);
      store.close();
      throw err;
    }
    [this.#aedes, this.#store, this.#gate] = [aedes, store, gate];
    this.#armSweep(clock);
    o.logger.info({ url: this.url, maxMessageBytes, subnetToken: o.subnetToken !== undefined }, "MQTT broker listening");
  }

  async stop(): Promise<void> {
    const server = this.#server;
    if (server === undefined) return;
    this.#server = undefined;
    this.#sweep?.cancel();
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    if (this.#aedes !== undefined) await closeAedes(this.#aedes);
    // aedes closes the clients it knows; sockets still before or inside CONNECT are ours to close.
    for (const socket of this.#sockets) socket.destroy();
    await closed;
    this.#store?.close();
    [this.#aedes, this.#store, this.#gate] = [undefined, undefined, undefined];
    this.#live.clear();
  }

  #accept(socket: Socket, aedes: Aedes, gate: BrokerGate, maxFrameBytes: number): void {
    const address = socket.remoteAddress ?? "unknown";
    this.#sockets.add(socket);
    socket.once("close", () => this.#sockets.delete(socket));
    guardFrames(socket, maxFrameBytes, (length) => gate.onFrameRefused(address, length));
    gate.attach(aedes.handle(socket), address);
  }

  #watch(aedes: Aedes, gate: BrokerGate): void {
    const o = this.opts;
    this.#clients = o.metrics.gauge("adaos_broker_clients", "MQTT clients connected to the hub's broker.");
    this.#clients.set(0);
    const count = (): void => this.#clients?.set(aedes.connectedClients);
    aedes.on("client", (client) => (this.#live.add(client), count(), this.#nodesChanged()));
    aedes.on("clientDisconnect", (client) => (this.#live.delete(client), count(), this.#nodesChanged()));
    aedes.on("clientError", (client, err) => gate.onClientError(client, err, "client"));
    aedes.on("connectionError", (client, err) => gate.onClientError(client, err, "connection"));
    // Broker-level failures (e.g. the periodic will sweep) must never become an unhandled 'error'.
    (aedes as EventEmitter).on("error", (err: Error) => o.logger.error({ err }, "MQTT broker error"));
  }

  /** Members connected now (by node id), and again on every connect and disconnect. */
  watchNodes(onNodes: (nodes: ReadonlySet<string>) => void): { stop(): void } {
    this.#nodeWatchers.add(onNodes);
    onNodes(this.#memberNodes());
    return { stop: () => void this.#nodeWatchers.delete(onNodes) };
  }

  #memberNodes(): Set<string> {
    const nodes = new Set<string>();
    for (const client of this.#live) {
      const identity = this.#gate?.session(client)?.rules.peer.identity;
      if (identity?.role === "member") nodes.add(identity.nodeId);
    }
    return nodes;
  }

  #nodesChanged(): void {
    if (this.#nodeWatchers.size === 0) return;
    const nodes = this.#memberNodes();
    for (const w of this.#nodeWatchers) w(nodes);
  }

  #armSweep(clock: Clock): void {
    this.#sweep = clock.setTimer(() => {
      this.#closeRevoked();
      if (this.#server !== undefined) this.#armSweep(clock);
    }, this.opts.revocationCheckMs ?? REVOCATION_CHECK_MS);
  }

  /** Close connections whose credential was revoked or re-issued, and token logins of nodes that now have a credential. */
  #closeRevoked(): void {
    const store = this.#store;
    const gate = this.#gate;
    if (store === undefined || gate === undefined) return;
    let serials: Map<string, number | null>;
    try {
      serials = store.serials();
    } catch (err) {
      this.opts.logger.warn({ err }, "could not read the MQTT credentials; will try again");
      return;
    }
    for (const client of this.#live) {
      const session = gate.session(client);
      if (session === undefined || session.rules.peer.identity.role === "hub") continue;
      const { nodeId, via } = session.rules.peer.identity;
      const stale = via === "subnet-token" ? serials.has(nodeId) : serials.get(nodeId) !== session.serial;
      if (!stale) continue;
      this.opts.logger.info({ node: nodeId, clientId: client.id, via }, "closing an MQTT connection: its credential was revoked or replaced");
      client.close();
    }
  }
}

function closeAedes(aedes: Aedes): Promise<void> {
  return new Promise((resolve) => aedes.close(() => resolve()));
}
