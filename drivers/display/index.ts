/**
 * The display driver's registry entry: create() builds the kiosk (a TV with a browser), mpv (a
 * TV without one) or fake (tests) display from the agent's options, checked here; an unknown mode
 * fails with the list of valid ones. Only the kiosk serves HTTP: the agent mounts handle() when
 * the driver has it (see httpHandler()).
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { DriverContext, DriverFactory } from "../../abi/driver.js";
import type { DisplayDriver } from "./display.js";
import { FakeDisplay } from "./fake.js";
import { KioskDisplay } from "./kiosk.js";
import { MpvDisplay } from "./mpv.js";

export { DISPLAY_CAPABILITY, type DisplayDriver, type PlayAck, type PlayRequest } from "./display.js";
export { FakeDisplay } from "./fake.js";
export { KioskDisplay } from "./kiosk.js";
export { MpvDisplay } from "./mpv.js";

export const DISPLAY_MODES = ["kiosk", "mpv", "fake"] as const;
export type DisplayMode = (typeof DISPLAY_MODES)[number];

export interface Options {
  readonly mode: DisplayMode;
  /** Formats announced in capability://display.play; each mode has its default. */
  readonly inputs?: readonly string[];
  /** kiosk: how long play() waits for the page's "playing" ack; default 8000. */
  readonly ackTimeoutMs?: number;
  /** mpv: the program to run; default "mpv". */
  readonly command?: string;
  /** mpv: its flags before the title and the URL; default --fs --no-terminal --force-window=yes. */
  readonly args?: readonly string[];
  /** kiosk: the page's full URL (base_url + /display), named in "no page open" errors. */
  readonly pageUrl?: string;
}

/** The HTTP side of a display driver, when it has one. */
export interface DisplayHttp {
  handle(req: IncomingMessage, res: ServerResponse, path: string): boolean;
}

export const create: DriverFactory<Options, DisplayDriver> = (options: Options, ctx: DriverContext) => {
  const inputs = options.inputs === undefined ? {} : { inputs: checkInputs(options.inputs) };
  switch (options.mode) {
    case "kiosk":
      return new KioskDisplay({
        ...inputs,
        ...(options.ackTimeoutMs === undefined ? {} : { ackTimeoutMs: checkTimeout(options.ackTimeoutMs) }),
        ...(options.pageUrl === undefined ? {} : { pageUrl: options.pageUrl }),
      }, ctx);
    case "mpv":
      return new MpvDisplay({ ...inputs, ...(options.command === undefined ? {} : { command: options.command }), ...(options.args === undefined ? {} : { args: options.args }) }, ctx);
    case "fake":
      return new FakeDisplay(inputs, ctx);
    default:
      throw new Error(`unknown display mode ${JSON.stringify((options as { mode: unknown }).mode)}; valid modes: ${DISPLAY_MODES.join(", ")}`);
  }
};

/** The driver's HTTP routes (the kiosk's /display…), or undefined for a driver without any. */
export function httpHandler(driver: DisplayDriver): DisplayHttp | undefined {
  return driver instanceof KioskDisplay ? driver : undefined;
}

function checkInputs(inputs: readonly string[]): readonly string[] {
  if (inputs.length === 0 || inputs.some((f) => typeof f !== "string" || !/^[a-z0-9][a-z0-9_.-]*$/.test(f))) {
    throw new Error(`display inputs must be a non-empty list of format names like "webm", got ${JSON.stringify(inputs)}`);
  }
  return inputs;
}

function checkTimeout(ms: number): number {
  if (!Number.isInteger(ms) || ms < 100 || ms > 120_000) throw new Error(`display ack timeout must be an integer from 100 to 120000 ms, got ${ms}`);
  return ms;
}
