/**
 * Start components in order and stop them in reverse. A failed start stops what had started,
 * then rethrows; stop() never throws and logs each component that fails to stop.
 */
import type { Logger } from "../core/logger.js";
import type { Component } from "../core/component.js";

export class Lifecycle {
  readonly #started: Component[] = [];

  constructor(private readonly components: readonly Component[], private readonly logger: Logger) {}

  async start(signal: AbortSignal): Promise<void> {
    for (const c of this.components) {
      if (signal.aborted) break;
      const t0 = performance.now();
      try {
        await c.start(signal);
      } catch (err) {
        await this.stop();
        throw err;
      }
      this.#started.push(c);
      this.logger.debug({ component: c.name, ms: Math.round(performance.now() - t0) }, "started");
    }
    if (signal.aborted) {
      await this.stop();
      throw signal.reason instanceof Error ? signal.reason : new Error("start aborted");
    }
  }

  async stop(): Promise<void> {
    while (this.#started.length > 0) {
      const c = this.#started.pop() as Component;
      try {
        await c.stop();
        this.logger.debug({ component: c.name }, "stopped");
      } catch (err) {
        this.logger.error({ err, component: c.name }, "component failed to stop cleanly");
      }
    }
  }
}
