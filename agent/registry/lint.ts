/**
 * `events registry lint`: every check of a registry folder, as a list of problems. Loading
 * problems come first (YAML, entry shape, duplicates, schema files, compilation), then per entry
 * the naming/layout/reply checks, the schema content, examples and fixtures, then orphans.
 * Nothing here throws on bad content.
 */
import * as path from "node:path";
import { eventKey } from "./catalog.js";
import { lintEntries, lintSchema } from "./lint-entry.js";
import { lintExamples, lintFixtures } from "./lint-files.js";
import { lintOrphans } from "./lint-orphans.js";
import { errorsOf, type Problem } from "./problems.js";
import { catalogOf, compileRegistry, type CompiledRegistry } from "./source.js";

export interface LintReport {
  readonly root: string;
  /** Entries that could be read (well-formed, not duplicated). */
  readonly entries: number;
  readonly problems: readonly Problem[];
  readonly errors: number;
  readonly warnings: number;
}

export async function lintRegistry(root: string): Promise<LintReport> {
  const compiled = await compileRegistry(path.resolve(root));
  const problems = await lintCompiled(compiled);
  const errors = errorsOf(problems).length;
  return { root, entries: compiled.entries.length, problems, errors, warnings: problems.length - errors };
}

/** Every problem of an already compiled registry: its loading problems plus the lint checks. */
export async function lintCompiled(compiled: CompiledRegistry): Promise<Problem[]> {
  return [...compiled.problems, ...(await lintChecks(compiled))];
}

async function lintChecks(compiled: CompiledRegistry): Promise<Problem[]> {
  const { root, entries } = compiled;
  const catalog = catalogOf(compiled);
  const problems: Problem[] = lintEntries(entries);
  for (const { entry } of entries) {
    const key = eventKey(entry.fqdn, entry.version);
    const schema = compiled.schemas.get(key);
    if (schema !== undefined) problems.push(...lintSchema(entry, schema));
    problems.push(...(await lintExamples(root, entry, catalog)));
    problems.push(...(await lintFixtures(root, entry, compiled.validators.get(key))));
  }
  // With a malformed index some entries are missing, so their folders would look orphaned.
  if (compiled.indexOk) problems.push(...(await lintOrphans(root, entries.map((ie) => ie.entry))));
  return problems;
}
