/**
 * `adaos-edge doctor`: check this node's environment (config, data dir, SQLite, ports, audio,
 * nats-server, clock, disk, glibc, Node) and explain each finding in one line with the fix.
 * Takes the flags of `run`, so it checks what `run` with the same flags would use.
 * Exit 0 when nothing failed (warnings allowed), 1 when any check failed.
 */
import { configOf, loadForDoctor } from "../doctor/config.js";
import { formatJson, formatText } from "../doctor/format.js";
import { doctorChecks, runChecks } from "../doctor/run-checks.js";
import { realSystem, type System } from "../doctor/system.js";
import { parse } from "./args.js";
import type { CliIo, CommandMain } from "./command.js";
import { EXIT } from "./command.js";
import { CONFIG_FLAG_OPTIONS, flagOverrides } from "./flags.js";

export const USAGE = "doctor [--json] [--config FILE] [--role hub|member] [--node-id ID] [--data-dir DIR] [--api-host ADDR] [--api-port N]";

/** The command with its System injected (tests pass a fake; main passes the real one). */
export async function doctor(args: readonly string[], io: CliIo, system: System): Promise<number> {
  const { values, positionals } = parse(args, { ...CONFIG_FLAG_OPTIONS, json: { type: "boolean" } }, USAGE);
  if (positionals.length > 0) io.err(`warning: ignoring extra arguments: ${positionals.join(" ")}`);
  const configOutcome = loadForDoctor({ file: values.config, env: io.env, cwd: io.cwd, flags: flagOverrides(values) });
  const config = configOf(configOutcome);
  const results = await runChecks(doctorChecks(config.role), { config, configOutcome, system });
  if (values.json === true) io.out(formatJson(results));
  else for (const line of formatText(results)) io.out(line);
  return results.some((r) => r.status === "fail") ? EXIT.failure : EXIT.ok;
}

export const main: CommandMain = (args, io) => doctor(args, io, realSystem());
