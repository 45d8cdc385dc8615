/**
 * The mic driver's entry for the driver registry: create() checks the options and builds a
 * RecorderMic (drivers/mic/mic.ts) that records through node-record-lpcm16.
 * Rules: bad options throw here, naming the option; nothing is spawned before start().
 */
import type { DriverFactory } from "../../abi/driver.js";
import { RecorderMic, type MicDriver } from "./mic.js";
import { resolveMicOptions, type MicOptions } from "./options.js";

export type { AudioListener, MicDriver } from "./mic.js";
export { MIC_CAPABILITY } from "./mic.js";
export type { MicOptions } from "./options.js";

export const create: DriverFactory<MicOptions, MicDriver> = (options, ctx) => new RecorderMic(resolveMicOptions(options), ctx);
