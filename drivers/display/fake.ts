/**
 * A display that shows nothing: it records every play request and acks at once, for tests of
 * the layers above (plan steps, the resolver, the agent's wiring). It keeps the same rules as the
 * real drivers: requests are checked, and play() before start() or after stop() rejects.
 */
import type { DriverCapability, DriverContext, DriverHealth } from "../../abi/driver.js";
import { HealthState } from "../shared/health.js";
import { DISPLAY_CAPABILITY, admitPlay, type DisplayDriver, type PlayAck, type PlayRequest } from "./display.js";

export const FAKE_INPUTS: readonly string[] = ["webm", "mp4"];

export interface FakeOptions {
  readonly inputs?: readonly string[];
}

export class FakeDisplay implements DisplayDriver {
  readonly name = "display";
  readonly capabilities: readonly DriverCapability[];
  /** Every request play() accepted, oldest first. */
  readonly plays: PlayRequest[] = [];
  readonly #health: HealthState;

  constructor(options: FakeOptions, ctx: DriverContext) {
    this.capabilities = [{ id: DISPLAY_CAPABILITY, inputs: [...(options.inputs ?? FAKE_INPUTS)] }];
    this.#health = new HealthState(ctx.now ?? Date.now);
  }

  start(): Promise<void> {
    this.#health.set("up");
    return Promise.resolve();
  }

  stop(): Promise<void> {
    this.#health.set("stopped");
    return Promise.resolve();
  }

  ready(): boolean {
    return this.#health.get().state === "up";
  }

  health(): DriverHealth {
    return this.#health.get();
  }

  play(request: PlayRequest, signal?: AbortSignal): Promise<PlayAck> {
    try {
      admitPlay(request, signal, this.#health.get().state);
    } catch (err) {
      return Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
    this.plays.push(request);
    return Promise.resolve({ ack_ms: 0, shown_by: "fake display" });
  }
}
