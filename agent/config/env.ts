/**
 * ADAOS_EDGE_<PATH> environment overrides. The variable names come from the config schema's
 * leaves (path upper-cased, '.' → '_'), so every key has exactly one variable and a new key
 * gets one for free. Values are coerced by the leaf's schema type.
 */
import type { Issue } from "../core/errors.js";

export const ENV_PREFIX = "ADAOS_EDGE_";
/** Variables that are not config keys but are read by the CLI. */
export const NON_CONFIG_ENV = new Set(["ADAOS_EDGE_CONFIG", "ADAOS_EDGE_API"]);

interface SchemaNode {
  type?: string | string[];
  enum?: unknown[];
  properties?: Record<string, SchemaNode>;
}

export interface Leaf {
  readonly path: readonly string[];
  readonly env: string;
  readonly types: readonly string[];
}

export function schemaLeaves(schema: SchemaNode, prefix: readonly string[] = []): Leaf[] {
  const out: Leaf[] = [];
  for (const [key, node] of Object.entries(schema.properties ?? {})) {
    const path = [...prefix, key];
    if (node.properties !== undefined) {
      out.push(...schemaLeaves(node, path));
    } else {
      const types = node.type === undefined ? ["string"] : Array.isArray(node.type) ? node.type : [node.type];
      out.push({ path, env: ENV_PREFIX + path.join("_").toUpperCase(), types });
    }
  }
  return out;
}

export interface Override {
  readonly path: readonly string[];
  readonly value: unknown;
  /** Where the value came from, for error messages ("ADAOS_EDGE_API_PORT", "--api-port"). */
  readonly origin: string;
}

/** Parse one string value by the leaf's types; undefined + an issue when it cannot. */
export function coerce(raw: string, types: readonly string[]): { value: unknown } | { error: string } {
  if (types.includes("null") && (raw === "" || raw === "null")) return { value: null };
  if (types.includes("integer") || types.includes("number")) {
    const n = Number(raw.trim());
    if (raw.trim() === "" || !Number.isFinite(n)) return { error: `must be a number, got "${raw}"` };
    return { value: n };
  }
  if (types.includes("boolean")) {
    const v = raw.trim().toLowerCase();
    if (["1", "true", "yes", "on"].includes(v)) return { value: true };
    if (["0", "false", "no", "off"].includes(v)) return { value: false };
    return { error: `must be true or false, got "${raw}"` };
  }
  if (types.includes("array")) {
    // A JSON array for lists of objects (directory.capabilities); else comma-separated strings.
    if (raw.trim().startsWith("[")) {
      try {
        return { value: JSON.parse(raw) as unknown };
      } catch (err) {
        return { error: `must be a JSON array or comma-separated values: ${(err as Error).message}` };
      }
    }
    return { value: raw.split(",").map((s) => s.trim()).filter((s) => s !== "") };
  }
  return { value: raw };
}

/** Overrides from the environment, issues for values that cannot be parsed, and unknown ADAOS_EDGE_ names. */
export function envOverrides(schema: SchemaNode, env: Readonly<Record<string, string | undefined>>): {
  overrides: Override[];
  issues: Issue[];
  unknown: string[];
} {
  const leaves = schemaLeaves(schema);
  const byName = new Map(leaves.map((l) => [l.env, l]));
  const overrides: Override[] = [];
  const issues: Issue[] = [];
  const unknown: string[] = [];
  for (const [name, raw] of Object.entries(env)) {
    if (!name.startsWith(ENV_PREFIX) || raw === undefined) continue;
    const leaf = byName.get(name);
    if (leaf === undefined) {
      if (!NON_CONFIG_ENV.has(name)) unknown.push(name);
      continue;
    }
    const parsed = coerce(raw, leaf.types);
    if ("error" in parsed) issues.push({ pointer: leaf.path.join("."), message: `${parsed.error} (from ${name})` });
    else overrides.push({ path: leaf.path, value: parsed.value, origin: name });
  }
  return { overrides, issues, unknown: unknown.sort() };
}
