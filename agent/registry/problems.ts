/**
 * Problems found in an event registry by loading or linting it. `where` is a path relative to
 * the registry root, optionally with `:line` (registry.yaml) or `#pointer` (inside a JSON file).
 * Errors fail lint and refuse a build; warnings are reported and nothing else.
 */
import * as path from "node:path";
import { RegistryInvalidError } from "../core/errors.js";

export type ProblemLevel = "error" | "warning";

export interface Problem {
  readonly level: ProblemLevel;
  readonly where: string;
  readonly message: string;
}

export function error(where: string, message: string): Problem {
  return { level: "error", where, message };
}

export function warning(where: string, message: string): Problem {
  return { level: "warning", where, message };
}

export function errorsOf(problems: readonly Problem[]): Problem[] {
  return problems.filter((p) => p.level === "error");
}

/** `error <where>: <message>`; `prefix` (e.g. "abi/events") is joined in front of `where`. */
export function formatProblem(p: Problem, prefix = ""): string {
  const where = prefix === "" || prefix === "." ? p.where : path.posix.normalize(`${prefix}/${p.where}`);
  return `${p.level} ${where}: ${p.message}`;
}

/** Throw RegistryInvalidError listing the errors among `problems`, if there are any. */
export function assertNoErrors(problems: readonly Problem[], root: string, what: string): void {
  const errors = errorsOf(problems);
  if (errors.length === 0) return;
  throw new RegistryInvalidError(
    `${what}: the event registry at ${root} has ${errors.length} error(s); run \`adaos-edge events registry lint\` for details`,
    { issues: errors.map((p) => ({ pointer: p.where, message: p.message })) },
  );
}
