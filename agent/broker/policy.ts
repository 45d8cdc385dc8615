/**
 * Who may publish and subscribe what on the hub's MQTT broker: pure functions over an identity,
 * the connection's client id and an MQTT topic (decoded to a subject with abi/subjects.ts; a
 * topic no subject maps to is refused). The table is in agent/broker/README.md.
 *
 * - hub: the agent's own client; everything (except publishing `$SYS/…`, the broker's own).
 * - member: its own events, telemetry, requests to the hub (`ada.hub.{hubId}.req.>`, never other
 *   hub-local subjects), replies to the hub's inboxes and its own queue-group record; it hears its
 *   own commands, its own inbox, the hub's broadcasts and every queue-group record (the groups
 *   are elected above the broker: mqtt-groups.ts).
 * - client (a third-party device): exactly the patterns issued with its credential.
 */
import { agentCmd, agentEvt, filterToPattern, hubSubject, telemetrySubject } from "../../abi/subjects.js";
import { matches } from "../bus/subject.js";
import { PRESENCE_PREFIX } from "../transport/mqtt-groups.js";
import { subjectOf } from "../transport/names.js";

export type Role = "hub" | "member" | "client";

/** Patterns (NATS style) a `client` identity was issued; empty for the other roles. */
export interface Grants {
  readonly publish: readonly string[];
  readonly subscribe: readonly string[];
}

export interface Identity {
  readonly nodeId: string;
  readonly role: Role;
  readonly via: "credential" | "subnet-token";
  readonly grants: Grants;
}

/** One MQTT connection: who authenticated, under which client id. */
export interface Peer {
  readonly identity: Identity;
  readonly clientId: string;
}

export type Decision = { readonly allowed: true } | { readonly allowed: false; readonly reason: string };

export const NO_GRANTS: Grants = { publish: [], subscribe: [] };
/** A node id, as agent/config/schema.json defines `node_id`. */
export const NODE_ID = /^[a-z0-9][a-z0-9_-]{0,62}$/;
/** A client id is `<nodeId>` or `<nodeId>@<suffix>`: one subject token, and bound to one node. */
export const CLIENT_ID_SEPARATOR = "@";
const CLIENT_ID_SUFFIX = /^[A-Za-z0-9_-]{1,64}$/;
/** The MQTT adapter's reply subjects: `_INBOX.<clientId>.<n>` (agent/transport/mqtt-requests.ts). */
export const INBOX = "_INBOX";
const SYS_PREFIX = "$SYS/";
const ANY_HUB_BROADCAST = "ada.hub.*.broadcast";

const ALLOW: Decision = { allowed: true };
const deny = (reason: string): Decision => ({ allowed: false, reason });

/** The client id a node's connection should use (`suffix` tells its connections apart). */
export function clientIdFor(nodeId: string, suffix: string): string {
  return `${nodeId}${CLIENT_ID_SEPARATOR}${suffix}`;
}

/** Whether `clientId` is `nodeId` itself or `nodeId@<suffix>`. */
export function clientIdBelongsTo(clientId: string, nodeId: string): boolean {
  if (clientId === nodeId) return true;
  const head = nodeId + CLIENT_ID_SEPARATOR;
  return clientId.startsWith(head) && CLIENT_ID_SUFFIX.test(clientId.slice(head.length));
}

/** A peer's rules, compiled once per connection (publish is checked on every message). */
export interface Rules {
  readonly hubId: string;
  readonly peer: Peer;
  readonly publish: readonly (readonly string[])[];
  readonly subscribe: readonly (readonly string[])[];
}

export function compileRules(hubId: string, peer: Peer): Rules {
  const { identity, clientId } = peer;
  const split = (patterns: readonly string[]): string[][] => patterns.map((p) => p.split("."));
  switch (identity.role) {
    case "hub":
      return { hubId, peer, publish: [], subscribe: [] };
    case "client":
      return { hubId, peer, publish: split(identity.grants.publish), subscribe: split(identity.grants.subscribe) };
    case "member":
      return { hubId, peer, publish: split(memberPublishes(hubId, identity.nodeId)), subscribe: split(memberSubscribes(identity.nodeId, clientId)) };
  }
}

/** Whether the peer may publish on `topic` (a concrete MQTT topic, also a will's). */
export function mayPublish(rules: Rules, topic: string): Decision {
  if (topic.startsWith(SYS_PREFIX)) return deny(`${SYS_PREFIX}… is the broker's own`);
  const { identity, clientId } = rules.peer;
  if (identity.role === "hub") return ALLOW;
  if (topic.startsWith(PRESENCE_PREFIX)) {
    if (identity.role === "member" && topic === PRESENCE_PREFIX + clientId) return ALLOW;
    return deny(`only a member's own queue-group record ${PRESENCE_PREFIX}<its client id>`);
  }
  const tokens = decode(() => subjectOf(topic).tokens);
  if (tokens === undefined) return deny("the topic encodes no subject (abi/subjects.md)");
  if (rules.publish.some((p) => matches(p, tokens))) return ALLOW;
  if (identity.role === "client") return deny("not among the client's publish grants");
  if (tokens[0] === INBOX && tokens.length >= 3 && clientIdBelongsTo(tokens[1] as string, rules.hubId)) return ALLOW;
  return deny("a member publishes only its own evt and telemetry, requests to the hub and replies to the hub's inboxes");
}

/** Whether the peer may subscribe to `filter` (an MQTT topic filter). */
export function maySubscribe(rules: Rules, filter: string): Decision {
  const { identity } = rules.peer;
  if (identity.role === "hub") return ALLOW;
  if (filter.startsWith(PRESENCE_PREFIX)) {
    const rest = filter.slice(PRESENCE_PREFIX.length);
    const oneLevel = rest.length > 0 && !rest.includes("/") && (rest === "#" || rest === "+" || !/[+#]/.test(rest));
    if (identity.role === "member" && oneLevel) return ALLOW;
    return deny(`only members read the queue-group records ${PRESENCE_PREFIX}+`);
  }
  const pattern = decode(() => filterToPattern(filter));
  if (pattern === undefined) return deny("the topic filter encodes no subject pattern (abi/subjects.md)");
  const tokens = pattern.split(".");
  if (rules.subscribe.some((p) => covers(p, tokens))) return ALLOW;
  if (identity.role === "client") return deny("not covered by the client's subscribe grants");
  return deny("a member subscribes only to its own commands and inbox, and the hub's broadcasts");
}

/** What a member may publish on (besides replies to the hub's inboxes and its own record). */
export function memberPublishes(hubId: string, nodeId: string): string[] {
  return [agentEvt(nodeId), telemetrySubject(nodeId), telemetrySubject(nodeId, ">"), hubSubject(hubId, "req", ">")];
}

/**
 * What a member may subscribe to (besides the queue-group records). Broadcasts are allowed for
 * any hub id: a member that does not know its hub's id yet listens on `ada.hub.*.broadcast.>`
 * (agent/bridge/routes.ts), and on this broker only the hub can publish broadcasts anyway.
 */
export function memberSubscribes(nodeId: string, clientId: string): string[] {
  return [agentCmd(nodeId), `${INBOX}.${clientId}`, `${INBOX}.${clientId}.>`, ANY_HUB_BROADCAST, `${ANY_HUB_BROADCAST}.>`];
}

/**
 * Whether every subject `requested` matches also matches `allowed` (both NATS patterns as tokens):
 * `a.>` covers `a.b.*`; `a.*` does not cover `a.>`.
 */
export function covers(allowed: readonly string[], requested: readonly string[]): boolean {
  for (let i = 0; i < allowed.length; i++) {
    const a = allowed[i];
    if (a === ">") return requested.length > i;
    const r = requested[i];
    if (r === undefined || r === ">") return false;
    if (a !== "*" && a !== r) return false;
  }
  return allowed.length === requested.length;
}

function decode<T>(fn: () => T): T | undefined {
  try {
    return fn();
  } catch {
    return undefined;
  }
}
