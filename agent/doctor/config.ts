/**
 * The config check. The config is loaded before the checks run, because most of them need it;
 * when it does not load, the other checks still run on the best fallback: built-in defaults plus
 * whatever of the environment and the flags still validates (so `--data-dir` is honoured even
 * when agent.yaml is broken).
 */
import { devNull } from "node:os";
import type { Config } from "../config/config.js";
import { loadConfig, type LoadOptions, type Loaded } from "../config/load.js";
import { AdaosError } from "../core/errors.js";
import { describeError, fail, ok, warn, type Check, type Finding } from "./check.js";

export type ConfigOutcome =
  | { readonly ok: true; readonly loaded: Loaded }
  | { readonly ok: false; readonly error: unknown; readonly fallback: Config; readonly fallbackFrom: string };

/** Load the config the way `run` would; on failure, fall back step by step towards the defaults. */
export function loadForDoctor(opts: LoadOptions): ConfigOutcome {
  try {
    return { ok: true, loaded: loadConfig(opts) };
  } catch (error) {
    // An empty file (the null device) in place of agent.yaml: loadConfig then reads no file at all.
    const attempts: ReadonlyArray<[string, LoadOptions]> = [
      ["defaults, environment and flags", { ...opts, file: devNull }],
      ["defaults and flags", { ...opts, file: devNull, env: {} }],
      ["built-in defaults", { ...opts, file: devNull, env: {}, flags: [] }],
    ];
    for (const [from, attempt] of attempts) {
      try {
        const { config } = loadConfig(attempt);
        return { ok: false, error, fallback: { ...config, config_file: null }, fallbackFrom: from };
      } catch {
        // try the next, smaller set of sources
      }
    }
    throw error;
  }
}

export function configOf(outcome: ConfigOutcome): Config {
  return outcome.ok ? outcome.loaded.config : outcome.fallback;
}

export const configCheck: Check = {
  id: "config",
  title: "agent.yaml, environment and flags load and validate",
  run: (ctx) => Promise.resolve(configFinding(ctx.configOutcome)),
};

function configFinding(outcome: ConfigOutcome): Finding {
  if (!outcome.ok) {
    const { error, fallbackFrom } = outcome;
    const rest = `other checks use ${fallbackFrom}`;
    if (error instanceof AdaosError) {
      const details = error.issues.map((i) => `${i.pointer} ${i.message}`);
      return fail(`${error.message}; ${rest}`, "correct the keys listed (in the file, the ADAOS_EDGE_* variable or the flag named), then `adaos-edge config check`", details);
    }
    return fail(`config did not load: ${describeError(error)}; ${rest}`, "run `adaos-edge config check` for the full error");
  }
  const { config, warnings } = outcome.loaded;
  const what = config.config_file === null ? "no config file, built-in defaults" : `${config.config_file} valid`;
  const summary = `${what} (role ${config.role}, node ${config.node_id})`;
  if (warnings.length > 0) {
    return warn(`${summary} with ${warnings.length} warning${warnings.length > 1 ? "s" : ""}`, "unset or rename the variables listed (keys: `adaos-edge config check --print`)", warnings);
  }
  return ok(summary);
}
