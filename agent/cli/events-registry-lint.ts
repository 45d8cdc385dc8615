/** `adaos-edge events registry lint [--root DIR]`: one line per problem, a summary, exit 1 on any error. */
import * as path from "node:path";
import { UsageError } from "../core/errors.js";
import { DEFAULT_REGISTRY_ROOT } from "../registry/conventions.js";
import { posixRelative } from "../registry/files.js";
import { lintRegistry } from "../registry/lint.js";
import { formatProblem } from "../registry/problems.js";
import { parse } from "./args.js";
import { EXIT, type CommandMain } from "./command.js";

const USAGE = "events registry lint [--root DIR]";

export const main: CommandMain = async (args, io) => {
  const { values, positionals } = parse(args, { root: { type: "string" } }, USAGE);
  if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"\nusage: ${USAGE}`);
  const root = path.resolve(io.cwd, values.root ?? DEFAULT_REGISTRY_ROOT);
  const shown = posixRelative(io.cwd, root) || ".";
  const report = await lintRegistry(root);
  for (const p of report.problems) io.out(formatProblem(p, shown));
  const verdict = report.errors > 0 ? "FAILED" : "ok";
  io.out(`${verdict}: ${shown}: ${report.entries} entries, ${report.errors} error(s), ${report.warnings} warning(s)`);
  return report.errors > 0 ? EXIT.failure : EXIT.ok;
};
