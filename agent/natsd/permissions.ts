/**
 * What each role may publish and subscribe on the hub's nats-server, in the seed subject scheme
 * (abi/subjects.ts; ARCHITECTURE.md "Subjects"). The MQTT broker's authorizePublish/Subscribe
 * (issue 3, item 3) follows the same table.
 *
 * A member:
 *   publishes   its own events `ada.agent.<self>.evt`, its telemetry `telemetry.<self>.>`,
 *               requests to its hub `ada.hub.<hubId>.req.>`, replies `_INBOX.>`;
 *   subscribes  its own commands `ada.agent.<self>.cmd`, the hubs' broadcasts
 *               `ada.hub.*.broadcast.>` (only a hub may publish there, and a member that has
 *               not learnt its hub's id yet subscribes with `*`), and reply inboxes `_INBOX.>`.
 * The same rules as the MQTT broker's (agent/broker/README.md).
 * The hub: everything (it routes for the subnet and links to the root).
 *
 * Known limit: `_INBOX.>` is shared, so a member could subscribe to replies meant for another.
 * Closing it needs a per-node inbox prefix (`_INBOX.<self>.>`) in the NATS adapter.
 */
import { agentCmd, agentEvt, hubSubject, telemetrySubject } from "../../abi/subjects.js";
import type { NatsUser } from "./users.js";

export const INBOX = "_INBOX.>";

export interface SubjectRule {
  readonly allow: readonly string[];
  readonly deny?: readonly string[];
}

export interface Permissions {
  readonly publish: SubjectRule;
  readonly subscribe: SubjectRule;
}

/** The hub's broadcasts to its members: `ada.hub.<hubId>.broadcast.>`. */
export function broadcastPattern(hubId: string): string {
  return hubSubject(hubId, "broadcast", ">");
}

/** Broadcasts of any hub on this server, for members that do not know their hub's id yet. */
export const ANY_HUB_BROADCAST = "ada.hub.*.broadcast.>";

export function memberPermissions(self: string, hubId: string): Permissions {
  return {
    publish: {
      allow: [agentEvt(self), telemetrySubject(self, ">"), hubSubject(hubId, "req", ">"), INBOX],
      deny: [broadcastPattern(hubId), ANY_HUB_BROADCAST],
    },
    subscribe: { allow: [agentCmd(self), ANY_HUB_BROADCAST, INBOX] },
  };
}

/** undefined: no restriction. */
export function permissionsFor(user: NatsUser, hubId: string): Permissions | undefined {
  return user.role === "hub" ? undefined : memberPermissions(user.nodeId, hubId);
}
