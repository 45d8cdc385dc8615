/**
 * Layout and naming conventions of the event registry (seed 000 "Реестр событий"):
 * `<root>/<ns>/<name>/v<major>/schema.json` where ns is the first dot token of the fqdn and name
 * the rest; `$id` is `<fqdn>.v<major>`; commands are named ns.verb, events ns.noun.past.
 */
import * as path from "node:path";
import type { EnvelopeKind } from "../../abi/envelope.js";
import type { EventEntry } from "./catalog.js";

export const DEFAULT_REGISTRY_ROOT = "abi/events";
export const INDEX_FILE = "registry.yaml";
export const INDEX_SCHEMA_FILE = "registry.schema.json";
export const DIST_DIR = "_dist";
export const SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema";
/** Format of _dist/registry.json; bump when its shape changes incompatibly. */
export const DIST_FORMAT = 1;

/** Same rule as envelope.event_name (abi/envelope.schema.json). */
export const FQDN_PATTERN = /^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$/;
export const FQDN_MAX_LENGTH = 128;
/** x-version: "major.minor.patch", optionally with a pre-release suffix. */
export const SEMVER_PATTERN = /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(-[0-9A-Za-z.-]+)?$/;

/** The envelope schema sits next to the registry folder: abi/envelope.schema.json. */
export function envelopeSchemaPath(root: string): string {
  return path.join(root, "..", "envelope.schema.json");
}

export function splitFqdn(fqdn: string): { ns: string; name: string } {
  const dot = fqdn.indexOf(".");
  return dot < 0 ? { ns: fqdn, name: "" } : { ns: fqdn.slice(0, dot), name: fqdn.slice(dot + 1) };
}

/** `<ns>/<name>/v<version>`, relative to the registry root, always with `/`. */
export function versionDir(fqdn: string, version: number): string {
  const { ns, name } = splitFqdn(fqdn);
  return `${ns}/${name}/v${version}`;
}

export function schemaPathFor(fqdn: string, version: number): string {
  return `${versionDir(fqdn, version)}/schema.json`;
}

export function examplePathFor(fqdn: string, version: number): string {
  return `${versionDir(fqdn, version)}/examples/basic.json`;
}

export function schemaIdFor(fqdn: string, version: number): string {
  return `${fqdn}.v${version}`;
}

/** Parse "fqdn@version" (a reply reference); undefined when malformed. */
export function parseEventRef(ref: string): { fqdn: string; version: number } | undefined {
  const at = ref.lastIndexOf("@");
  if (at < 0) return undefined;
  const fqdn = ref.slice(0, at);
  const version = Number(ref.slice(at + 1));
  if (!FQDN_PATTERN.test(fqdn) || !Number.isInteger(version) || version < 1) return undefined;
  return { fqdn, version };
}

/** Why `fqdn` is not a valid name (a hard error), or undefined when it is. */
export function fqdnProblem(fqdn: string): string | undefined {
  if (fqdn.length > FQDN_MAX_LENGTH) return `is longer than ${FQDN_MAX_LENGTH} characters`;
  if (FQDN_PATTERN.test(fqdn)) return undefined;
  if (!fqdn.includes(".")) return "needs at least two dot-separated tokens: namespace.name";
  if (/[A-Z]/.test(fqdn)) return "must be lower case";
  if (/(^|\.)(\.|$)/.test(fqdn)) return "has an empty token (leading, trailing or double dot)";
  return "tokens may hold only a-z, 0-9 and _, and must start with a letter";
}

/** Common imperative verbs: an event ending in one of them was probably meant as a command. */
const COMMAND_VERBS = new Set([
  "install", "uninstall", "run", "start", "stop", "restart", "detect", "create", "delete", "remove",
  "update", "get", "set", "fetch", "send", "play", "pause", "resume", "cancel", "register",
  "deregister", "resolve", "exec", "execute", "open", "close", "enable", "disable",
]);

/**
 * Advice on the naming convention (a warning at most): commands ns.verb, events ns.noun.past,
 * replies <command>.result.
 */
export function namingAdvice(fqdn: string, kind: EnvelopeKind): string | undefined {
  const last = fqdn.slice(fqdn.lastIndexOf(".") + 1);
  if (kind === "command" && last.endsWith("ed")) {
    return `commands are named ns.verb; "${last}" reads like a past-tense event name`;
  }
  if (kind === "event" && COMMAND_VERBS.has(last)) {
    return `events are named ns.noun.past (e.g. repo.skill.installed); "${last}" reads like a command verb`;
  }
  if (kind === "reply" && last !== "result") {
    return `replies are named <command>.result; "${fqdn}" does not end in .result`;
  }
  return undefined;
}

/** The entry with keys in EventEntry order, so every output built from it is stable. */
export function canonicalEntry(r: EventEntry): EventEntry {
  return {
    fqdn: r.fqdn,
    version: r.version,
    kind: r.kind,
    summary: r.summary,
    producers: r.producers,
    consumers: r.consumers,
    schema: r.schema,
    ...(r.reply === undefined ? {} : { reply: r.reply }),
    required_headers: r.required_headers,
    ...(r.semantics === undefined ? {} : { semantics: r.semantics }),
    status: r.status,
    ...(r.example === undefined ? {} : { example: r.example }),
  };
}
