/**
 * Which members are connected to the hub's nats-server, read from its monitoring endpoint
 * (`/connz`, loopback only) every `everyMs`. Our agents name their NATS connection
 * `<node_id>-agent`; the hub's own connections are left out. While the endpoint does not answer
 * (nats-server restarting, or not running here) nothing is reported, so a monitor hiccup never
 * marks anyone offline; their TTL still does.
 */
import type { Clock, TimerHandle } from "../core/clock.js";
import type { Logger } from "../core/logger.js";
import type { PresenceSource } from "./link-presence.js";

const AGENT_NAME = /^([a-z0-9][a-z0-9_-]{0,62})-agent$/;

export interface ConnzSourceOptions {
  /** e.g. http://127.0.0.1:8222 */
  readonly monitorUrl: string;
  readonly hubId: string;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Default 500 ms. */
  readonly everyMs?: number;
  /** Whether the nats-server is meant to be up (skip polling otherwise). */
  readonly active?: () => boolean;
}

/** Node ids in a /connz answer. */
export function nodesInConnz(body: unknown, hubId: string): Set<string> {
  const nodes = new Set<string>();
  const conns = (body as { connections?: unknown } | null)?.connections;
  if (!Array.isArray(conns)) return nodes;
  for (const c of conns) {
    const name = (c as { name?: unknown } | null)?.name;
    const m = typeof name === "string" ? AGENT_NAME.exec(name) : null;
    if (m?.[1] !== undefined && m[1] !== hubId) nodes.add(m[1]);
  }
  return nodes;
}

export function connzSource(opts: ConnzSourceOptions): PresenceSource {
  return {
    name: "nats",
    watch(onNodes) {
      let timer: TimerHandle | undefined;
      let stopped = false;
      let failing = false;
      let inFlight: Promise<void> | undefined;
      const poll = async (): Promise<void> => {
        if (opts.active !== undefined && !opts.active()) return;
        try {
          const res = await fetch(`${opts.monitorUrl}/connz?limit=4096`, { signal: AbortSignal.timeout(1000) });
          if (!res.ok) throw new Error(`HTTP ${res.status}`);
          const nodes = nodesInConnz(await res.json(), opts.hubId);
          if (failing) opts.logger.info("nats-server monitoring answers again");
          failing = false;
          if (!stopped) onNodes(nodes);
        } catch (err) {
          if (!failing) opts.logger.debug({ err }, "nats-server monitoring did not answer; NATS presence waits");
          failing = true;
        }
      };
      const tick = (): void => {
        inFlight = poll().finally(() => {
          if (!stopped) timer = opts.clock.setTimer(tick, opts.everyMs ?? 500);
        });
      };
      tick();
      return {
        stop: async () => {
          stopped = true;
          timer?.cancel();
          await inFlight;
        },
      };
    },
  };
}
