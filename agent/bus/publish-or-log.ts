/**
 * Publish an event a component tells about, where a refusal (an invalid payload, a bus that is
 * stopping) must not become the component's failure: the envelope is built and published, and a
 * refusal is logged with the event name and the caller's context instead of thrown. For what a
 * component *must* deliver (commands, replies), call bus.publish and handle the error.
 */
import type { Clock } from "../core/clock.js";
import { createEnvelope, type EnvelopeInit } from "../core/envelope.js";
import type { Logger } from "../core/logger.js";
import type { Bus } from "./bus.js";

/** Whether the bus took it. */
export function publishOrLog(bus: Bus, init: EnvelopeInit<object>, clock: Clock, logger: Logger, context: object = {}): boolean {
  try {
    bus.publish(createEnvelope(init, clock));
    return true;
  } catch (err) {
    logger.error({ ...context, err, event_name: init.event_name }, `could not publish ${init.event_name}`);
    return false;
  }
}
