/**
 * Reading a scenario or fragment file and parsing its YAML, as untrusted input: at most
 * MAX_FILE_BYTES, one document, YAML 1.2 core schema (no custom tags, no timestamps, no merge
 * keys), no duplicate keys, at most MAX_ALIASES alias expansions (no "billion laughs"), nesting at
 * most MAX_DEPTH deep, and only JSON values (no .inf or .nan). Syntax errors and warnings (such as
 * an unknown tag) become issues with their line and column; the value comes back only when the
 * text had none.
 */
import { readFileSync, statSync } from "node:fs";
import { LineCounter, parseDocument, type YAMLError } from "yaml";
import { documentPointer, isRecord, pointer, type Problems } from "./load-problems.js";

/** Reads a whole file as UTF-8 text (tests pass one that reads from memory). */
export type ReadFile = (path: string) => string;

/** A scenario is a page of YAML; anything this big is a mistake or an attack. */
export const MAX_FILE_BYTES = 256 * 1024;
/** Enough for anchors reused across steps; far below what expands into a memory problem. */
export const MAX_ALIASES = 64;
/** Deeper than any sensible payload; keeps every recursive walk of the value shallow. */
export const MAX_DEPTH = 64;

const KIB = 1024;

export type Source = { readonly ok: true; readonly text: string } | { readonly ok: false; readonly message: string };

/** The text of `path`, or why it cannot be read (no such file, too large, …). */
export function readSource(path: string, readFile: ReadFile | undefined): Source {
  try {
    if (readFile === undefined) {
      const size = statSync(path).size;
      if (size > MAX_FILE_BYTES) return { ok: false, message: tooLarge(size) };
      return { ok: true, text: readFileSync(path, "utf8") };
    }
    return { ok: true, text: readFile(path) };
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const message = code === "ENOENT" ? "no such file" : code === "EISDIR" ? "is a directory, not a file" : err instanceof Error ? err.message : String(err);
    return { ok: false, message };
  }
}

function tooLarge(bytes: number): string {
  return `the file is ${Math.ceil(bytes / KIB)} KiB, more than the ${MAX_FILE_BYTES / KIB} KiB a scenario file may have`;
}

/**
 * The JSON value of a YAML text, or undefined when it has problems (each one added at `base`,
 * "" for the scenario file, "<file>#" for a fragment file).
 */
export function parseYaml(text: string, base: string, problems: Problems): unknown {
  const at = documentPointer(base);
  const bytes = Buffer.byteLength(text, "utf8");
  if (bytes > MAX_FILE_BYTES) {
    problems.add(at, tooLarge(bytes));
    return undefined;
  }
  const lines = new LineCounter();
  const doc = parseDocument(text, { version: "1.2", schema: "core", merge: false, uniqueKeys: true, strict: true, prettyErrors: false, lineCounter: lines });
  const where = (e: YAMLError): string => {
    const { line, col } = lines.linePos(e.pos[0]);
    return `line ${line}, column ${col}`;
  };
  for (const e of doc.errors) problems.add(at, `YAML syntax error at ${where(e)}: ${e.message}`);
  for (const w of doc.warnings) problems.add(at, `YAML problem at ${where(w)}: ${w.message}`);
  if (doc.errors.length > 0 || doc.warnings.length > 0) return undefined;
  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: MAX_ALIASES });
  } catch (err) {
    problems.add(at, `YAML cannot be read: ${err instanceof Error ? err.message : String(err)} (at most ${MAX_ALIASES} aliases)`);
    return undefined;
  }
  return jsonOnly(value, base, problems, 0) ? value : undefined;
}

/** True when `v` is JSON: finite numbers only and nesting at most MAX_DEPTH deep. */
function jsonOnly(v: unknown, at: string, problems: Problems, depth: number): boolean {
  if (typeof v === "number" && !Number.isFinite(v)) {
    problems.add(at, "must be a finite number (JSON has no infinity or NaN)");
    return false;
  }
  if (typeof v !== "object" || v === null) return true;
  if (depth >= MAX_DEPTH) {
    problems.add(at, `is nested more than ${MAX_DEPTH} levels deep`);
    return false;
  }
  let ok = true;
  const entries: [string | number, unknown][] = Array.isArray(v) ? v.map((x, i) => [i, x]) : isRecord(v) ? Object.entries(v) : [];
  for (const [k, x] of entries) ok = jsonOnly(x, pointer(at, k), problems, depth + 1) && ok;
  return ok;
}
