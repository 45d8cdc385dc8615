/**
 * The ajv instances of the registry tooling. The source catalog, lint and the code generator all
 * use createEventAjv() so run-time compiled and precompiled validators behave the same.
 */
import { Ajv2020 } from "ajv/dist/2020.js";
import type { Options } from "ajv/dist/2020.js";
import { SEMVER_PATTERN } from "./conventions.js";

/** Annotation keyword: the full semver of a payload schema (seed 000 "правила версий"). */
export const X_VERSION = "x-version";

const STANDALONE: Options = { code: { source: true, esm: true, lines: true } };

/**
 * Strict draft 2020-12 with every error reported. `useDefaults` fills envelope defaults (tenant,
 * priority, headers) and payload defaults; union types (`["string", "null"]`) are allowed.
 */
export function createEventAjv(options: { standalone?: boolean } = {}): Ajv2020 {
  const ajv = new Ajv2020({
    allErrors: true,
    strict: true,
    allowUnionTypes: true,
    useDefaults: true,
    ...(options.standalone === true ? STANDALONE : {}),
  });
  ajv.addKeyword({
    keyword: X_VERSION,
    schemaType: "string",
    metaSchema: { type: "string", pattern: SEMVER_PATTERN.source },
  });
  return ajv;
}

/** For the registry index (registry.yaml) itself: no defaults, nothing added to the data. */
export function createIndexAjv(): Ajv2020 {
  return new Ajv2020({ allErrors: true, strict: true });
}

/** For agent/config/schema.json: defaults are filled in (the loader relies on them). */
export function createConfigAjv(options: { standalone?: boolean } = {}): Ajv2020 {
  return new Ajv2020({
    allErrors: true,
    strict: true,
    allowUnionTypes: true,
    useDefaults: true,
    ...(options.standalone === true ? STANDALONE : {}),
  });
}

/** The message of whatever ajv threw while adding or compiling a schema, on one line. */
export function oneLineMessage(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  return message.replace(/\s+/g, " ").trim();
}
