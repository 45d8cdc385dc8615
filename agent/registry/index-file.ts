/**
 * Reading registry.yaml: YAML parse errors with line numbers, the shape of every entry checked
 * against registry.schema.json, and the well-formed entries in canonical key order. An entry
 * with a shape error is reported and left out, so one bad entry does not hide the others.
 */
import { readFile } from "node:fs/promises";
import * as path from "node:path";
import { LineCounter, parseDocument, type Document } from "yaml";
import type { EventEntry } from "./catalog.js";
import { oneLineMessage, createIndexAjv } from "./ajv.js";
import { INDEX_FILE, INDEX_SCHEMA_FILE, canonicalEntry, fqdnProblem } from "./conventions.js";
import { describeFsError, readJson } from "./files.js";
import { issuesFromAjv } from "./issues.js";
import { error, type Problem } from "./problems.js";

export interface IndexedEntry {
  readonly entry: EventEntry;
  /** Position in the `events:` list. */
  readonly index: number;
  /** `registry.yaml:<line>` of the entry, for problems. */
  readonly where: string;
}

export interface RegistryIndex {
  readonly entries: readonly IndexedEntry[];
  readonly problems: readonly Problem[];
}

type Raw = Record<string, unknown>;

export async function readIndex(root: string): Promise<RegistryIndex> {
  let text: string;
  try {
    text = await readFile(path.join(root, INDEX_FILE), "utf8");
  } catch (err) {
    const hint = " (is --root the registry folder, e.g. abi/events?)";
    return { entries: [], problems: [error(INDEX_FILE, describeFsError(err, "cannot read") + hint)] };
  }
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false });
  if (doc.errors.length > 0) {
    const problems = doc.errors.map((e) => error(`${INDEX_FILE}:${lines.linePos(e.pos[0]).line}`, `YAML: ${firstLine(e.message)}`));
    return { entries: [], problems };
  }
  let data: unknown;
  try {
    data = doc.toJS();
  } catch (err) {
    return { entries: [], problems: [error(INDEX_FILE, `YAML: ${oneLineMessage(err)}`)] };
  }
  if (data === null || data === undefined) {
    return { entries: [], problems: [error(INDEX_FILE, "is empty; expected `events:` with a list of entries")] };
  }
  const validate = await indexValidator(root);
  if (typeof validate === "string") return { entries: [], problems: [error(INDEX_SCHEMA_FILE, validate)] };

  const lineOf = (pointer: string): string => `${INDEX_FILE}:${nodeLine(doc, lines, pointer)}`;
  const problems: Problem[] = [];
  const badEntries = new Set<number>();
  if (!validate(data)) {
    for (const e of validate.errors ?? []) {
      const issue = issuesFromAjv([e])[0];
      if (issue === undefined) continue;
      const m = /^\/events\/(\d+)(\/.*)?$/.exec(issue.pointer);
      if (m === null) {
        problems.push(error(lineOf(issue.pointer), `${issue.pointer} ${issue.message}`));
        continue;
      }
      const index = Number(m[1]);
      badEntries.add(index);
      const raw = (data as { events: Raw[] }).events[index];
      const field = m[2] ?? "";
      let message = issue.message;
      if (field === "/fqdn" && typeof raw?.fqdn === "string" && (e.keyword === "pattern" || e.keyword === "maxLength")) {
        message = `"${raw.fqdn}" ${fqdnProblem(raw.fqdn) ?? message}`;
      }
      problems.push(error(lineOf(issue.pointer), `${label(raw, index)}${field === "" ? "" : ` ${field.slice(1)}`} ${message}`));
    }
  }
  const rawEntries = Array.isArray((data as Raw).events) ? ((data as Raw).events as unknown[]) : [];
  const entries: IndexedEntry[] = [];
  rawEntries.forEach((raw, index) => {
    if (badEntries.has(index) || typeof raw !== "object" || raw === null) return;
    entries.push({ entry: canonicalEntry(raw as EventEntry), index, where: lineOf(`/events/${index}`) });
  });
  return { entries, problems };
}

async function indexValidator(root: string) {
  const read = await readJson(path.join(root, INDEX_SCHEMA_FILE));
  if (!read.ok) return `${read.message} (the JSON schema of registry.yaml)`;
  try {
    return createIndexAjv().compile(read.value as object);
  } catch (err) {
    return `does not compile: ${oneLineMessage(err)}`;
  }
}

function label(raw: Raw | undefined, index: number): string {
  if (raw !== undefined && typeof raw.fqdn === "string" && typeof raw.version === "number") return `${raw.fqdn}@${raw.version}`;
  return `events[${index}]`;
}

/** 1-based line of the YAML node at `pointer`, or of its nearest existing parent. */
function nodeLine(doc: Document, lines: LineCounter, pointer: string): number {
  const keys: (string | number)[] = pointer.split("/").slice(1).map((t) => (/^\d+$/.test(t) ? Number(t) : t.replace(/~1/g, "/").replace(/~0/g, "~")));
  for (let n = keys.length; n >= 0; n--) {
    const node: unknown = n === 0 ? doc.contents : doc.getIn(keys.slice(0, n), true);
    const range = (node as { range?: readonly number[] } | null | undefined)?.range;
    if (range?.[0] !== undefined) return lines.linePos(range[0]).line;
  }
  return 1;
}

function firstLine(message: string): string {
  return message.split("\n")[0] ?? message;
}
