/**
 * `events scaffold <ns.name>`: create `<ns>/<name>/v<N>/` (schema, example, fixtures) and add the
 * entry to registry.yaml through the yaml Document API, so the file's comments and formatting
 * stay as they are. A new major of an existing event starts from the previous major's schema.
 */
import { mkdir, readFile, writeFile } from "node:fs/promises";
import * as path from "node:path";
import { LineCounter, isMap, isSeq, parseDocument, type Document, type YAMLSeq } from "yaml";
import type { EnvelopeKind } from "../../abi/envelope.js";
import { RegistryInvalidError, UsageError } from "../core/errors.js";
import { eventKey, type EventEntry } from "./catalog.js";
import { INDEX_FILE, fqdnProblem, parseEventRef, splitFqdn, versionDir } from "./conventions.js";
import { isDirectory, jsonText, readJson } from "./files.js";
import { scaffoldFiles } from "./scaffold-templates.js";

export interface ScaffoldOptions {
  readonly root: string;
  readonly fqdn: string;
  readonly kind: EnvelopeKind;
  readonly version: number;
  readonly summary?: string;
  /** Commands only: "fqdn@version" of an already registered reply. */
  readonly reply?: string;
  readonly nowMs?: number;
}

export interface ScaffoldResult {
  /** Files created, relative to the root (registry.yaml last, as modified). */
  readonly created: readonly string[];
  readonly entry: EventEntry;
  /** Set when the schema was started from an older major. */
  readonly basedOn?: string;
}

/** How registry.yaml is written back: like the shipped file (double-quoted strings, no flow padding). */
const YAML_OUTPUT = { flowCollectionPadding: false, lineWidth: 0, defaultStringType: "QUOTE_DOUBLE", defaultKeyType: "PLAIN" } as const;

export async function scaffoldEvent(options: ScaffoldOptions): Promise<ScaffoldResult> {
  const { root, fqdn, kind, version } = options;
  const bad = fqdnProblem(fqdn);
  if (bad !== undefined) throw new UsageError(`"${fqdn}" is not a valid event name: it ${bad} (e.g. nlp.intent.detected)`);
  if (!Number.isInteger(version) || version < 1) throw new UsageError(`--version must be an integer from 1, got ${version}`);
  if (options.reply !== undefined && kind !== "command") throw new UsageError(`--reply is for commands only (this is kind "${kind}")`);

  const indexFile = path.join(root, INDEX_FILE);
  const { doc, seq } = await loadIndexDocument(indexFile);
  const existing = seq.toJSON().filter(isEntryLike);
  const key = eventKey(fqdn, version);
  if (existing.some((e) => e.fqdn === fqdn && e.version === version)) throw new UsageError(`${key} is already registered in ${indexFile}`);
  if (options.reply !== undefined) checkReply(options.reply, existing);
  const dir = versionDir(fqdn, version);
  if (await isDirectory(path.join(root, dir))) {
    throw new UsageError(`${path.join(root, dir)} already exists without a registry entry; delete it or register it by hand`);
  }

  const previous = existing
    .filter((e) => e.fqdn === fqdn && e.version < version && e.kind === kind)
    .sort((a, b) => b.version - a.version)[0];
  const prevSchema = previous === undefined ? undefined : await readJson(path.join(root, previous.schema));
  const prevExample = previous?.example === undefined ? undefined : await readJson(path.join(root, previous.example));
  const { files, entry } = scaffoldFiles({
    fqdn,
    version,
    kind,
    nowMs: options.nowMs ?? Date.now(),
    ...(options.summary === undefined ? {} : { summary: options.summary }),
    ...(options.reply === undefined ? {} : { reply: options.reply }),
    ...(prevSchema?.ok === true ? { previous: prevSchema.value as Record<string, unknown> } : {}),
    ...(prevExample?.ok === true ? { previousPayload: (prevExample.value as { payload?: unknown }).payload } : {}),
  });

  for (const [rel, value] of files) {
    await mkdir(path.dirname(path.join(root, rel)), { recursive: true });
    await writeFile(path.join(root, rel), jsonText(value), { flag: "wx" });
  }
  insertEntry(doc, seq, entry);
  await writeFile(indexFile, doc.toString(YAML_OUTPUT));
  const derived = previous !== undefined && prevSchema?.ok === true && prevExample?.ok === true;
  return { created: [...files.keys(), INDEX_FILE], entry, ...(derived ? { basedOn: eventKey(previous.fqdn, previous.version) } : {}) };
}

async function loadIndexDocument(file: string): Promise<{ doc: Document; seq: YAMLSeq }> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (err) {
    throw new UsageError(`cannot read ${file}: ${err instanceof Error ? err.message : String(err)} (is --root the registry folder?)`);
  }
  const lines = new LineCounter();
  let doc: Document = parseDocument(text, { lineCounter: lines, prettyErrors: false });
  if (doc.errors.length > 0) {
    const issues = doc.errors.map((e) => ({ pointer: `${INDEX_FILE}:${lines.linePos(e.pos[0]).line}`, message: e.message.split("\n")[0] ?? e.message }));
    throw new RegistryInvalidError(`${file} is not valid YAML; fix it before scaffolding`, { issues });
  }
  // Empty (or comments only): start the list, keeping the comments.
  if (doc.contents === null) doc = parseDocument(`${text.trimEnd()}\nevents: []\n`);
  if (!isMap(doc.contents)) throw new RegistryInvalidError(`${file} must be a mapping with an \`events:\` list`);
  let seq = doc.get("events", true);
  if (seq === undefined || seq === null) {
    doc.set("events", doc.createNode([]));
    seq = doc.get("events", true);
  }
  if (!isSeq(seq)) throw new RegistryInvalidError(`${file}: \`events\` must be a list`);
  seq.flow = false;
  return { doc, seq };
}

type EntryLike = Pick<EventEntry, "fqdn" | "version" | "kind" | "schema" | "example">;

function isEntryLike(v: unknown): v is EntryLike {
  const e = v as Partial<EntryLike> | null;
  return typeof e === "object" && e !== null && typeof e.fqdn === "string" && typeof e.version === "number";
}

function checkReply(reply: string, existing: readonly EntryLike[]): void {
  const ref = parseEventRef(reply);
  if (ref === undefined) throw new UsageError(`--reply must be fqdn@version (e.g. repo.skill.install.result@1), got "${reply}"`);
  const target = existing.find((e) => e.fqdn === ref.fqdn && e.version === ref.version);
  if (target === undefined) throw new UsageError(`--reply ${reply} is not registered; scaffold it first with --kind reply`);
  if (target.kind !== "reply") throw new UsageError(`--reply ${reply} has kind "${target.kind}"; it must be a reply`);
}

/** Add the entry after the last entry of its namespace (or at the end), lists in flow style. */
function insertEntry(doc: Document, seq: YAMLSeq, entry: EventEntry): void {
  const node = doc.createNode(entry);
  node.spaceBefore = seq.items.length > 0;
  for (const pair of node.items) {
    if (isSeq(pair.value)) pair.value.flow = true;
  }
  const { ns } = splitFqdn(entry.fqdn);
  let at = seq.items.length;
  seq.items.forEach((item, i) => {
    const fqdn = isMap(item) ? item.get("fqdn") : undefined;
    if (typeof fqdn === "string" && splitFqdn(fqdn).ns === ns) at = i + 1;
  });
  seq.items.splice(at, 0, node);
}
