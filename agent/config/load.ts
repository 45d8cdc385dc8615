/**
 * Load the agent config: defaults < agent.yaml < ADAOS_EDGE_* environment < command-line flags.
 * Validated against agent/config/schema.json with a validator generated at build time, then
 * resolved (role-dependent defaults, absolute paths) and frozen.
 */
import { existsSync, readFileSync } from "node:fs";
import { hostname } from "node:os";
import { resolve } from "node:path";
import { parseDocument } from "yaml";
import { ConfigInvalidError, ConfigReadError, type Issue } from "../core/errors.js";
import { issuesFromAjv } from "../registry/issues.js";
import { DEFAULT_API_PORT, type Config, type RawConfig } from "./config.js";
import { envOverrides, type Override } from "./env.js";
import schema from "./schema.json" with { type: "json" };
import { validateConfig } from "./schema.validator.js";

export interface LoadOptions {
  /** --config; when absent: ADAOS_EDGE_CONFIG, then ./agent.yaml if it exists, else defaults only. */
  readonly file?: string | undefined;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly cwd: string;
  /** Command-line flags, applied last. */
  readonly flags?: readonly Override[];
  readonly hostname?: () => string;
}

export interface Loaded {
  readonly config: Config;
  /** Things worth a log line that are not errors (e.g. unknown ADAOS_EDGE_ variables). */
  readonly warnings: readonly string[];
}

export const DEFAULT_CONFIG_FILE = "agent.yaml";

export function configFilePath(opts: Pick<LoadOptions, "file" | "env" | "cwd">): { path: string; explicit: boolean } | null {
  const given = opts.file ?? opts.env.ADAOS_EDGE_CONFIG;
  if (given !== undefined && given !== "") return { path: resolve(opts.cwd, given), explicit: true };
  const local = resolve(opts.cwd, DEFAULT_CONFIG_FILE);
  return existsSync(local) ? { path: local, explicit: false } : null;
}

/** Parse a YAML (or JSON) config file; an empty file is an empty config. */
export function readConfigFile(path: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : (err as Error).message;
    throw new ConfigReadError(`cannot read config file ${path}: ${reason}`, { cause: err });
  }
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    const issues: Issue[] = doc.errors.map((e) => {
      const pos = e.linePos?.[0];
      return { pointer: pos ? `${path}:${pos.line}:${pos.col}` : path, message: (e.message.split("\n")[0] ?? e.message).replace(/ at line \d+, column \d+:?$/, "") };
    });
    throw new ConfigReadError(`config file ${path} is not valid YAML`, { issues });
  }
  return doc.toJS() ?? {};
}

export function loadConfig(opts: LoadOptions): Loaded {
  const file = configFilePath(opts);
  const data = file === null ? {} : readConfigFile(file.path);
  if (typeof data !== "object" || data === null || Array.isArray(data)) {
    throw new ConfigInvalidError(`config ${file?.path ?? ""} must be a mapping of keys to values`, {
      issues: [{ pointer: "(root)", message: "must be a mapping (key: value lines)" }],
    });
  }
  const env = envOverrides(schema, opts.env);
  const origins = new Map<string, string>();
  const merged = structuredClone(data) as Record<string, unknown>;
  for (const o of [...env.overrides, ...(opts.flags ?? [])]) {
    setPath(merged, o.path, o.value);
    origins.set(o.path.join("."), o.origin);
  }
  const issues: Issue[] = [...env.issues];
  if (!validateConfig(merged)) {
    for (const i of issuesFromAjv(validateConfig.errors)) {
      const path = i.pointer === "/" ? "(root)" : i.pointer.slice(1).split("/").join(".");
      const origin = origins.get(path);
      issues.push({ pointer: path, message: origin === undefined ? i.message : `${i.message} (from ${origin})` });
    }
  }
  if (issues.length > 0) {
    const where = file === null ? "config" : `config ${file.path}`;
    throw new ConfigInvalidError(`${where} is invalid (${issues.length} problem${issues.length > 1 ? "s" : ""})`, { issues });
  }
  const raw = merged as unknown as RawConfig;
  const config: Config = {
    ...raw,
    node_id: raw.node_id ?? nodeIdFromHostname((opts.hostname ?? hostname)()),
    data_dir: resolve(opts.cwd, raw.data_dir),
    api: { ...raw.api, port: raw.api.port ?? DEFAULT_API_PORT[raw.role] },
    config_file: file?.path ?? null,
  };
  const warnings = env.unknown.map((name) => `environment variable ${name} is not a config key; ignored`);
  return { config: deepFreeze(config), warnings };
}

function setPath(target: Record<string, unknown>, path: readonly string[], value: unknown): void {
  let node = target;
  for (const key of path.slice(0, -1)) {
    const next = node[key];
    if (typeof next !== "object" || next === null || Array.isArray(next)) node[key] = {};
    node = node[key] as Record<string, unknown>;
  }
  const last = path[path.length - 1];
  if (last !== undefined) node[last] = value;
}

/** A host name as a valid node id: lower case, invalid characters as '-', at most 63 characters. */
export function nodeIdFromHostname(host: string): string {
  const id = host.toLowerCase().split(".")[0]?.replace(/[^a-z0-9_-]+/g, "-").replace(/^[-_]+/, "").slice(0, 63) ?? "";
  return id === "" ? "node" : id;
}

function deepFreeze<T>(value: T): T {
  if (typeof value === "object" && value !== null) {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}
