/**
 * `adaos-edge resolve <plan.yaml|plan.json>`: ask the running hub which node each step of a plan
 * would run on, and why (POST /resolve, no side effects). The file is read and checked here
 * first, so a bad plan is reported with every problem without a request; the hub gets the plan
 * as the file has it. Exits 1 when a step cannot be bound.
 */
import { resolve as resolvePath } from "node:path";
import { BadRequestError, InternalError, NotFoundError } from "../core/errors.js";
import type { PlanRequest, ResolveAnswer } from "../plans/plan-port.js";
import { parsePlanText } from "../resolver/plan-load.js";
import type { Plan } from "../resolver/plan.js";
import { Problems } from "../scenarios/load-problems.js";
import { parseYaml, readSource } from "../scenarios/load-source.js";
import { API_FLAGS, ApiClient } from "./api-client.js";
import { parse } from "./args.js";
import { EXIT, type CliIo, type CommandMain } from "./command.js";
import { resolveReport } from "./resolve-format.js";
import { API_USAGE, onePositional } from "./scenario-flags.js";

export const USAGE = `resolve <plan.yaml|plan.json> [--origin NODE] [--allow-addressed] [--json] ${API_USAGE}`;

/** The plan checked as the hub will check it, and its value as the file has it. */
type Loaded = { readonly ok: true; readonly plan: Plan; readonly value: unknown } | { readonly ok: false };

function load(file: string, io: CliIo): Loaded {
  const src = readSource(resolvePath(io.cwd, file), undefined);
  if (!src.ok) {
    io.err(`adaos-edge: cannot read the plan file ${file}: ${src.message}`);
    return { ok: false };
  }
  let plan: Plan;
  try {
    plan = parsePlanText(src.text, file);
  } catch (err) {
    if (!(err instanceof BadRequestError)) throw err;
    const [first = err.message] = err.message.split("\n");
    io.err(`adaos-edge: ${first}`);
    for (const issue of err.issues) io.err(`  ${issue.pointer} ${issue.message}`);
    return { ok: false };
  }
  // Parsed once more for the raw value: the hub reads the file's own shape (`plan:` wrapper too).
  return { ok: true, plan, value: parseYaml(src.text, "", new Problems()) };
}

async function ask(client: ApiClient, body: PlanRequest): Promise<ResolveAnswer> {
  let answer: unknown;
  try {
    answer = await client.json("POST", "/resolve", body);
  } catch (err) {
    if (err instanceof NotFoundError) throw new NotFoundError(`${err.message} (${client.base} answered 404: point --api or ADAOS_EDGE_API at the hub)`, { cause: err });
    throw err;
  }
  const a = answer as Partial<ResolveAnswer> | null;
  if (typeof a?.ok !== "boolean" || !Array.isArray(a.bindings) || !Array.isArray(a.rejected) || !Array.isArray(a.unresolved)) {
    throw new InternalError(`${client.base}/resolve answered without {ok, bindings, rejected, unresolved}`);
  }
  return a as ResolveAnswer;
}

export const main: CommandMain = async (args, io) => {
  const { values, positionals } = parse(
    args,
    { ...API_FLAGS, json: { type: "boolean", default: false }, origin: { type: "string" }, "allow-addressed": { type: "boolean", default: false } },
    USAGE,
  );
  const file = onePositional(positionals, "plan file", USAGE);
  const client = ApiClient.fromFlags(values, io);
  const loaded = load(file, io);
  if (!loaded.ok) return EXIT.failure;
  const ctx = { ...(values.origin === undefined ? {} : { origin: values.origin }), ...(values["allow-addressed"] ? { allow_addressed: true } : {}) };
  const answer = await ask(client, { plan: loaded.value, ctx });
  if (values.json) io.out(JSON.stringify(answer, null, 2));
  else for (const line of resolveReport(loaded.plan.id === undefined ? file : `${loaded.plan.id} (${file})`, loaded.plan.steps, answer)) io.out(line);
  return answer.ok ? EXIT.ok : EXIT.failure;
};
