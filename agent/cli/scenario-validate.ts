/**
 * `adaos-edge scenario validate <file.yaml>...`: load each scenario file exactly as the agent
 * would (schema, includes, expressions, events against the precompiled catalog) without a
 * running agent. Prints `ok <file> (<id>: N steps, M triggers)` per good file, the loader's
 * message (one `pointer message` line per problem) per bad one, and exits 1 if any is bad.
 */
import { resolve } from "node:path";
import { AdaosError, ScenarioInvalidError, UsageError } from "../core/errors.js";
import { loadScenarioFile } from "../scenarios/load.js";
import { precompiledCatalog } from "../registry/precompiled.js";
import { parse } from "./args.js";
import { EXIT, type CliIo, type CommandMain } from "./command.js";

const USAGE = "scenario validate <file.yaml>...";

export const main: CommandMain = (args, io) => {
  const { positionals } = parse(args, {}, USAGE);
  if (positionals.length === 0) throw new UsageError(`missing the scenario file to validate\nusage: ${USAGE}`);
  const catalog = precompiledCatalog();
  let bad = 0;
  for (const file of positionals) {
    try {
      const s = loadScenarioFile(resolve(io.cwd, file), { catalog });
      io.out(`ok ${file} (${s.id}: ${count(s.steps.length, "step")}, ${count(s.triggers.length, "trigger")})`);
    } catch (err) {
      if (!(err instanceof AdaosError)) throw err;
      bad++;
      report(file, err, io);
    }
  }
  return Promise.resolve(bad > 0 ? EXIT.failure : EXIT.ok);
};

/** The loader's message already names the file and lists each problem; other errors get the file. */
function report(file: string, err: AdaosError, io: CliIo): void {
  const text = err instanceof ScenarioInvalidError ? err.message : `${file}: ${err.message} (${err.code})`;
  for (const line of text.split("\n")) io.err(line);
}

function count(n: number, what: string): string {
  return `${n} ${what}${n === 1 ? "" : "s"}`;
}
