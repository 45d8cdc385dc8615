/**
 * A member's round trip to its hub (issue 5 item 2, `rtt_to.hub`): every interval a
 * `net.subnet.ping` request goes to the hub over the live link and the time to its reply feeds the
 * telemetry's smoothed estimate. A ping that fails (no link, hub away) adds no sample: the last
 * estimate stays until the hub answers again, and the heartbeat says nothing new about it.
 */
import { HEADER } from "../../abi/envelope.js";
import type { Bus } from "../bus/bus.js";
import { HUB_ALIAS } from "../bridge/routes.js";
import type { Clock } from "../core/clock.js";
import { Periodic } from "../core/periodic.js";
import type { Component } from "../core/component.js";
import { createEnvelope } from "../core/envelope.js";
import type { Logger } from "../core/logger.js";

/** After an unanswered ping the next comes this soon (doubling up to the interval once the hub has answered before). */
const RETRY_FIRST_MS = 200;

export interface HubPingerOptions {
  readonly nodeId: string;
  readonly bus: Bus;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly from: string;
  readonly intervalMs: number;
  /** A measured round trip in ms. */
  readonly onSample: (ms: number) => void;
}

export class HubPinger implements Component {
  readonly name = "hub-pinger";
  #seq = 0;
  #retryMs = RETRY_FIRST_MS;
  #answered = false;
  readonly #periodic: Periodic;

  constructor(private readonly opts: HubPingerOptions) {
    this.#periodic = new Periodic(opts.clock, opts.intervalMs, () => this.#ping());
  }

  start(): Promise<void> {
    this.#periodic.start();
    return Promise.resolve();
  }

  stop(): Promise<void> {
    return this.#periodic.stop();
  }

  /** The delay to the next ping: the interval after an answer, a doubling retry (from 100 ms) after none. */
  async #ping(): Promise<number> {
    const { bus, clock, from, nodeId, intervalMs } = this.opts;
    const seq = this.#seq++;
    const t0 = performance.now();
    try {
      await bus.request(createEnvelope({
        event_name: "net.subnet.ping", version: 1, kind: "command", source: from, priority: 1,
        // A ping that waited in a queue measures the queue, not the link.
        ttl_ms: intervalMs,
        headers: { [HEADER.target]: HUB_ALIAS },
        payload: { node_id: nodeId, seq },
      }, clock), { timeoutMs: intervalMs });
      this.opts.onSample(performance.now() - t0);
      this.#retryMs = RETRY_FIRST_MS;
      this.#answered = true;
      return intervalMs;
    } catch (err) {
      this.opts.logger.debug({ err, seq }, "ping to the hub got no answer");
      // The link may just be coming up: the first rtt should not wait a whole interval.
      // Until the first answer the retry stays short; after one it doubles up to the interval.
      const wait = Math.min(this.#retryMs, intervalMs);
      if (this.#answered) this.#retryMs = Math.min(this.#retryMs * 2, intervalMs);
      return Math.max(0, wait - (performance.now() - t0));
    }
  }
}
