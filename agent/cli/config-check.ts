/** `adaos-edge config check`: validate agent.yaml + environment; one `path message` line per problem, exit 2. */
import type { Config } from "../config/config.js";
import { loadConfig } from "../config/load.js";
import { ConfigInvalidError } from "../core/errors.js";
import { parse } from "./args.js";
import type { CommandMain } from "./command.js";
import { EXIT } from "./command.js";
import { CONFIG_FLAG_OPTIONS, flagOverrides } from "./flags.js";

const USAGE = "config check [--config FILE] [--print] [run flags…]";

/** The config with its secrets replaced, for printing. */
function redacted(config: Config): unknown {
  const hide = (v: string | null): string | null => (v === null ? null : "<redacted>");
  return { ...config, token: hide(config.token), root: { ...config.root, password: hide(config.root.password) }, hub: { ...config.hub, password: hide(config.hub.password) } };
}

export const main: CommandMain = (args, io) => {
  const { values } = parse(args, { ...CONFIG_FLAG_OPTIONS, print: { type: "boolean" } }, USAGE);
  try {
    const { config, warnings } = loadConfig({ file: values.config, env: io.env, cwd: io.cwd, flags: flagOverrides(values) });
    for (const w of warnings) io.err(`warning: ${w}`);
    if (values.print === true) io.out(JSON.stringify(redacted(config), null, 2));
    io.out(`config ok: ${config.config_file ?? "built-in defaults"} (role ${config.role}, node ${config.node_id})`);
    return Promise.resolve(EXIT.ok);
  } catch (err) {
    if (!(err instanceof ConfigInvalidError)) throw err;
    for (const issue of err.issues) io.err(`${issue.pointer} ${issue.message}`);
    io.err(`adaos-edge: ${err.message} (${err.code})`);
    return Promise.resolve(EXIT.usage);
  }
};
