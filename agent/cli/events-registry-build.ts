/**
 * `adaos-edge events registry build [--root DIR] [--check]`: regenerate every generated file
 * (see registry/codegen.ts), or with --check list the stale ones and exit 1.
 */
import { UsageError } from "../core/errors.js";
import { REGENERATE_COMMAND, generate, staleFiles, writeGeneration } from "../registry/codegen.js";
import { posixRelative } from "../registry/files.js";
import { parse } from "./args.js";
import { EXIT, type CommandMain } from "./command.js";

const USAGE = "events registry build [--root DIR] [--check]";

export const main: CommandMain = async (args, io) => {
  const { values, positionals } = parse(args, { root: { type: "string" }, check: { type: "boolean" } }, USAGE);
  if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"\nusage: ${USAGE}`);
  const gen = await generate({ cwd: io.cwd, ...(values.root === undefined ? {} : { root: values.root }) });
  const rel = (file: string): string => posixRelative(io.cwd, file);

  if (values.check === true) {
    const stale = await staleFiles(gen);
    if (stale.length === 0) {
      io.out(`ok: ${gen.files.length} generated files are up to date`);
      return EXIT.ok;
    }
    const obsolete = new Set(gen.obsolete);
    for (const f of stale) io.out(`stale ${rel(f)}${obsolete.has(f) ? " (obsolete: should be removed)" : ""}`);
    const how = values.root === undefined ? REGENERATE_COMMAND : `adaos-edge events registry build --root ${values.root}`;
    io.err(`${stale.length} generated file(s) out of date; run \`${how}\` to regenerate`);
    return EXIT.failure;
  }

  const { written, removed } = await writeGeneration(gen);
  for (const f of written) io.out(`wrote ${rel(f)}`);
  for (const f of removed) io.out(`removed ${rel(f)}`);
  io.out(`${written.length} written, ${removed.length} removed, ${gen.files.length - written.length} unchanged`);
  return EXIT.ok;
};
