/**
 * Which envelopes leave a node, on which subject, and which subjects a node listens to (seed 000
 * subject scheme, abi/subjects.ts). Rules are data: the bridge applies them, first match wins. A
 * command that carries `headers.reply_to` (a bus request) goes out as a transport request and its
 * reply comes back to the requester (bridge-requests.ts); any other match is published.
 *
 *   member  out: commands with headers.target = H or "hub" → ada.hub.{H}.req.<event_name>  (only when it knows H)
 *               telemetry.*  events      → telemetry.{self}.<rest>
 *               every other   event       → ada.agent.{self}.evt
 *           in:  ada.agent.{self}.cmd, ada.hub.{H}.broadcast.>  (hub "*" when the member does not know H)
 *   hub     out: commands with headers.target = T (not self, not "hub") → ada.agent.{T}.cmd
 *               events matching `broadcast`       → ada.hub.{self}.broadcast.<event_name>
 *           in:  ada.agent.*.evt, telemetry.>, ada.hub.{self}.req.>
 *
 * The hub's id is needed on the member side because the hub's brokers let a member publish only on
 * `ada.hub.{H}.req.>` with the real H (agent/broker/policy.ts, agent/natsd/permissions.ts).
 */
import type { Envelope, EnvelopeKind } from "../../abi/envelope.js";
import { HEADER } from "../../abi/envelope.js";
import { agentCmd, agentEvt, hubSubject, telemetrySubject } from "../../abi/subjects.js";

/** `headers.target` that means "the hub of this subnet" on every node, whatever its id. */
export const HUB_ALIAS = "hub";

export interface OutboundRule {
  /** Bus pattern on event_name (`*` one token, `>` the rest). */
  readonly events: string;
  readonly kinds: readonly EnvelopeKind[];
  /** The wire subject, or undefined to keep the envelope local after all. */
  readonly subject: (envelope: Envelope) => string | undefined;
}

export interface BridgeRoutes {
  readonly outbound: readonly OutboundRule[];
  /** Transport patterns whose envelopes are published on the local bus (requests among them are answered). */
  readonly inbound: readonly string[];
}

/** Events that describe this node's own links never leave it (they would describe the wrong link). */
const LOCAL_ONLY = ["link.>"];

/** `hubId` null: the member does not know its hub's id, so it hears any hub's broadcasts and sends the hub no commands. */
export function memberRoutes(self: string, hubId: string | null = null): BridgeRoutes {
  const toHub: OutboundRule[] = hubId === null ? [] : [{
    events: ">",
    kinds: ["command"],
    subject: (e) => {
      const target = e.headers[HEADER.target];
      return target === hubId || target === HUB_ALIAS ? hubSubject(hubId, "req", e.event_name) : undefined;
    },
  }];
  return {
    outbound: [
      ...toHub,
      ...LOCAL_ONLY.map((events): OutboundRule => ({ events, kinds: ["event"], subject: () => undefined })),
      { events: "telemetry.>", kinds: ["event"], subject: (e) => telemetrySubject(self, e.event_name.slice("telemetry.".length)) },
      { events: ">", kinds: ["event"], subject: () => agentEvt(self) },
    ],
    // hubSubject() refuses a wildcard id; "any hub" is spelled out.
    inbound: [agentCmd(self), hubId === null ? "ada.hub.*.broadcast.>" : hubSubject(hubId, "broadcast", ">")],
  };
}

export function hubRoutes(self: string, broadcast: readonly string[]): BridgeRoutes {
  return {
    outbound: [
      {
        events: ">",
        kinds: ["command"],
        subject: (e) => {
          const target = e.headers[HEADER.target];
          return target === undefined || target === self || target === HUB_ALIAS ? undefined : agentCmd(target);
        },
      },
      ...LOCAL_ONLY.map((events): OutboundRule => ({ events, kinds: ["event"], subject: () => undefined })),
      ...broadcast.map((events): OutboundRule => ({ events, kinds: ["event"], subject: (e) => hubSubject(self, "broadcast", e.event_name) })),
    ],
    inbound: ["ada.agent.*.evt", "telemetry.>", hubSubject(self, "req", ">")],
  };
}

/** The node id an envelope's source names: `agent://<role>/<id>` or `<component>@<id>`. */
export function originNode(source: string): string | undefined {
  const agent = /^agent:\/\/[^/]+\/([^/]+)$/.exec(source);
  if (agent) return agent[1];
  const at = source.lastIndexOf("@");
  return at >= 0 && at < source.length - 1 ? source.slice(at + 1) : undefined;
}
