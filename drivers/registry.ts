/**
 * The driver registry: drivers by name, each loaded only when asked for (a member without a
 * microphone never loads the recorder, the STT adapter or their dependencies). Every module
 * exports `create` (abi/driver.ts DriverFactory) and its Options type. An unknown name fails with
 * the list of valid ones, so a typo in a config is one clear line.
 */
const DRIVERS = {
  mic: () => import("./mic/index.js"),
  stt: () => import("./stt/index.js"),
  tts: () => import("./tts/index.js"),
  speaker: () => import("./speaker/index.js"),
  display: () => import("./display/index.js"),
} as const;

export type DriverName = keyof typeof DRIVERS;
export type DriverModule<N extends DriverName> = Awaited<ReturnType<(typeof DRIVERS)[N]>>;

export const DRIVER_NAMES: readonly DriverName[] = Object.keys(DRIVERS) as DriverName[];

export function isDriverName(name: string): name is DriverName {
  return Object.hasOwn(DRIVERS, name);
}

/** The driver module named `name`; rejects naming the valid drivers when there is none. */
export async function loadDriver<N extends DriverName>(name: N): Promise<DriverModule<N>>;
export async function loadDriver(name: string): Promise<DriverModule<DriverName>>;
export async function loadDriver(name: string): Promise<DriverModule<DriverName>> {
  if (!isDriverName(name)) throw new Error(`unknown driver ${JSON.stringify(name)}; valid drivers: ${DRIVER_NAMES.join(", ")}`);
  return DRIVERS[name]();
}
