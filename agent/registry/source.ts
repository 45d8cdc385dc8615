/**
 * The source event catalog: reads abi/events/registry.yaml and the schemas it points to, and
 * compiles them with ajv at run time. The developer commands (lint, validate --root, build) use
 * it; the running agent uses the precompiled catalog instead (precompiled.ts).
 */
import * as path from "node:path";
import type { Ajv2020 } from "ajv/dist/2020.js";
import { eventKey, type CompiledValidator, type EventCatalog } from "./catalog.js";
import { oneLineMessage, createEventAjv } from "./ajv.js";
import { DEFAULT_REGISTRY_ROOT, envelopeSchemaPath } from "./conventions.js";
import { insideRoot, readJson } from "./files.js";
import { readIndex, type IndexedEntry } from "./index-file.js";
import { makeCatalog } from "./make-catalog.js";
import { assertNoErrors, error, type Problem } from "./problems.js";

export type JsonSchema = Record<string, unknown>;

export interface CompiledRegistry {
  readonly root: string;
  /** Well-formed entries, duplicates left out, in registry order. */
  readonly entries: readonly IndexedEntry[];
  /** Parsed payload schemas by "fqdn@version" (entries whose schema file could be read). */
  readonly schemas: ReadonlyMap<string, JsonSchema>;
  /** Compiled payload validators by "fqdn@version" (entries whose schema compiled). */
  readonly validators: ReadonlyMap<string, CompiledValidator>;
  readonly envelopeSchema?: JsonSchema;
  readonly validateEnvelope?: CompiledValidator;
  /** False when registry.yaml itself has problems (some entries may be missing). */
  readonly indexOk: boolean;
  readonly problems: readonly Problem[];
}

/** Read, parse and compile everything; problems are collected, nothing throws on bad content. */
export async function compileRegistry(root: string): Promise<CompiledRegistry> {
  const index = await readIndex(root);
  const problems: Problem[] = [...index.problems];
  const ajv = createEventAjv();

  const envelopeRel = "../envelope.schema.json";
  const envelopeRead = await readJson(envelopeSchemaPath(root));
  let envelopeSchema: JsonSchema | undefined;
  let validateEnvelope: CompiledValidator | undefined;
  if (!envelopeRead.ok) problems.push(error(envelopeRel, `envelope schema ${envelopeRead.message}`));
  else if (!isObject(envelopeRead.value)) problems.push(error(envelopeRel, "must be a JSON object (a JSON schema)"));
  else {
    envelopeSchema = envelopeRead.value;
    try {
      validateEnvelope = ajv.compile(envelopeSchema);
    } catch (err) {
      problems.push(error(envelopeRel, `does not compile: ${oneLineMessage(err)}`));
    }
  }

  const entries: IndexedEntry[] = [];
  const seen = new Map<string, IndexedEntry>();
  for (const ie of index.entries) {
    const key = eventKey(ie.entry.fqdn, ie.entry.version);
    const first = seen.get(key);
    if (first !== undefined) {
      problems.push(error(ie.where, `duplicate entry ${key}; first defined at ${first.where}`));
      continue;
    }
    seen.set(key, ie);
    entries.push(ie);
  }

  const schemas = new Map<string, JsonSchema>();
  for (const ie of entries) {
    const schema = await readSchema(root, ie, problems);
    if (schema !== undefined) schemas.set(eventKey(ie.entry.fqdn, ie.entry.version), schema);
  }
  const validators = compileAll(ajv, entries, schemas, problems);
  return {
    root,
    entries,
    schemas,
    validators,
    ...(envelopeSchema === undefined ? {} : { envelopeSchema }),
    ...(validateEnvelope === undefined ? {} : { validateEnvelope }),
    indexOk: index.problems.length === 0,
    problems,
  };
}

/** The catalog of a registry that has no errors; throws RegistryInvalidError otherwise. */
export async function loadSourceCatalog(root: string = DEFAULT_REGISTRY_ROOT): Promise<EventCatalog> {
  const compiled = await compileRegistry(path.resolve(root));
  assertNoErrors(compiled.problems, root, "cannot load the event catalog");
  return catalogOf(compiled);
}

/** A catalog over whatever compiled (lint uses it on a registry that may have problems). */
export function catalogOf(compiled: CompiledRegistry): EventCatalog {
  const alwaysInvalid: CompiledValidator = Object.assign(() => false, {
    errors: [{ instancePath: "", keyword: "schema", params: {}, message: "envelope schema is not available" }],
  });
  return makeCatalog(
    compiled.entries.map((ie) => ie.entry),
    (key) => compiled.validators.get(key),
    compiled.validateEnvelope ?? alwaysInvalid,
  );
}

async function readSchema(root: string, ie: IndexedEntry, problems: Problem[]): Promise<JsonSchema | undefined> {
  const { entry } = ie;
  const file = insideRoot(root, entry.schema);
  if (file === undefined) {
    problems.push(error(ie.where, `schema "${entry.schema}" must be a relative path inside the registry folder`));
    return undefined;
  }
  const read = await readJson(file);
  if (!read.ok) {
    problems.push(error(entry.schema, `schema of ${entry.fqdn}@${entry.version} ${read.message}`));
    return undefined;
  }
  if (!isObject(read.value)) {
    problems.push(error(entry.schema, "must be a JSON object (a JSON schema)"));
    return undefined;
  }
  return read.value;
}

/**
 * Add every schema first (so one may $ref another by $id), then compile each. A schema whose
 * $id is taken by another entry is refused instead of silently replacing it.
 */
function compileAll(ajv: Ajv2020, entries: readonly IndexedEntry[], schemas: Map<string, JsonSchema>, problems: Problem[]): Map<string, CompiledValidator> {
  const owners = new Map<string, string>();
  const added = new Set<string>();
  const failed = new Set<string>();
  for (const { entry } of entries) {
    const key = eventKey(entry.fqdn, entry.version);
    const schema = schemas.get(key);
    const id = schema?.$id;
    if (schema === undefined || typeof id !== "string") continue;
    const owner = owners.get(id);
    if (owner !== undefined) {
      problems.push(error(entry.schema, `$id "${id}" is already used by ${owner}`));
      failed.add(key);
      continue;
    }
    owners.set(id, key);
    try {
      ajv.addSchema(schema);
      added.add(key);
    } catch (err) {
      problems.push(error(entry.schema, `does not compile: ${oneLineMessage(err)}`));
      failed.add(key);
    }
  }
  const validators = new Map<string, CompiledValidator>();
  for (const { entry } of entries) {
    const key = eventKey(entry.fqdn, entry.version);
    const schema = schemas.get(key);
    if (schema === undefined || failed.has(key)) continue;
    try {
      const validate = added.has(key) ? ajv.getSchema(schema.$id as string) : ajv.compile(schema);
      if (validate !== undefined) validators.set(key, validate);
    } catch (err) {
      problems.push(error(entry.schema, `does not compile: ${oneLineMessage(err)}`));
    }
  }
  return validators;
}

function isObject(v: unknown): v is JsonSchema {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}
