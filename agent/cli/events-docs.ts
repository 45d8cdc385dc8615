/** `adaos-edge events docs [--root DIR] [--out DIR]`: write the markdown event reference (default docs/events). */
import { mkdir, writeFile } from "node:fs/promises";
import * as path from "node:path";
import { UsageError } from "../core/errors.js";
import { EVENTS_DOCS } from "../registry/codegen.js";
import { DEFAULT_REGISTRY_ROOT } from "../registry/conventions.js";
import { obsoletePages, removeFiles, renderDocs } from "../registry/docs.js";
import { posixRelative } from "../registry/files.js";
import { assertNoErrors } from "../registry/problems.js";
import { compileRegistry } from "../registry/source.js";
import { parse } from "./args.js";
import { EXIT, type CommandMain } from "./command.js";

const USAGE = "events docs [--root DIR] [--out DIR]";

export const main: CommandMain = async (args, io) => {
  const { values, positionals } = parse(args, { root: { type: "string" }, out: { type: "string" } }, USAGE);
  // `events docs build` is the seed's spelling; accept it.
  const rest = positionals[0] === "build" ? positionals.slice(1) : positionals;
  if (rest.length > 0) throw new UsageError(`unexpected argument "${rest[0]}"\nusage: ${USAGE}`);
  const root = path.resolve(io.cwd, values.root ?? DEFAULT_REGISTRY_ROOT);
  const out = path.resolve(io.cwd, values.out ?? EVENTS_DOCS);

  const compiled = await compileRegistry(root);
  assertNoErrors(compiled.problems, root, "cannot write the event docs");
  const pages = await renderDocs(compiled, out);
  await mkdir(out, { recursive: true });
  for (const [name, content] of pages) await writeFile(path.join(out, name), content);
  const obsolete = await obsoletePages(out, pages);
  await removeFiles(obsolete);
  for (const f of obsolete) io.out(`removed ${posixRelative(io.cwd, f)}`);
  io.out(`wrote ${pages.size} pages to ${posixRelative(io.cwd, out) || "."} (README.md and ${pages.size - 1} events)`);
  return EXIT.ok;
};
