/**
 * `adaos-edge run`: load the config, start the agent, and stop it in reverse order on SIGTERM or
 * SIGINT within the shutdown deadline. Start-up problems (invalid config, port taken) end the
 * process with one clear line on stderr and a non-zero status.
 */
import { Agent } from "../app/agent.js";
import { loadConfig } from "../config/load.js";
import { createRootLogger } from "../core/logger.js";
import { VERSION } from "../core/version.js";
import { parse } from "./args.js";
import type { CommandMain } from "./command.js";
import { EXIT } from "./command.js";
import { CONFIG_FLAG_OPTIONS, flagOverrides } from "./flags.js";

const USAGE = "run [--config FILE] [--role hub|member] [--node-id ID] [--data-dir DIR] [--api-host ADDR] [--api-port N] [--nats-port N] [--mqtt-port N] [--root nats://H:4222,…] [--root-leaf nats-leaf://H:7422,…]";
const SIGNALS = ["SIGTERM", "SIGINT"] as const;

export const main: CommandMain = async (args, io) => {
  const { values, positionals } = parse(args, CONFIG_FLAG_OPTIONS, USAGE);
  if (positionals.length > 0) io.err(`warning: ignoring extra arguments: ${positionals.join(" ")}`);
  const { config, warnings } = loadConfig({ file: values.config, env: io.env, cwd: io.cwd, flags: flagOverrides(values) });
  const logger = createRootLogger({ level: config.log.level, nodeId: config.node_id });
  for (const w of warnings) logger.warn(w);

  const abort = new AbortController();
  let stopRequested: (signal: string) => void = () => undefined;
  const stopped = new Promise<string>((resolve) => (stopRequested = resolve));
  const onSignal = (signal: NodeJS.Signals): void => {
    abort.abort(new Error(`${signal} during start-up`));
    stopRequested(signal);
  };
  for (const s of SIGNALS) process.on(s, onSignal);
  try {
    const agent = await Agent.create(config, { logger });
    await agent.start(abort.signal);
    logger.info(
      { url: agent.url, role: config.role, version: VERSION, data_dir: config.data_dir, token_from: agent.token.from, config: config.config_file },
      `adaos-edge ${config.role} ${config.node_id} listening on ${agent.url}`,
    );
    const signal = await stopped;
    logger.info({ signal }, "stopping");
    const deadline = config.shutdown_timeout_ms;
    const timedOut = await Promise.race([
      agent.stop().then(() => false),
      new Promise<boolean>((resolve) => setTimeout(() => resolve(true), deadline).unref()),
    ]);
    if (timedOut) {
      logger.error({ deadline_ms: deadline }, "components did not stop within the deadline; exiting anyway");
      return EXIT.failure;
    }
    logger.info("stopped");
    return EXIT.ok;
  } finally {
    for (const s of SIGNALS) process.off(s, onSignal);
  }
};
