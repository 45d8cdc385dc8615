/**
 * Lint checks on the files beside a schema: every examples/*.json must be a full envelope of this
 * entry that passes the ingress check; fixtures/valid/*.json payloads must pass and
 * fixtures/invalid/*.json payloads must fail.
 */
import * as path from "node:path";
import { AdaosError } from "../core/errors.js";
import { eventKey, type CompiledValidator, type EventCatalog, type EventEntry } from "./catalog.js";
import { checkEnvelope } from "./check.js";
import { versionDir } from "./conventions.js";
import { isFile, listDir, readJson } from "./files.js";
import { issuesFromAjv } from "./issues.js";
import { error, warning, type Problem } from "./problems.js";

export async function lintExamples(root: string, entry: EventEntry, catalog: EventCatalog): Promise<Problem[]> {
  const problems: Problem[] = [];
  const dir = `${versionDir(entry.fqdn, entry.version)}/examples`;
  const files = await jsonFiles(root, dir, problems);
  if (entry.example !== undefined && !(await isFile(path.join(root, entry.example)))) {
    problems.push(error(entry.example, `example of ${eventKey(entry.fqdn, entry.version)} does not exist`));
  }
  for (const rel of files) problems.push(...(await lintExample(root, rel, entry, catalog)));
  return problems;
}

async function lintExample(root: string, rel: string, entry: EventEntry, catalog: EventCatalog): Promise<Problem[]> {
  const read = await readJson(path.join(root, rel));
  if (!read.ok) return [error(rel, read.message)];
  const env = read.value;
  if (typeof env !== "object" || env === null || Array.isArray(env)) return [error(rel, "must be a JSON object (a full envelope)")];
  const problems: Problem[] = [];
  const e = env as Record<string, unknown>;
  const expect: [string, unknown][] = [["event_name", entry.fqdn], ["version", entry.version], ["kind", entry.kind]];
  for (const [field, want] of expect) {
    if (e[field] !== want) problems.push(error(rel, `/${field} must be ${JSON.stringify(want)} for this entry, got ${JSON.stringify(e[field])}`));
  }
  if (problems.length > 0) return problems;
  if (catalog.get(entry.fqdn, entry.version) === undefined) return problems; // schema did not compile: reported already
  try {
    checkEnvelope(catalog, env);
  } catch (err) {
    if (!(err instanceof AdaosError)) throw err;
    if (err.issues.length === 0) problems.push(error(rel, err.message));
    for (const issue of err.issues) problems.push(error(rel, `${issue.pointer} ${issue.message}`));
  }
  return problems;
}

export async function lintFixtures(root: string, entry: EventEntry, validate: CompiledValidator | undefined): Promise<Problem[]> {
  const problems: Problem[] = [];
  const base = `${versionDir(entry.fqdn, entry.version)}/fixtures`;
  const key = eventKey(entry.fqdn, entry.version);
  for (const expectValid of [true, false]) {
    const dir = `${base}/${expectValid ? "valid" : "invalid"}`;
    const files = await jsonFiles(root, dir, problems);
    if (files.length === 0) {
      problems.push(warning(dir, `${key} has no ${expectValid ? "valid" : "invalid"} payload fixtures (${dir}/*.json)`));
      continue;
    }
    if (validate === undefined) continue; // schema did not compile: reported already
    for (const rel of files) {
      const read = await readJson(path.join(root, rel));
      if (!read.ok) {
        problems.push(error(rel, read.message));
        continue;
      }
      const ok = validate(read.value);
      if (expectValid && !ok) {
        for (const issue of issuesFromAjv(validate.errors)) problems.push(error(rel, `valid fixture fails: ${issue.pointer} ${issue.message}`));
      } else if (!expectValid && ok) {
        problems.push(error(rel, "invalid fixture passes the schema; it must fail (fix the schema or move the fixture to valid/)"));
      }
    }
  }
  return problems;
}

/** The *.json files of a registry folder (root-relative); other files are warned about. */
async function jsonFiles(root: string, dir: string, problems: Problem[]): Promise<string[]> {
  const out: string[] = [];
  for (const f of await listDir(path.join(root, dir))) {
    const rel = `${dir}/${f.name}`;
    if (!f.dir && f.name.endsWith(".json")) out.push(rel);
    else problems.push(warning(rel, `unexpected ${f.dir ? "folder" : "file"}; only *.json files belong in ${dir}/`));
  }
  return out;
}
