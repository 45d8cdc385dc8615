/** File helpers of the registry tooling: JSON reading with clear errors, listing, safe paths. */
import { readdir, readFile, stat } from "node:fs/promises";
import * as path from "node:path";

export type JsonRead = { readonly ok: true; readonly value: unknown } | { readonly ok: false; readonly message: string };

/** Read and parse a JSON file; never throws (a missing file or bad JSON is a message). */
export async function readJson(file: string): Promise<JsonRead> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (err) {
    return { ok: false, message: describeFsError(err, "cannot read file") };
  }
  return parseJson(text);
}

export function parseJson(text: string): JsonRead {
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch (err) {
    return { ok: false, message: `not valid JSON: ${err instanceof Error ? err.message : String(err)}` };
  }
}

/** "does not exist" for ENOENT, else the system message. */
export function describeFsError(err: unknown, what: string): string {
  const code = (err as { code?: unknown } | null)?.code;
  if (code === "ENOENT") return "does not exist";
  if (code === "EISDIR") return "is a directory, not a file";
  return `${what}: ${err instanceof Error ? err.message : String(err)}`;
}

export async function isFile(file: string): Promise<boolean> {
  try {
    return (await stat(file)).isFile();
  } catch {
    return false;
  }
}

export async function isDirectory(dir: string): Promise<boolean> {
  try {
    return (await stat(dir)).isDirectory();
  } catch {
    return false;
  }
}

/** Names of the entries of `dir`, sorted; an empty list when it does not exist. */
export async function listDir(dir: string): Promise<{ name: string; dir: boolean }[]> {
  try {
    const entries = await readdir(dir, { withFileTypes: true });
    return entries.map((e) => ({ name: e.name, dir: e.isDirectory() })).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  } catch {
    return [];
  }
}

/** `rel` (with `/`) resolved inside `root`; undefined when it is absolute or escapes the root. */
export function insideRoot(root: string, rel: string): string | undefined {
  if (path.isAbsolute(rel) || rel.includes("\\")) return undefined;
  const full = path.resolve(root, rel);
  const back = path.relative(path.resolve(root), full);
  return back === "" || back.startsWith("..") || path.isAbsolute(back) ? undefined : full;
}

/** `file` relative to `base`, with `/` separators (stable across platforms, for messages and docs). */
export function posixRelative(base: string, file: string): string {
  const rel = path.relative(base, file);
  return rel.split(path.sep).join("/");
}

/** Deterministic pretty JSON (2 spaces, trailing newline), as every registry file is written. */
export function jsonText(value: unknown): string {
  return JSON.stringify(value, null, 2) + "\n";
}
