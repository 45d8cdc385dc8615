/**
 * `npm run codegen` (= `adaos-edge events registry build`): every generated file of the project,
 * computed in memory from its sources. Write mode writes what changed and removes obsolete doc
 * pages; check mode lists what is stale, so CI fails when someone forgot to regenerate.
 *
 *   <root>/_dist/registry.json          merged registry index (+ payload schemas)
 *   <root>/_dist/validators.ts          ajv standalone validators (envelope + payloads)
 *   agent/config/schema.validator.ts    ajv standalone config validator
 *   docs/errors.md                      error code table from abi/errors.json
 *   docs/events/*.md                    the event reference
 *
 * <root> is the registry folder (default abi/events); the other paths are relative to `cwd`.
 */
import { mkdir, readFile, writeFile } from "node:fs/promises";
import * as path from "node:path";
import { renderConfigValidator, renderErrorsDoc } from "./codegen-extra.js";
import { renderRegistryJson, renderValidators } from "./codegen-events.js";
import { DEFAULT_REGISTRY_ROOT, DIST_DIR } from "./conventions.js";
import { obsoletePages, removeFiles, renderDocs } from "./docs.js";
import { UsageError } from "../core/errors.js";
import { readJson } from "./files.js";
import { lintCompiled } from "./lint.js";
import { assertNoErrors } from "./problems.js";
import { compileRegistry } from "./source.js";

export const CONFIG_SCHEMA = "agent/config/schema.json";
export const CONFIG_VALIDATOR = "agent/config/schema.validator.ts";
export const ERROR_CATALOG = "abi/errors.json";
export const ERRORS_DOC = "docs/errors.md";
export const EVENTS_DOCS = "docs/events";
export const REGENERATE_COMMAND = "npm run codegen";

export interface GeneratedFile {
  /** Absolute path. */
  readonly path: string;
  readonly content: string;
}

export interface Generation {
  readonly files: readonly GeneratedFile[];
  /** Generated files on disk that should no longer exist (absolute paths). */
  readonly obsolete: readonly string[];
}

export interface CodegenOptions {
  readonly cwd: string;
  /** Registry folder; relative to cwd. Default abi/events. */
  readonly root?: string;
}

/** Everything generated, in memory. Throws RegistryInvalidError when the registry does not lint clean. */
export async function generate(options: CodegenOptions): Promise<Generation> {
  const root = path.resolve(options.cwd, options.root ?? DEFAULT_REGISTRY_ROOT);
  const compiled = await compileRegistry(root);
  assertNoErrors(await lintCompiled(compiled), root, "cannot generate code");
  const dist = path.join(root, DIST_DIR);
  const files: GeneratedFile[] = [
    { path: path.join(dist, "registry.json"), content: renderRegistryJson(compiled) },
    { path: path.join(dist, "validators.ts"), content: renderValidators(compiled) },
    { path: path.join(options.cwd, CONFIG_VALIDATOR), content: renderConfigValidator(await sourceJson(options.cwd, CONFIG_SCHEMA)) },
    { path: path.join(options.cwd, ERRORS_DOC), content: renderErrorsDoc(await sourceJson(options.cwd, ERROR_CATALOG)) },
  ];
  const docsDir = path.join(options.cwd, EVENTS_DOCS);
  const pages = await renderDocs(compiled, docsDir);
  for (const [name, content] of pages) files.push({ path: path.join(docsDir, name), content });
  return { files, obsolete: await obsoletePages(docsDir, pages) };
}

/** Files whose content on disk differs from the generation (missing ones included), plus obsolete ones. */
export async function staleFiles(gen: Generation): Promise<string[]> {
  const stale: string[] = [];
  for (const f of gen.files) {
    if ((await readOrUndefined(f.path)) !== f.content) stale.push(f.path);
  }
  return [...stale, ...gen.obsolete];
}

/** Write the files that changed and remove obsolete ones; returns what was touched. */
export async function writeGeneration(gen: Generation): Promise<{ written: string[]; removed: string[] }> {
  const written: string[] = [];
  for (const f of gen.files) {
    if ((await readOrUndefined(f.path)) === f.content) continue;
    await mkdir(path.dirname(f.path), { recursive: true });
    await writeFile(f.path, f.content);
    written.push(f.path);
  }
  await removeFiles(gen.obsolete);
  return { written, removed: [...gen.obsolete] };
}

async function sourceJson(cwd: string, rel: string): Promise<Record<string, unknown>> {
  const read = await readJson(path.join(cwd, rel));
  if (!read.ok) throw new UsageError(`${path.join(cwd, rel)} ${read.message}; run the build from the repository root`);
  if (typeof read.value !== "object" || read.value === null) throw new UsageError(`${rel} must hold a JSON object`);
  return read.value as Record<string, unknown>;
}

async function readOrUndefined(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, "utf8");
  } catch {
    return undefined;
  }
}
