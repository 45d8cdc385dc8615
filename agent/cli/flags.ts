/** The config flags of `run` (they win over agent.yaml and ADAOS_EDGE_* variables). */
import type { Override } from "../config/env.js";
import { intFlag } from "./args.js";

export const CONFIG_FLAG_OPTIONS = {
  config: { type: "string" },
  role: { type: "string" },
  "node-id": { type: "string" },
  "data-dir": { type: "string" },
  "api-host": { type: "string" },
  "api-port": { type: "string" },
} as const;

export interface ConfigFlagValues {
  readonly role?: string | undefined;
  readonly "node-id"?: string | undefined;
  readonly "data-dir"?: string | undefined;
  readonly "api-host"?: string | undefined;
  readonly "api-port"?: string | undefined;
}

/** Flags as config overrides; the schema validates the values (so errors name the flag). */
export function flagOverrides(v: ConfigFlagValues): Override[] {
  const out: Override[] = [];
  const add = (path: string[], value: unknown, flag: string): void => {
    if (value !== undefined) out.push({ path, value, origin: flag });
  };
  add(["role"], v.role, "--role");
  add(["node_id"], v["node-id"], "--node-id");
  add(["data_dir"], v["data-dir"], "--data-dir");
  add(["api", "host"], v["api-host"], "--api-host");
  add(["api", "port"], intFlag(v["api-port"], "--api-port", 0, 65535), "--api-port");
  return out;
}
