/**
 * The command table and dispatch. Each command lives in its own module under cli/ and is loaded
 * only when it runs, so `version` does not pay for the bus, the API or SQLite.
 */
import { AdaosError, ConfigInvalidError, ConfigReadError, UsageError, asAdaosError } from "../core/errors.js";
import { EXIT, type CommandMain, type CliIo } from "./command.js";

interface CommandSpec {
  readonly path: readonly string[];
  readonly usage: string;
  readonly summary: string;
  readonly load: () => Promise<{ main: CommandMain }>;
}

const COMMANDS: readonly CommandSpec[] = [
  { path: ["run"], usage: "run [--config FILE] [--role hub|member] [--node-id ID] [--data-dir DIR] [--api-host ADDR] [--api-port N] [--nats-port N] [--mqtt-port N] [--root nats://H:4222,…] [--root-leaf nats-leaf://H:7422,…]", summary: "run the agent until SIGTERM/SIGINT", load: () => import("./run.js") },
  { path: ["config", "check"], usage: "config check [--config FILE]", summary: "validate agent.yaml (+ environment); exit 2 when invalid", load: () => import("./config-check.js") },
  { path: ["doctor"], usage: "doctor [--json] [--config FILE] [--role hub|member] [--node-id ID] [--data-dir DIR] [--api-host ADDR] [--api-port N]", summary: "check this node's environment and explain each finding with its fix; exit 1 when a check fails", load: () => import("./doctor.js") },
  { path: ["root", "config"], usage: "root config --out DIR [--nodes 3] [--host H[,H2,…]] [--client-port-base 4222] [--cluster-port-base 6222] [--leaf-port-base 7422] [--monitor-port-base 8222] [--hub-user U --hub-password P] [--route-password P] [--duplicate-window 2h]", summary: "write nats-server configs for a root cluster (JetStream, routes, leafnode listener and account for hubs) and the uplink stream config", load: () => import("./root-config.js") },
  { path: ["nodes"], usage: "nodes [--json] [--api URL] [--token T] [--data-dir DIR]", summary: "the subnet directory: each node's role, online state, load, rtt, battery, capabilities and when it was last seen", load: () => import("./nodes-directory.js") },
  { path: ["nodes", "add"], usage: "nodes add <node-id> [--role member|client] [--publish PATTERN]... [--subscribe PATTERN]... [--data-dir DIR]", summary: "issue a node's credential for the hub's MQTT broker and nats-server (prints the secret once); works whether the hub runs or not", load: async () => ({ main: (await import("./nodes.js")).add }) },
  { path: ["nodes", "list"], usage: "nodes list [--json] [--data-dir DIR]", summary: "list the hub's node credentials (never the secrets)", load: async () => ({ main: (await import("./nodes.js")).list }) },
  { path: ["nodes", "revoke"], usage: "nodes revoke <node-id> [--data-dir DIR]", summary: "revoke a node's credential; a running hub closes its MQTT and NATS connections within 5 s", load: async () => ({ main: (await import("./nodes.js")).revoke }) },
  { path: ["version"], usage: "version", summary: "print the version", load: () => import("./version.js") },
  { path: ["events", "registry", "lint"], usage: "events registry lint [--root DIR]", summary: "check the event registry: index, paths, schemas, examples, fixtures", load: () => import("./events-registry-lint.js") },
  { path: ["events", "registry", "build"], usage: "events registry build [--root DIR] [--check]", summary: "regenerate _dist/registry.json and the precompiled validators", load: () => import("./events-registry-build.js") },
  { path: ["events", "scaffold"], usage: "events scaffold <ns.name> --kind event|command|reply --version N [--summary TEXT] [--reply fqdn@N] [--root DIR]", summary: "create schema, example and registry entry for a new event", load: () => import("./events-scaffold.js") },
  { path: ["events", "validate"], usage: "events validate <file.json>... [--root DIR]", summary: "validate an envelope and its payload; exit 1 when invalid", load: () => import("./events-validate.js") },
  { path: ["events", "docs"], usage: "events docs [--root DIR] [--out DIR]", summary: "write the markdown event reference (docs/events/)", load: () => import("./events-docs.js") },
  { path: ["events", "publish"], usage: "events publish <event_name> --data JSON [--version N] [--priority 0-5] [--kind event|command|reply] [--api URL] [--token T] [--data-dir DIR]", summary: "publish an event through a running agent", load: () => import("./events-publish.js") },
  { path: ["events", "tail"], usage: "events tail [pattern] [--count N] [--api URL] [--token T] [--data-dir DIR]", summary: "print the running agent's events as NDJSON", load: () => import("./events-tail.js") },
  { path: ["events", "dlq", "list"], usage: "events dlq list [--reason poison|expired|invalid|overflow] [--limit N] [--json] [--api URL] [--token T] [--data-dir DIR]", summary: "list the running agent's dead letters (table, or NDJSON with --json)", load: async () => ({ main: (await import("./events-dlq.js")).list }) },
  { path: ["events", "dlq", "show"], usage: "events dlq show <dlq_id> [--api URL] [--token T] [--data-dir DIR]", summary: "print one dead letter with its envelope", load: async () => ({ main: (await import("./events-dlq.js")).show }) },
  { path: ["events", "dlq", "replay"], usage: "events dlq replay (<dlq_id>... | --reason R | --all) [--api URL] [--token T] [--data-dir DIR]", summary: "put dead letters back through validation; exit 1 when any failed (they stay)", load: async () => ({ main: (await import("./events-dlq.js")).replay }) },
  { path: ["events", "dlq", "purge"], usage: "events dlq purge (<dlq_id>... | --reason R | --all) [--api URL] [--token T] [--data-dir DIR]", summary: "delete dead letters", load: async () => ({ main: (await import("./events-dlq.js")).purge }) },
  { path: ["scenario", "run"], usage: "scenario run <id> [--ctx JSON] [--priority HIGH|NORM|LOW] [--force] [--dry-run] [--wait [--timeout-ms N]] [--json] [--api URL] [--token T] [--data-dir DIR]", summary: "start a scenario run on the running agent and print its id; --wait follows it to the end (exit 1 unless it succeeded)", load: async () => ({ main: (await import("./scenario.js")).run }) },
  { path: ["scenario", "status"], usage: "scenario status <run_id> [--json] [--api URL] [--token T] [--data-dir DIR]", summary: "one run: state, step, times, error and its step journal", load: async () => ({ main: (await import("./scenario.js")).status }) },
  { path: ["scenario", "cancel"], usage: "scenario cancel <run_id> [--api URL] [--token T] [--data-dir DIR]", summary: "cancel a queued or running scenario run", load: async () => ({ main: (await import("./scenario.js")).cancel }) },
  { path: ["scenario", "runs"], usage: "scenario runs [--scenario ID] [--limit N] [--json] [--api URL] [--token T] [--data-dir DIR]", summary: "recent scenario runs, newest first (table, or NDJSON with --json)", load: async () => ({ main: (await import("./scenario.js")).runs }) },
  { path: ["scenario", "replay"], usage: "scenario replay <run_id> [--dry-run] [--json] [--api URL] [--token T] [--data-dir DIR]", summary: "run a finished run's scenario again with the same ctx; prints the new run id", load: async () => ({ main: (await import("./scenario.js")).replay }) },
  { path: ["scenario", "list"], usage: "scenario list [--json] [--api URL] [--token T] [--data-dir DIR]", summary: "the running agent's scenarios with their triggers", load: async () => ({ main: (await import("./scenario.js")).list }) },
  { path: ["scenario", "schedule", "list"], usage: "scenario schedule list [--json] [--api URL] [--token T] [--data-dir DIR]", summary: "the running agent's schedules (cron, interval, once) with their next tick", load: async () => ({ main: (await import("./scenario-schedule.js")).list }) },
  { path: ["scenario", "schedule", "create"], usage: "scenario schedule create --scenario ID (--cron EXPR [--tz TZ] | --every DURATION | --at ISO) [--id ID] [--ctx JSON] [--catch-up] [--json] [--api URL] [--token T] [--data-dir DIR]", summary: "schedule a scenario on the running agent", load: async () => ({ main: (await import("./scenario-schedule.js")).create }) },
  { path: ["scenario", "schedule", "delete"], usage: "scenario schedule delete <id> [--api URL] [--token T] [--data-dir DIR]", summary: "delete a schedule made through the API", load: async () => ({ main: (await import("./scenario-schedule.js")).remove }) },
  { path: ["scenario", "validate"], usage: "scenario validate <file.yaml>...", summary: "check scenario files as the agent would load them (no agent needed); exit 1 when any is invalid", load: () => import("./scenario-validate.js") },
  { path: ["resolve"], usage: "resolve <plan.yaml|plan.json> [--origin NODE] [--allow-addressed] [--json] [--api URL] [--token T] [--data-dir DIR]", summary: "ask the running hub which node each step of a plan would run on: the chosen node, its score terms, and why each other candidate lost; exit 1 when a step cannot be bound", load: () => import("./resolve.js") },
  { path: ["outbox", "stats"], usage: "outbox stats [--watch [--count N]] [--interval-ms N] [--json] [--api URL] [--token T] [--data-dir DIR]", summary: "the running agent's outbox: depth, oldest age, rates; --watch shows a drain's progress", load: () => import("./outbox-stats.js") },
];

function help(io: CliIo): void {
  io.out("usage: adaos-edge <command> [options]");
  io.out("");
  const width = Math.max(...COMMANDS.map((c) => c.path.join(" ").length));
  for (const c of COMMANDS) io.out(`  ${c.path.join(" ").padEnd(width)}  ${c.summary}`);
  io.out("");
  io.out("Run `adaos-edge <command> --help` for the options of one command.");
}

function find(argv: readonly string[]): { spec: CommandSpec; rest: readonly string[] } | undefined {
  let best: CommandSpec | undefined;
  for (const c of COMMANDS) {
    if (c.path.every((p, i) => argv[i] === p) && (best === undefined || c.path.length > best.path.length)) best = c;
  }
  return best && { spec: best, rest: argv.slice(best.path.length) };
}

export async function dispatch(argv: readonly string[], io: CliIo): Promise<number> {
  if (argv.length === 0 || argv[0] === "--help" || argv[0] === "-h" || argv[0] === "help") {
    help(io);
    return argv.length === 0 ? EXIT.usage : EXIT.ok;
  }
  if (argv[0] === "--version") argv = ["version"];
  const found = find(argv);
  if (found === undefined) {
    const near = COMMANDS.filter((c) => c.path[0] === argv[0]).map((c) => `  adaos-edge ${c.usage}`);
    io.err(`adaos-edge: unknown command "${argv.join(" ")}"`);
    if (near.length > 0) io.err(["did you mean:", ...near].join("\n"));
    else io.err("run `adaos-edge --help` for the list of commands");
    return EXIT.usage;
  }
  const { spec, rest } = found;
  if (rest.includes("--help") || rest.includes("-h")) {
    io.out(`usage: adaos-edge ${spec.usage}`);
    io.out(spec.summary);
    return EXIT.ok;
  }
  try {
    const mod = await spec.load();
    return await mod.main(rest, io);
  } catch (err) {
    return report(err, io);
  }
}

/** One clear line per error (plus one line per issue); the exit status follows the error's kind. */
export function report(err: unknown, io: CliIo): number {
  const e: AdaosError = asAdaosError(err);
  io.err(`adaos-edge: ${e.message} (${e.code})`);
  for (const issue of e.issues) io.err(`  ${issue.pointer} ${issue.message}`);
  if (!(err instanceof AdaosError) && err instanceof Error && err.stack !== undefined) io.err(err.stack);
  return e instanceof UsageError || e instanceof ConfigInvalidError || e instanceof ConfigReadError ? EXIT.usage : EXIT.failure;
}
