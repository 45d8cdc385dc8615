/**
 * `adaos-edge events scaffold <ns.name> [--kind event|command|reply] [--version N] [--root DIR]
 * [--summary TEXT] [--reply fqdn@N]`: create the folder, schema, example and fixtures of a new
 * event and add its registry entry.
 */
import * as path from "node:path";
import type { EnvelopeKind } from "../../abi/envelope.js";
import { UsageError } from "../core/errors.js";
import { DEFAULT_REGISTRY_ROOT } from "../registry/conventions.js";
import { posixRelative } from "../registry/files.js";
import { scaffoldEvent } from "../registry/scaffold.js";
import { intFlag, parse } from "./args.js";
import { EXIT, type CommandMain } from "./command.js";

const USAGE = "events scaffold <ns.name> --kind event|command|reply --version N [--root DIR] [--summary TEXT] [--reply fqdn@N]";
const KINDS: readonly EnvelopeKind[] = ["event", "command", "reply"];

export const main: CommandMain = async (args, io) => {
  const { values, positionals } = parse(
    args,
    { kind: { type: "string" }, version: { type: "string" }, root: { type: "string" }, summary: { type: "string" }, reply: { type: "string" } },
    USAGE,
  );
  const [fqdn, ...extra] = positionals;
  if (fqdn === undefined) throw new UsageError(`missing the event name\nusage: ${USAGE}`);
  if (extra.length > 0) throw new UsageError(`unexpected argument "${extra[0]}"\nusage: ${USAGE}`);
  const kind = (values.kind ?? "event") as EnvelopeKind;
  if (!KINDS.includes(kind)) throw new UsageError(`--kind must be one of ${KINDS.join(", ")}, got "${values.kind}"`);
  const version = intFlag(values.version, "--version", 1, 1_000_000) ?? 1;
  const root = path.resolve(io.cwd, values.root ?? DEFAULT_REGISTRY_ROOT);

  const result = await scaffoldEvent({
    root,
    fqdn,
    kind,
    version,
    ...(values.summary === undefined ? {} : { summary: values.summary }),
    ...(values.reply === undefined ? {} : { reply: values.reply }),
  });
  const shown = posixRelative(io.cwd, root) || ".";
  for (const f of result.created) io.out(`${f === "registry.yaml" ? "updated" : "created"} ${shown}/${f}`);
  if (result.basedOn !== undefined) {
    io.out(`the schema starts from ${result.basedOn}; mark that entry "deprecated" in registry.yaml once consumers have moved`);
  }
  io.out(`next: edit ${shown}/${result.entry.schema} and the fixtures, fill in summary/producers/consumers,`);
  io.out(`      then \`adaos-edge events registry lint\` and \`npm run codegen\``);
  return EXIT.ok;
};
