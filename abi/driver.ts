/**
 * The driver contract: what every device driver (microphone, speech recogniser, speech synthesis,
 * speaker, display, …) is to the agent. A driver declares the capabilities it provides up front
 * (so the manifest can announce them and the resolver can bind steps to them), starts and stops
 * on the agent's schedule, and reports its health instead of throwing at call time.
 *
 * Rules every driver keeps (drivers/contract.ts checks them for each one):
 * - `start()` resolves once the driver can serve, or rejects with a message a user can act on
 *   (the missing program, the device that does not open); a driver that can recover by itself
 *   (a recorder that died) reports `degraded` in health() and keeps trying instead.
 * - `stop()` is idempotent, never rejects, and leaves no child process behind.
 * - `health()` never throws and is cheap: it is read on every heartbeat.
 * - A driver imports only `abi/`, `node:` modules and its own npm dependency; it gets a logger
 *   and its options from the agent, never the agent's config or bus.
 */

/** A capability the driver provides, as the manifest announces it. */
export interface DriverCapability {
  /** capability://<family>.<verb>, e.g. capability://display.play. */
  readonly id: string;
  /** How good this driver is at it (the resolver's w_prio · prio). */
  readonly prio?: number;
  /** Formats it consumes (e.g. mp4, webm, hls for a display). */
  readonly inputs?: readonly string[];
  /** Formats it produces (e.g. pcm_s16le_16k for a microphone). */
  readonly outputs?: readonly string[];
}

export type DriverState = "stopped" | "starting" | "up" | "degraded" | "down";

export interface DriverHealth {
  readonly state: DriverState;
  /** What is wrong (or what it is doing about it) when not up. */
  readonly detail?: string;
  /** Times the driver restarted its device or child process since start(). */
  readonly restarts: number;
  /** Epoch ms of the last state change. */
  readonly since: number;
}

/** The subset of a pino logger a driver may use. */
export interface DriverLogger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export interface Driver {
  /** The registry name (mic, stt, tts, speaker, display, …). */
  readonly name: string;
  readonly capabilities: readonly DriverCapability[];
  start(): Promise<void>;
  stop(): Promise<void>;
  health(): DriverHealth;
}

/** What every driver factory receives besides its own options. */
export interface DriverContext {
  readonly logger: DriverLogger;
  /** Epoch ms; injected so tests control time. */
  readonly now?: () => number;
}

/** A driver module's export: build a driver from its options (checked by the factory). */
export type DriverFactory<Options = unknown, D extends Driver = Driver> = (options: Options, ctx: DriverContext) => D;
