/**
 * What a failover link reports to /metrics: which transport carries envelopes now
 * (`adaos_link_active{transport}` 1 for it, 0 for the others, all 0 while no link is up), how
 * often it switched (`adaos_link_switches_total{from,to}`), how often it went down, and how many
 * requests were sent again on a new link.
 */
import type { Counter, Gauge, MetricsRegistry } from "../core/metrics.js";
import type { TransportName } from "../transport/transport.js";

export class LinkMetrics {
  readonly #active: Gauge;
  readonly #switches: Counter;
  readonly #downs: Counter;
  readonly retries: Counter;

  constructor(metrics: MetricsRegistry, private readonly transports: readonly TransportName[]) {
    this.#active = metrics.gauge("adaos_link_active", "1 for the transport that carries this node's link to the hub, 0 for the others.");
    this.#switches = metrics.counter("adaos_link_switches_total", "Switches of the link to the hub from one transport to another.");
    this.#downs = metrics.counter("adaos_link_down_total", "Times the active link to the hub went down, by transport.");
    this.retries = metrics.counter("adaos_link_request_retries_total", "Requests sent again on a new link after a switch, by its transport.");
    this.active(undefined);
  }

  /** The transport now up and carrying envelopes, or undefined when none is. */
  active(transport: TransportName | undefined): void {
    for (const t of new Set(this.transports)) this.#active.set(t === transport ? 1 : 0, { transport: t });
  }

  switched(from: TransportName, to: TransportName): void {
    this.#switches.inc({ from, to });
  }

  down(transport: TransportName): void {
    this.#downs.inc({ transport });
  }
}
