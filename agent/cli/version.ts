/** `adaos-edge version`: the product version, the runtime and the platform. */
import type { CommandMain } from "./command.js";
import { EXIT } from "./command.js";
import { parse } from "./args.js";
import { VERSION } from "../core/version.js";

export const main: CommandMain = (args, io) => {
  const { values } = parse(args, { json: { type: "boolean" } }, "version [--json]");
  const info = { version: VERSION, node: process.versions.node, platform: `${process.platform}-${process.arch}` };
  io.out(values.json === true ? JSON.stringify(info) : `adaos-edge ${info.version} (node ${info.node}, ${info.platform})`);
  return Promise.resolve(EXIT.ok);
};
