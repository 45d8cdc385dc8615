/**
 * Broker subscriptions of the MQTT adapter: one per topic filter, shared by the local
 * subscriptions on it (counted), each resolved when the broker acknowledges it.
 *
 * mqtt.js fails a SUBSCRIBE that is not acknowledged when the connection closes, and one sent
 * before the first CONNACK is never resubscribed; so a filter is sent while connected, and again
 * after a drop, until the broker acknowledges it. `resubscribe: true` makes mqtt.js send it even
 * when it already remembers the filter (it resubscribes remembered filters itself on reconnect).
 */
import type { ISubscriptionMap, MqttClient } from "mqtt";
import { TransportClosedError, UnauthorizedError } from "../core/errors.js";
import type { Logger } from "../core/logger.js";

/** SUBACK return code for a refused subscription [MQTT-3.9.3]. */
const SUBACK_FAILURE = 128;

function isRefusal(err: unknown): boolean {
  const e = err as { code?: unknown; message?: unknown };
  return e.code === SUBACK_FAILURE || (typeof e.message === "string" && e.message.startsWith("Subscribe error"));
}

export interface FilterLink {
  /** The client; throws when the transport is closed. */
  client(): MqttClient;
  readonly qos: 0 | 1;
  readonly logger: Logger;
}

export class MqttFilters {
  readonly #filters = new Map<string, { count: number; ready: Promise<void> }>();
  #connectWaiters: { resolve: () => void; reject: (err: Error) => void }[] = [];

  constructor(private readonly link: FilterLink) {}

  /** Count a local subscription on `filter` in; resolves once the broker has the filter. */
  async acquire(filter: string): Promise<void> {
    const entry = this.#filters.get(filter);
    if (entry !== undefined) {
      entry.count++;
      return entry.ready;
    }
    const ready = this.#subscribeUntilAcked(filter);
    this.#filters.set(filter, { count: 1, ready });
    try {
      await ready;
    } catch (err) {
      this.#filters.delete(filter);
      throw err;
    }
  }

  /** Count one out; the last one unsubscribes at the broker (unless the link is closing). */
  release(filter: string, closing: boolean): void {
    const entry = this.#filters.get(filter);
    if (entry === undefined || --entry.count > 0) return;
    this.#filters.delete(filter);
    if (!closing) this.link.client().unsubscribe(filter);
  }

  /** Call on every CONNACK: subscriptions waiting for a connection go ahead. */
  connected(): void {
    const waiters = this.#connectWaiters;
    this.#connectWaiters = [];
    for (const w of waiters) w.resolve();
  }

  /** Call when the transport closes: subscriptions still waiting fail. */
  closed(): void {
    for (const w of this.#connectWaiters) w.reject(new TransportClosedError("the MQTT transport closed before the subscription was made"));
    this.#connectWaiters = [];
  }

  async #subscribeUntilAcked(filter: string): Promise<void> {
    for (;;) {
      const client = this.link.client();
      if (!client.connected) await new Promise<void>((resolve, reject) => this.#connectWaiters.push({ resolve, reject }));
      const request = { [filter]: { qos: this.link.qos } } as ISubscriptionMap;
      request.resubscribe = true;
      let granted: { qos: number }[];
      try {
        granted = await client.subscribeAsync(request);
      } catch (err) {
        // mqtt.js 5 rejects with "Subscribe error: …" when the SUBACK refuses (0x80): that is an
        // answer, not a lost packet, so it must not be retried.
        if (isRefusal(err)) {
          throw new UnauthorizedError(`the MQTT broker refused the subscription to ${filter}`, { cause: err });
        }
        this.link.logger.debug({ err, filter }, "MQTT subscribe not acknowledged; retrying once connected");
        continue;
      }
      if (granted.some((g) => g.qos === SUBACK_FAILURE)) throw new UnauthorizedError(`the MQTT broker refused the subscription to ${filter}`);
      return;
    }
  }
}
