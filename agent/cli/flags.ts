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
  "nats-port": { type: "string" },
  "mqtt-port": { type: "string" },
  root: { type: "string" },
  hub: { type: "string" },
  "root-leaf": { type: "string" },
} as const;

export interface ConfigFlagValues {
  readonly role?: string | undefined;
  readonly "node-id"?: string | undefined;
  readonly "data-dir"?: string | undefined;
  readonly "api-host"?: string | undefined;
  readonly "api-port"?: string | undefined;
  readonly "nats-port"?: string | undefined;
  readonly "mqtt-port"?: string | undefined;
  /** Root client URLs, comma-separated. */
  readonly root?: string | undefined;
  readonly hub?: string | undefined;
  /** Root leafnode URLs, comma-separated. */
  readonly "root-leaf"?: string | undefined;
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
  add(["nats", "port"], intFlag(v["nats-port"], "--nats-port", 1, 65535), "--nats-port");
  add(["mqtt", "port"], intFlag(v["mqtt-port"], "--mqtt-port", 0, 65535), "--mqtt-port");
  add(["root", "urls"], listFlag(v.root), "--root");
  add(["hub", "urls"], listFlag(v.hub), "--hub");
  add(["root", "leaf_urls"], listFlag(v["root-leaf"]), "--root-leaf");
  return out;
}

/** `a,b, c` → ["a", "b", "c"] (empty items dropped), like the comma lists of ADAOS_EDGE_* arrays. */
function listFlag(value: string | undefined): string[] | undefined {
  return value?.split(",").map((s) => s.trim()).filter((s) => s !== "");
}
