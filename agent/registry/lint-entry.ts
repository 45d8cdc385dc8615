/**
 * Lint checks on one registry entry and its schema's content: naming, layout, `$id`/`x-version`,
 * reply references, semantics and status. Files the entry points to (examples, fixtures) are
 * checked in lint-files.ts.
 */
import { eventKey, type EventEntry } from "./catalog.js";
import {
  SCHEMA_DIALECT, SEMVER_PATTERN, examplePathFor, namingAdvice, parseEventRef, schemaIdFor, schemaPathFor, versionDir,
} from "./conventions.js";
import type { IndexedEntry } from "./index-file.js";
import { error, warning, type Problem } from "./problems.js";
import type { JsonSchema } from "./source.js";

/** Scaffolded text that still waits for a human. */
const TODO = /\bTODO\b/;

/** Naming, layout, reply, semantics and status checks of every entry. */
export function lintEntries(entries: readonly IndexedEntry[]): Problem[] {
  const problems: Problem[] = [];
  const byKey = new Map(entries.map((ie) => [eventKey(ie.entry.fqdn, ie.entry.version), ie.entry]));
  const referencedReplies = new Set<string>();
  for (const ie of entries) {
    const { entry, where } = ie;
    const key = eventKey(entry.fqdn, entry.version);
    if (TODO.test(entry.summary)) problems.push(warning(where, `${key}: summary is still a TODO placeholder`));
    const advice = namingAdvice(entry.fqdn, entry.kind);
    if (advice !== undefined) problems.push(warning(where, `${key}: ${advice}`));

    const expected = schemaPathFor(entry.fqdn, entry.version);
    if (entry.schema !== expected) {
      problems.push(error(where, `${key}: schema must be "${expected}" (convention <ns>/<name>/v<version>/schema.json), not "${entry.schema}"`));
    }
    if (entry.example === undefined) {
      problems.push(warning(where, `${key}: no example; add "${examplePathFor(entry.fqdn, entry.version)}"`));
    } else if (!entry.example.startsWith(`${versionDir(entry.fqdn, entry.version)}/examples/`) || !entry.example.endsWith(".json")) {
      problems.push(error(where, `${key}: example must be a .json file in "${versionDir(entry.fqdn, entry.version)}/examples/", not "${entry.example}"`));
    }

    problems.push(...lintReply(ie, byKey));
    if (entry.reply !== undefined) referencedReplies.add(entry.reply);

    if (entry.status === "deprecated") {
      const newer = entries.some((o) => o.entry.fqdn === entry.fqdn && o.entry.version > entry.version && o.entry.status !== "deprecated");
      problems.push(warning(where, `${key} is deprecated${newer ? "; producers and consumers should move to the newer version" : " and no newer version is registered"}`));
    }
  }
  for (const { entry, where } of entries) {
    const key = eventKey(entry.fqdn, entry.version);
    if (entry.kind === "reply" && !referencedReplies.has(key)) {
      problems.push(warning(where, `${key} is a reply that no command names in its \`reply\``));
    }
  }
  return problems;
}

function lintReply(ie: IndexedEntry, byKey: ReadonlyMap<string, EventEntry>): Problem[] {
  const { entry, where } = ie;
  const key = eventKey(entry.fqdn, entry.version);
  if (entry.reply === undefined) {
    return entry.kind === "command" ? [warning(where, `${key}: command without a \`reply\`; callers cannot wait for a result`)] : [];
  }
  if (entry.kind !== "command") return [error(where, `${key}: only commands have a \`reply\` (this is kind "${entry.kind}")`)];
  const ref = parseEventRef(entry.reply);
  const target = ref === undefined ? undefined : byKey.get(eventKey(ref.fqdn, ref.version));
  if (target === undefined) {
    const versions = [...byKey.values()].filter((e) => e.fqdn === ref?.fqdn).map((e) => e.version);
    const hint = versions.length > 0 ? ` (registered versions: ${versions.join(", ")})` : "";
    return [error(where, `${key}: reply "${entry.reply}" is not a registered entry${hint}`)];
  }
  if (target.kind !== "reply") return [error(where, `${key}: reply "${entry.reply}" must have kind "reply", not "${target.kind}"`)];
  return [];
}

/** Content checks of one payload schema against its entry. */
export function lintSchema(entry: EventEntry, schema: JsonSchema): Problem[] {
  const where = entry.schema;
  const problems: Problem[] = [];
  if (schema.$schema !== SCHEMA_DIALECT) {
    problems.push(error(where, `$schema must be "${SCHEMA_DIALECT}" (JSON Schema draft 2020-12)`));
  }
  const id = schemaIdFor(entry.fqdn, entry.version);
  if (schema.$id !== id) problems.push(error(where, `$id must be "${id}", not ${JSON.stringify(schema.$id)}`));
  const xv = schema["x-version"];
  if (typeof xv !== "string") {
    problems.push(error(where, `x-version is missing; add "x-version": "${entry.version}.0.0"`));
  } else {
    const m = SEMVER_PATTERN.exec(xv);
    if (m === null) problems.push(error(where, `x-version "${xv}" is not a semver version (major.minor.patch)`));
    else if (Number(m[1]) !== entry.version) {
      problems.push(error(where, `x-version "${xv}" has major ${m[1]} but the entry is version ${entry.version}; an incompatible change needs a new v<major> folder`));
    }
  }
  if (schema.type !== "object") problems.push(error(where, `type must be "object" (a payload is a JSON object)`));
  if (schema.additionalProperties !== false) {
    problems.push(warning(where, "additionalProperties is not false; unknown payload fields will pass unnoticed"));
  }
  for (const field of ["title", "description"] as const) {
    if (typeof schema[field] !== "string" || schema[field] === "") problems.push(warning(where, `no ${field}; docs show it`));
  }
  if (TODO.test(JSON.stringify([schema.description, schema.properties]))) {
    problems.push(warning(where, "still has TODO placeholders (description or payload fields)"));
  }
  const keyFields = entry.semantics?.idempotency_key;
  if (keyFields !== undefined) {
    const props = typeof schema.properties === "object" && schema.properties !== null ? Object.keys(schema.properties) : [];
    const required = Array.isArray(schema.required) ? (schema.required as unknown[]) : [];
    for (const f of keyFields.split(",")) {
      if (!props.includes(f)) problems.push(error(where, `semantics.idempotency_key names "${f}", which is not a payload property`));
      else if (!required.includes(f)) problems.push(warning(where, `semantics.idempotency_key field "${f}" is not required; repeats without it cannot be recognised`));
    }
  }
  return problems;
}
