/**
 * `adaos-edge events validate <file.json>... [--root DIR]`: check envelope + payload exactly as an
 * ingress would. Uses the precompiled catalog (what the agent runs) unless --root names a registry
 * folder, which is then compiled from source. Prints `ok <event>@<version> <id>`, or one
 * `<pointer> <message>` line per issue and exits 1.
 */
import * as path from "node:path";
import { AdaosError, UsageError } from "../core/errors.js";
import type { EventCatalog } from "../registry/catalog.js";
import { checkEnvelope } from "../registry/check.js";
import { readJson } from "../registry/files.js";
import { parse } from "./args.js";
import { EXIT, type CliIo, type CommandMain } from "./command.js";

const USAGE = "events validate <file.json>... [--root DIR]";

export const main: CommandMain = async (args, io) => {
  const { values, positionals } = parse(args, { root: { type: "string" } }, USAGE);
  if (positionals.length === 0) throw new UsageError(`missing the envelope file to validate\nusage: ${USAGE}`);
  const catalog = await loadCatalog(io, values.root);
  let failed = 0;
  for (const file of positionals) {
    if (!(await validateFile(catalog, file, io))) failed++;
  }
  return failed > 0 ? EXIT.failure : EXIT.ok;
};

async function loadCatalog(io: CliIo, root: string | undefined): Promise<EventCatalog> {
  if (root === undefined) {
    const { precompiledCatalog } = await import("../registry/precompiled.js");
    return precompiledCatalog();
  }
  const { loadSourceCatalog } = await import("../registry/source.js");
  return loadSourceCatalog(path.resolve(io.cwd, root));
}

async function validateFile(catalog: EventCatalog, file: string, io: CliIo): Promise<boolean> {
  const read = await readJson(path.resolve(io.cwd, file));
  if (!read.ok) {
    io.err(`${file}: ${read.message}`);
    return false;
  }
  try {
    const { envelope } = checkEnvelope(catalog, read.value);
    io.out(`ok ${envelope.event_name}@${envelope.version} ${envelope.id}`);
    return true;
  } catch (err) {
    if (!(err instanceof AdaosError)) throw err;
    io.err(`${file}: ${err.name} (${err.code})`);
    if (err.issues.length === 0) io.out(`/ ${err.message}`);
    for (const issue of err.issues) io.out(`${issue.pointer} ${issue.message}`);
    return false;
  }
}
