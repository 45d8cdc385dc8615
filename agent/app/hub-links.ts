/**
 * What only a hub runs: the embedded MQTT broker (always), the supervised nats-server (when the
 * binary is there), and the hub's own links to both, bridged to its bus. Members reach the hub on
 * either broker; the hub publishes to both and the bus's dedup window absorbs an envelope that
 * arrives twice.
 */
import { MqttBroker } from "../broker/mqtt-broker.js";
import { CredentialsStore } from "../broker/credentials-store.js";
import { clientIdFor } from "../broker/policy.js";
import { hubRoutes } from "../bridge/routes.js";
import type { Component } from "../core/component.js";
import { componentLogger } from "../core/logger.js";
import { hubNatsConfig } from "../natsd/config-writer.js";
import { NatsdSupervisor } from "../natsd/supervisor.js";
import { hubUsers, randomSecret, type MemberKey } from "../natsd/users.js";
import { NatsUsersWatch } from "../natsd/users-watch.js";
import { MqttTransport } from "../transport/mqtt.js";
import { NatsTransport } from "../transport/nats.js";
import { Uplink } from "../outbox/uplink.js";
import { invalidToDlq } from "../outbox/invalid-to-dlq.js";
import { AnswerCache } from "../bridge/answer-cache.js";
import { HubDirectory } from "../directory/hub-directory.js";
import { connzSource } from "../directory/connz-source.js";
import { LinkPresence } from "../directory/link-presence.js";
import { LinkedBridge } from "./linked-bridge.js";
import type { RoleDeps, RoleParts } from "./role.js";
import { hasRoot, RootLink, type RootRoute } from "./root-link.js";

export type HubLinkDeps = RoleDeps;

/** Loopback address for the hub's own clients when a broker listens on every interface. */
function localHost(host: string): string {
  return ["0.0.0.0", "::", ""].includes(host) ? "127.0.0.1" : host;
}

export function hubComponents(deps: HubLinkDeps): RoleParts {
  const { config, bus, catalog, metrics, clock, store } = deps;
  const hubId = config.node_id;
  const broker = new MqttBroker({
    host: config.mqtt.host,
    port: config.mqtt.port,
    hubId,
    dataDir: config.data_dir,
    subnetToken: deps.token,
    logger: componentLogger(deps.logger, "broker"),
    metrics,
    clock,
  });

  const hubPassword = randomSecret();
  const natsUsersOf = (members: readonly MemberKey[]) => hubUsers({ hubId, hubPassword, token: deps.token, members });
  const credentials = CredentialsStore.open(config.data_dir, clock);
  const natsUsers = natsUsersOf(credentials.activeMembers());
  credentials.close();
  const natsd = new NatsdSupervisor(
    { bin: config.nats.server_bin, server: hubNatsConfig(config, natsUsers) },
    { logger: componentLogger(deps.logger, "natsd"), metrics, clock },
  );
  const natsUsersWatch = new NatsUsersWatch({
    open: () => CredentialsStore.open(config.data_dir, clock), usersOf: natsUsersOf, initial: natsUsers,
    reload: (users) => natsd.reload(users), logger: componentLogger(deps.logger, "natsd"), clock,
  });

  // Members keep the subnet's directory from the hub's snapshots.
  const routes = hubRoutes(hubId, ["net.subnet.directory.snapshot"]);
  const linkLogger = componentLogger(deps.logger, "link");
  const onInvalid = invalidToDlq(store.dlq, linkLogger);
  // One for both bridges: a member's request resent on its other link gets the first answer.
  const answers = new AnswerCache(clock);
  const mqttLink = new LinkedBridge({
    name: "hub-link:mqtt",
    makeTransport: () => {
      const { username, password } = broker.hubLogin;
      const port = new URL(broker.url).port;
      return new MqttTransport({
        url: `mqtt://${encodeURIComponent(username)}:${encodeURIComponent(password)}@${localHost(config.mqtt.host)}:${port}`,
        clientId: clientIdFor(hubId, "agent"),
        catalog, logger: linkLogger, metrics, onInvalid,
      });
    },
    bus, nodeId: hubId, routes, logger: linkLogger, metrics, inbox: store.inbox,
    requestTimeoutMs: config.bus.request_timeout_ms, catalog, answers,
  });
  const natsLink = new LinkedBridge({
    name: "hub-link:nats",
    makeTransport: () => {
      if (natsd.state?.type !== "up") return undefined; // no nats-server here: members use MQTT
      return new NatsTransport({ servers: natsd.url, user: hubId, pass: hubPassword, name: `${hubId}-agent`, catalog, logger: linkLogger, metrics, onInvalid });
    },
    bus, nodeId: hubId, routes, logger: linkLogger, metrics, inbox: store.inbox,
    requestTimeoutMs: config.bus.request_timeout_ms, catalog, answers,
  });

  const rootLogger = componentLogger(deps.logger, "root");
  const route = (): RootRoute | undefined => {
    const login = { ...(config.root.user === null ? {} : { user: config.root.user }), ...(config.root.password === null ? {} : { pass: config.root.password }) };
    // Through the leaf when this hub's nats-server is one; the server then holds the root login.
    if (config.root.leaf_urls.length > 0 && natsd.state?.type === "up") return { servers: [natsd.url], user: hubId, pass: hubPassword, via: "leaf" };
    if (config.root.urls.length > 0) return { servers: config.root.urls, ...login, via: "direct" };
    if (config.root.leaf_urls.length > 0) rootLogger.error("root.leaf_urls is set but this hub's nats-server is not running, and there are no root.urls: the outbox keeps everything until a restart fixes it");
    return undefined;
  };
  const rootLink = new RootLink({ config, route, bus, store, catalog, logger: rootLogger, metrics, clock });
  const heartbeatMs = config.directory.heartbeat_ms;
  const directory = new HubDirectory({
    hubId, dataDir: config.data_dir, bus, clock, logger: componentLogger(deps.logger, "directory"),
    ttlMs: config.directory.ttl_ms ?? 3 * heartbeatMs, snapshotMs: config.directory.snapshot_ms,
    announceTimeoutMs: config.bus.request_timeout_ms, metrics,
  });
  // A member whose connection is gone from both brokers is offline at once, not a TTL later.
  const presenceLogger = componentLogger(deps.logger, "directory");
  const linkPresence = new LinkPresence({
    sources: [
      { name: "mqtt", watch: (onNodes) => broker.watchNodes(onNodes) },
      connzSource({
        monitorUrl: `http://127.0.0.1:${config.nats.monitor_port}`, hubId, clock, logger: presenceLogger,
        active: () => natsd.state?.type === "up",
      }),
    ],
    clock, logger: presenceLogger, onGone: (nodeId) => directory.linkGone(nodeId),
  });
  const components: Component[] = [broker, natsd, natsUsersWatch, mqttLink, natsLink, directory, linkPresence];
  if (hasRoot(config)) {
    components.push(new Uplink({ bus, outbox: store.outbox, hubId, patterns: config.outbox.uplink, logger: rootLogger, metrics }));
  }
  components.push(rootLink);
  return { components, relayStatus: () => rootLink.status(), subnet: { reader: directory, writer: directory } };
}
