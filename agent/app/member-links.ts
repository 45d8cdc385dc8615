/**
 * What only a member runs: its link to the hub, bridged to its bus. The hub URLs come in order of
 * preference (`--hub nats://H:4222,mqtt://H:1883`): NATS first, MQTT as the fallback (see
 * link/failover-transport.ts). The member logs in as its node id with its own secret (hub.password;
 * over NATS an NKey seed from `nodes add` signs the login instead) or, in first-setup mode, the
 * shared subnet token.
 */
import { isUserSeed } from "../broker/node-key.js";
import { clientIdFor } from "../broker/policy.js";
import { memberRoutes } from "../bridge/routes.js";
import { componentLogger, type Logger } from "../core/logger.js";
import { MqttTransport } from "../transport/mqtt.js";
import { NatsTransport } from "../transport/nats.js";
import type { Transport } from "../transport/transport.js";
import { FailoverTransport } from "../link/failover-transport.js";
import { parseHubUrls } from "../link/hub-urls.js";
import { hubCandidates } from "../link/link.js";
import { LinkEvents } from "../link/link-events.js";
import { invalidToDlq } from "../outbox/invalid-to-dlq.js";
import { Relay } from "../outbox/relay.js";
import { TransportPublisher } from "../outbox/transport-publisher.js";
import { SnapshotCache } from "../directory/snapshot-cache.js";
import { MemberHubLink } from "./member-hub-link.js";
import type { RoleDeps, RoleParts } from "./role.js";
import { relayTuning } from "./store-and-forward.js";

export type MemberLinkDeps = RoleDeps;

/** One transport for one hub URL, logged in as this member. */
export function memberTransport(url: string, deps: MemberLinkDeps, logger: Logger): Transport {
  const { config, catalog, metrics } = deps;
  const onInvalid = invalidToDlq(deps.store.dlq, logger);
  const password = config.hub.password ?? deps.token;
  const parsed = new URL(url);
  if (parsed.protocol === "nats:") {
    const login = isUserSeed(password) ? { nkeySeed: password } : { user: config.node_id, pass: password };
    return new NatsTransport({ servers: `nats://${parsed.host}`, ...login, name: `${config.node_id}-agent`, catalog, logger, metrics, onInvalid });
  }
  return new MqttTransport({
    url: `mqtt://${encodeURIComponent(config.node_id)}:${encodeURIComponent(password)}@${parsed.host}`,
    clientId: clientIdFor(config.node_id, "agent"),
    catalog, logger, metrics, onInvalid,
  });
}

export function memberComponents(deps: MemberLinkDeps): RoleParts {
  const { config, bus, metrics, clock, store } = deps;
  const logger = componentLogger(deps.logger, "link");
  if (config.hub.urls.length === 0) {
    logger.warn("no hub configured (hub.urls / --hub): this member runs alone");
    const snapshot = new SnapshotCache(bus);
    return { components: [snapshot], subnet: { reader: snapshot } };
  }
  const transport = new FailoverTransport({
    candidates: hubCandidates(parseHubUrls(config.hub.urls), (u) => memberTransport(u.url, deps, logger)),
    logger, metrics, clock,
  });
  // Outbound events go to the outbox first; the relay sends them over whichever link is up and
  // deletes them once the hub's broker has them, so a member cut off from its hub loses nothing.
  const relay = new Relay({
    name: "hub",
    outbox: store.outbox,
    publisher: new TransportPublisher(transport),
    ...relayTuning(config),
    clock,
    logger,
    metrics,
  });
  const link = new MemberHubLink({
    transport, bus, nodeId: config.node_id, routes: memberRoutes(config.node_id, config.hub.id), logger, metrics,
    requestTimeoutMs: config.bus.request_timeout_ms, catalog: deps.catalog,
    send: (subject, envelope) => store.outbox.enqueue(subject, envelope),
    inbox: store.inbox,
  });
  const snapshot = new SnapshotCache(bus);
  return {
    components: [new LinkEvents({ link: transport, bus, nodeId: config.node_id, logger }), snapshot, link, relay],
    relayStatus: () => ({ ...relay.status() }),
    subnet: { reader: snapshot },
  };
}
