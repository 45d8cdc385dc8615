/**
 * `adaos-edge nodes [--json]`: the subnet as the running agent's directory sees it — a table, or
 * one JSON object per node with --json. On a member it is the hub's latest snapshot. The
 * credential subcommands (`nodes add|list|revoke`) live in nodes.ts.
 */
import { UsageError } from "../core/errors.js";
import { API_FLAGS, ApiClient } from "./api-client.js";
import { parse } from "./args.js";
import { EXIT, type CommandMain } from "./command.js";
import { nodesTable, type NodeRow } from "./nodes-table.js";

const USAGE = "nodes [--json] [--api URL] [--token T] [--data-dir DIR]   (credentials: nodes add|list|revoke)";

export const main: CommandMain = async (args, io) => {
  const { values, positionals } = parse(args, { ...API_FLAGS, json: { type: "boolean", default: false } }, USAGE);
  if (positionals.length > 0) throw new UsageError(`unknown nodes subcommand "${positionals[0]}"; expected add, list or revoke, or none for the directory\nusage: ${USAGE}`);
  const nodes = (await ApiClient.fromFlags(values, io).subnetNodes()) as unknown as readonly NodeRow[];
  if (values.json) {
    for (const n of nodes) io.out(JSON.stringify(n));
    return EXIT.ok;
  }
  if (nodes.length === 0) {
    io.err("adaos-edge: the directory is empty (no node has announced itself yet)");
    return EXIT.ok;
  }
  for (const line of nodesTable(nodes, Date.now())) io.out(line);
  return EXIT.ok;
};
