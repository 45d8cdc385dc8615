/**
 * Checking a node manifest at the boundary (announce, `/registry/announce`): is it a valid
 * abi/manifest.schema.json document, and did it change since the last one? The schema is compiled
 * with ajv once, at first use (it is small; precompiling it in `npm run codegen` is a later step).
 * Problems come back as Issues with JSON pointers into the rejected document.
 */
import { Ajv2020 } from "ajv/dist/2020.js";
import type { ValidateFunction } from "ajv/dist/2020.js";
import type { Manifest } from "../../abi/manifest.js";
import schema from "../../abi/manifest.schema.json" with { type: "json" };
import { BadRequestError, type Issue } from "../core/errors.js";
import { issuesFromAjv } from "../registry/issues.js";

export type ManifestCheck =
  | { readonly ok: true; readonly manifest: Manifest }
  | { readonly ok: false; readonly issues: readonly Issue[] };

/** In the order of the probe's `oneOf` branches in abi/manifest.schema.json (the tests catch a reorder). */
const PROBE_KINDS = ["http", "command", "internal"] as const;

let compiled: ValidateFunction<Manifest> | undefined;

function validator(): ValidateFunction<Manifest> {
  // Strict draft 2020-12, every error reported, nothing added to the data (no defaults).
  compiled ??= new Ajv2020({ allErrors: true, strict: true }).compile<Manifest>(schema);
  return compiled;
}

type AjvErrors = NonNullable<ValidateFunction["errors"]>;

const PROBE_PATH = /^\/capabilities\/(\d+)\/probe(\/|$)/;

/**
 * A probe is a `oneOf` of three shapes (one per kind), so one bad probe makes ajv report the
 * failure of every branch. Keep only what matters: for a known kind, the errors of that kind's
 * branch; for an unknown kind, one issue saying which kinds there are.
 */
function narrowProbeErrors(value: unknown, errors: AjvErrors): { errors: AjvErrors; issues: Issue[] } {
  const caps = (value as { capabilities?: unknown } | null)?.capabilities;
  const probeAt = (i: number): unknown => (Array.isArray(caps) ? (caps[i] as { probe?: unknown } | null)?.probe : undefined);
  const unknownKind = new Set<number>();
  const kept = errors.filter((e) => {
    const m = PROBE_PATH.exec(e.instancePath);
    if (m === null || !e.schemaPath.includes("/probe/oneOf")) return true;
    const i = Number(m[1]);
    const probe = probeAt(i);
    if (probe === null || typeof probe !== "object" || Array.isArray(probe)) return e.keyword !== "oneOf"; // "must be object", once
    const branch = PROBE_KINDS.indexOf((probe as { kind?: unknown }).kind as (typeof PROBE_KINDS)[number]);
    if (branch < 0) {
      unknownKind.add(i);
      return false;
    }
    return e.schemaPath.includes(`/probe/oneOf/${branch}/`);
  });
  const kinds = PROBE_KINDS.map((k) => JSON.stringify(k)).join(", ");
  const issues = [...unknownKind].map((i) => ({ pointer: `/capabilities/${i}/probe/kind`, message: `must be one of ${kinds}` }));
  return { errors: kept, issues };
}

/** Validate `value` as a manifest; on failure every problem with its pointer. */
export function checkManifest(value: unknown): ManifestCheck {
  const validate = validator();
  if (validate(value)) return { ok: true, manifest: value };
  const { errors, issues } = narrowProbeErrors(value, validate.errors ?? []);
  return { ok: false, issues: [...issues, ...issuesFromAjv(errors)] };
}

/** The manifest, or a BadRequestError (HTTP 400) carrying the issues. */
export function parseManifest(value: unknown): Manifest {
  const result = checkManifest(value);
  if (result.ok) return result.manifest;
  const first = result.issues[0];
  const summary = first === undefined ? "invalid" : `${first.pointer} ${first.message}`;
  throw new BadRequestError(`invalid manifest: ${summary}`, { issues: result.issues });
}

/** Whether `next` differs from `previous` (none yet counts as a change), by revision. */
export function manifestChanged(previous: Pick<Manifest, "revision"> | undefined, next: Pick<Manifest, "revision">): boolean {
  return previous?.revision !== next.revision;
}
