/**
 * Orphans: folders and files under the registry root that no entry refers to. A version folder
 * with a schema.json but no entry is an error (a forgotten or half-removed event); anything that
 * does not fit the `<ns>/<name>/v<N>/` layout is a warning.
 */
import * as path from "node:path";
import type { EventEntry } from "./catalog.js";
import { DIST_DIR, INDEX_FILE, INDEX_SCHEMA_FILE } from "./conventions.js";
import { listDir } from "./files.js";
import { error, warning, type Problem } from "./problems.js";

const ROOT_FILES = new Set([INDEX_FILE, INDEX_SCHEMA_FILE, "README.md"]);
const VERSION_DIR = /^v[1-9]\d*$/;
const VERSION_CONTENT = new Set(["schema.json", "examples", "fixtures", "README.md"]);

export async function lintOrphans(root: string, entries: readonly EventEntry[]): Promise<Problem[]> {
  const problems: Problem[] = [];
  const referenced = new Set<string>();
  for (const e of entries) {
    referenced.add(e.schema);
    if (e.example !== undefined) referenced.add(e.example);
  }
  const usedDirs = new Set(entries.map((e) => path.posix.dirname(e.schema)));

  for (const top of await listDir(root)) {
    if (!top.dir) {
      if (!ROOT_FILES.has(top.name) && !referenced.has(top.name)) problems.push(warning(top.name, "unexpected file in the registry root"));
      continue;
    }
    if (top.name === DIST_DIR) continue;
    for (const name of await listDir(path.join(root, top.name))) {
      const nameRel = `${top.name}/${name.name}`;
      if (!name.dir) {
        if (!referenced.has(nameRel)) problems.push(warning(nameRel, "unexpected file; the layout is <ns>/<name>/v<N>/schema.json"));
        continue;
      }
      problems.push(...(await lintNameDir(root, nameRel, usedDirs, referenced)));
    }
  }
  return problems;
}

async function lintNameDir(root: string, nameRel: string, usedDirs: ReadonlySet<string>, referenced: ReadonlySet<string>): Promise<Problem[]> {
  const problems: Problem[] = [];
  for (const v of await listDir(path.join(root, nameRel))) {
    const rel = `${nameRel}/${v.name}`;
    if (referenced.has(rel)) continue;
    if (!v.dir || !VERSION_DIR.test(v.name)) {
      if (!usedDirs.has(nameRel)) problems.push(warning(rel, "unexpected; the layout is <ns>/<name>/v<N>/ (N a major version from 1)"));
      continue;
    }
    const content = await listDir(path.join(root, rel));
    if (!usedDirs.has(rel)) {
      const hasSchema = content.some((c) => c.name === "schema.json" && !c.dir);
      problems.push(
        hasSchema
          ? error(rel, "is not referenced by any registry entry; add an entry to registry.yaml or delete the folder")
          : warning(rel, "stray folder: no schema.json and no registry entry"),
      );
      continue;
    }
    for (const c of content) {
      if (!VERSION_CONTENT.has(c.name)) problems.push(warning(`${rel}/${c.name}`, "unexpected; a version folder holds schema.json, examples/ and fixtures/"));
    }
    const fixtures = await listDir(path.join(root, rel, "fixtures"));
    for (const f of fixtures) {
      if (!f.dir || (f.name !== "valid" && f.name !== "invalid")) {
        problems.push(warning(`${rel}/fixtures/${f.name}`, "unexpected; fixtures/ holds valid/ and invalid/"));
      }
    }
  }
  return problems;
}
