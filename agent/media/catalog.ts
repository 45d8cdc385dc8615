/**
 * The media member's film catalog: a YAML or JSON file (`version: 1`, `items: [{id, title, file,
 * poster?, aliases?, format?}]`), paths relative to the file, and search by spoken title.
 * Rules: the file is checked whole before use — unknown keys, bad types, duplicate ids and files
 * that are not there are all reported at once, each with its item index (`items[1].file: …`), as
 * one ConfigInvalidError; ids are URL-safe ([a-z0-9_-]) because they become /media/<id>; format
 * comes from the file's extension unless given. search() normalises case, accents and punctuation
 * and tries exact title/alias matches first, then names that contain the query, then names the
 * query contains as whole words ("play inception please"); ties go to catalog order.
 */
import { readFile, stat } from "node:fs/promises";
import { dirname, extname, resolve } from "node:path";
import { parse as parseYaml } from "yaml";
import { ConfigInvalidError, ConfigReadError, type Issue } from "../core/errors.js";

export const MEDIA_FORMATS = ["webm", "mp4"] as const;
export type MediaFormat = (typeof MEDIA_FORMATS)[number];

export interface CatalogItem {
  readonly id: string;
  readonly title: string;
  /** Absolute path of the film. */
  readonly file: string;
  /** Absolute path of its poster image. */
  readonly poster?: string;
  readonly aliases: readonly string[];
  readonly format: MediaFormat;
}

export interface SearchHit {
  readonly item_id: string;
  readonly title: string;
  readonly poster_path?: string;
  readonly format: MediaFormat;
}

const ID = /^[a-z0-9][a-z0-9_-]{0,63}$/;
const ITEM_KEYS = new Set(["id", "title", "file", "poster", "aliases", "format"]);
const TOP_KEYS = new Set(["version", "items"]);
const POSTER_TYPES = new Set([".png", ".jpg", ".jpeg"]);

export class Catalog {
  readonly #byId: ReadonlyMap<string, CatalogItem>;

  constructor(readonly items: readonly CatalogItem[]) {
    this.#byId = new Map(items.map((i) => [i.id, i]));
  }

  get(id: string): CatalogItem | undefined {
    return this.#byId.get(id);
  }

  titles(): string[] {
    return this.items.map((i) => i.title);
  }

  search(query: string): SearchHit | undefined {
    const q = normalise(query);
    if (q.length === 0) return undefined;
    const named = this.items.map((item) => ({ item, names: [item.title, ...item.aliases].map(normalise).filter((n) => n.length > 0) }));
    const found =
      named.find((n) => n.names.includes(q)) ??
      named.find((n) => n.names.some((name) => name.includes(q))) ??
      named.find((n) => n.names.some((name) => ` ${q} `.includes(` ${name} `)));
    if (found === undefined) return undefined;
    const { item } = found;
    return { item_id: item.id, title: item.title, format: item.format, ...(item.poster === undefined ? {} : { poster_path: item.poster }) };
  }
}

/** Lower case, accents dropped, every run of non-letters/digits one space, trimmed. */
export function normalise(text: string): string {
  return text.normalize("NFKD").replace(/\p{M}+/gu, "").toLowerCase().replace(/[^\p{L}\p{N}]+/gu, " ").trim();
}

/** Reads and checks the catalog file; ConfigReadError when it cannot be read or parsed, ConfigInvalidError listing every problem. */
export async function loadCatalog(file: string): Promise<Catalog> {
  const path = resolve(file);
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (err) {
    throw new ConfigReadError(`media catalog ${path} cannot be read: ${(err as Error).message}`, { cause: err });
  }
  let doc: unknown;
  try {
    doc = extname(path).toLowerCase() === ".json" ? JSON.parse(text) : parseYaml(text);
  } catch (err) {
    throw new ConfigReadError(`media catalog ${path} is not valid ${extname(path) === ".json" ? "JSON" : "YAML"}: ${(err as Error).message}`, { cause: err });
  }
  const issues: Issue[] = [];
  const items = await checkDocument(doc, dirname(path), issues);
  if (issues.length > 0) {
    const lines = issues.map((i) => `  ${label(i.pointer)}: ${i.message}`).join("\n");
    throw new ConfigInvalidError(`media catalog ${path} has ${issues.length} problem(s):\n${lines}`, { issues });
  }
  return new Catalog(items);
}

/** "/items/1/file" → "items[1].file". */
function label(pointer: string): string {
  const parts = pointer.split("/").slice(1);
  return parts.map((p, i) => (/^\d+$/.test(p) ? `[${p}]` : i === 0 ? p : `.${p}`)).join("") || "(top)";
}

async function checkDocument(doc: unknown, base: string, issues: Issue[]): Promise<CatalogItem[]> {
  if (!isObject(doc)) {
    issues.push({ pointer: "", message: "must be a mapping with version and items" });
    return [];
  }
  for (const key of Object.keys(doc)) if (!TOP_KEYS.has(key)) issues.push({ pointer: `/${key}`, message: "unknown key (allowed: version, items)" });
  if (doc.version !== 1) issues.push({ pointer: "/version", message: `must be 1, got ${JSON.stringify(doc.version)}` });
  if (!Array.isArray(doc.items) || doc.items.length === 0) {
    issues.push({ pointer: "/items", message: "must be a non-empty list" });
    return [];
  }
  const items: CatalogItem[] = [];
  const seen = new Set<string>();
  for (const [index, raw] of (doc.items as unknown[]).entries()) {
    const item = await checkItem(raw, `/items/${index}`, base, issues);
    if (item === undefined) continue;
    if (seen.has(item.id)) issues.push({ pointer: `/items/${index}/id`, message: `duplicate id ${item.id}` });
    seen.add(item.id);
    items.push(item);
  }
  return items;
}

async function checkItem(raw: unknown, at: string, base: string, issues: Issue[]): Promise<CatalogItem | undefined> {
  if (!isObject(raw)) {
    issues.push({ pointer: at, message: "must be a mapping with id, title and file" });
    return undefined;
  }
  const before = issues.length;
  for (const key of Object.keys(raw)) if (!ITEM_KEYS.has(key)) issues.push({ pointer: `${at}/${key}`, message: `unknown key (allowed: ${[...ITEM_KEYS].join(", ")})` });
  const { id, title, file, poster, aliases, format } = raw;
  if (typeof id !== "string" || !ID.test(id)) issues.push({ pointer: `${at}/id`, message: "must be 1-64 characters of a-z, 0-9, _ and -, starting with a letter or digit" });
  if (typeof title !== "string" || title.trim().length === 0) issues.push({ pointer: `${at}/title`, message: "must be a non-empty string" });
  if (aliases !== undefined && (!Array.isArray(aliases) || aliases.some((a) => typeof a !== "string" || a.trim().length === 0))) {
    issues.push({ pointer: `${at}/aliases`, message: "must be a list of non-empty strings" });
  }
  const filePath = await checkFile(file, `${at}/file`, base, issues);
  const posterPath = poster === undefined ? undefined : await checkFile(poster, `${at}/poster`, base, issues);
  if (posterPath !== undefined && !POSTER_TYPES.has(extname(posterPath).toLowerCase())) issues.push({ pointer: `${at}/poster`, message: "must be a .png, .jpg or .jpeg file" });
  const fmt = format ?? (filePath === undefined ? undefined : extname(filePath).slice(1).toLowerCase());
  if (!MEDIA_FORMATS.includes(fmt as MediaFormat)) {
    issues.push({ pointer: `${at}/format`, message: `must be ${MEDIA_FORMATS.join(" or ")}${format === undefined ? " (or give the file a .webm or .mp4 extension)" : `, got ${JSON.stringify(format)}`}` });
  }
  if (issues.length > before || filePath === undefined) return undefined;
  return {
    id: id as string,
    title: (title as string).trim(),
    file: filePath,
    aliases: ((aliases ?? []) as string[]).map((a) => a.trim()),
    format: fmt as MediaFormat,
    ...(posterPath === undefined ? {} : { poster: posterPath }),
  };
}

async function checkFile(value: unknown, pointer: string, base: string, issues: Issue[]): Promise<string | undefined> {
  if (typeof value !== "string" || value.length === 0) {
    issues.push({ pointer, message: "must be a path (relative to the catalog file)" });
    return undefined;
  }
  const path = resolve(base, value);
  try {
    if (!(await stat(path)).isFile()) {
      issues.push({ pointer, message: `${path} is not a file` });
      return undefined;
    }
  } catch {
    issues.push({ pointer, message: `no such file ${path}` });
    return undefined;
  }
  return path;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}
