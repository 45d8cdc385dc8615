/**
 * Starting content of a scaffolded event: a schema with one placeholder field, an example
 * envelope, one valid and one invalid payload fixture, and the registry entry. Everything is
 * consistent, so `events registry lint` passes right after scaffolding.
 */
import type { EnvelopeKind } from "../../abi/envelope.js";
import { uuidv7 } from "../core/ids.js";
import type { EventEntry } from "./catalog.js";
import { SCHEMA_DIALECT, examplePathFor, schemaIdFor, schemaPathFor } from "./conventions.js";

export interface ScaffoldFiles {
  /** Root-relative path → JSON value. */
  readonly files: ReadonlyMap<string, unknown>;
  readonly entry: EventEntry;
}

export interface TemplateInput {
  readonly fqdn: string;
  readonly version: number;
  readonly kind: EnvelopeKind;
  readonly summary?: string;
  readonly reply?: string;
  readonly nowMs: number;
  /** The schema of the latest older version of the same kind, to start the new major from. */
  readonly previous?: Record<string, unknown>;
  /** A valid payload of the previous version (its example's payload). */
  readonly previousPayload?: unknown;
}

const PLACEHOLDER = "example_field";

export function scaffoldFiles(input: TemplateInput): ScaffoldFiles {
  const { fqdn, version, kind } = input;
  const dir = schemaPathFor(fqdn, version).replace(/\/schema\.json$/, "");
  const derived = input.previous === undefined || input.previousPayload === undefined ? undefined : nextMajor(input.previous, fqdn, version);
  const schema = derived ?? newSchema(fqdn, version, kind);
  const validPayload = derived === undefined ? { [PLACEHOLDER]: "value" } : input.previousPayload;
  const id = uuidv7(input.nowMs);
  const envelope = {
    id,
    event_name: fqdn,
    version,
    kind,
    ts: new Date(input.nowMs).toISOString(),
    source: "agent://hub/hub-1",
    correlation_id: id,
    ...(kind === "reply" ? { causation_id: uuidv7(input.nowMs) } : {}),
    tenant: "default",
    priority: 3,
    headers: {},
    payload: validPayload,
  };
  const files = new Map<string, unknown>([
    [`${dir}/schema.json`, schema],
    [examplePathFor(fqdn, version), envelope],
    [`${dir}/fixtures/valid/basic.json`, validPayload],
    // Every required field missing: fails on `required`, the clearest reason there is.
    [`${dir}/fixtures/invalid/basic.json`, {}],
  ]);
  const entry: EventEntry = {
    fqdn,
    version,
    kind,
    summary: input.summary ?? `TODO: one line on what this ${kind} means.`,
    producers: [],
    consumers: [],
    schema: schemaPathFor(fqdn, version),
    ...(input.reply === undefined ? {} : { reply: input.reply }),
    required_headers: kind === "reply" ? ["correlation_id", "causation_id", "ts", "source"] : ["correlation_id", "ts", "source"],
    semantics: { delivery: "at-least-once" },
    status: "draft",
    example: examplePathFor(fqdn, version),
  };
  return { files, entry };
}

function newSchema(fqdn: string, version: number, kind: EnvelopeKind): Record<string, unknown> {
  return {
    $schema: SCHEMA_DIALECT,
    $id: schemaIdFor(fqdn, version),
    "x-version": `${version}.0.0`,
    title: `${fqdn} v${version}`,
    description: `TODO: what this ${kind} means and when it is published.`,
    type: "object",
    required: [PLACEHOLDER],
    properties: {
      [PLACEHOLDER]: { description: "TODO: replace with the real payload fields.", type: "string", minLength: 1 },
    },
    additionalProperties: false,
  };
}

/**
 * The previous major's schema as the start of the next one (new $id and x-version); undefined
 * when it requires no field, since the empty invalid fixture would then pass.
 */
function nextMajor(previous: Record<string, unknown>, fqdn: string, version: number): Record<string, unknown> | undefined {
  const { $schema: _s, $id: _i, "x-version": _v, ...rest } = previous;
  if (!Array.isArray(rest.required) || rest.required.length === 0) return undefined;
  return { $schema: SCHEMA_DIALECT, $id: schemaIdFor(fqdn, version), "x-version": `${version}.0.0`, ...rest };
}
