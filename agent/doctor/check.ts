/**
 * The shape of one doctor check: it looks at one thing and explains it in one line, with the fix
 * when something is wrong. Checks never print and never exit; run-checks.ts turns a check that
 * throws or hangs into a fail finding.
 */
import type { Config } from "../config/config.js";
import type { ConfigOutcome } from "./config.js";
import type { System } from "./system.js";

/** Every external command gets this long: `--version` and `-l` listings answer in milliseconds. */
export const COMMAND_TIMEOUT_MS = 3000;

export type Status = "ok" | "warn" | "fail";

export interface Finding {
  readonly status: Status;
  /** One line: what was found. */
  readonly message: string;
  /** One line: what to do about it (warn and fail only). */
  readonly fix?: string;
  /** Extra lines under the finding, e.g. one `path message` per config issue. */
  readonly details?: readonly string[];
}

export interface DoctorContext {
  /** The loaded config, or the best fallback when it did not load (see configOutcome). */
  readonly config: Config;
  readonly configOutcome: ConfigOutcome;
  readonly system: System;
}

export interface Check {
  /** Short and stable: the first column of the output and the `id` in --json. */
  readonly id: string;
  readonly title: string;
  run(ctx: DoctorContext): Promise<Finding>;
}

/** A finding with the check it came from. */
export interface Result extends Finding {
  readonly id: string;
  readonly title: string;
}

export function ok(message: string): Finding {
  return { status: "ok", message };
}

export function warn(message: string, fix: string, details?: readonly string[]): Finding {
  return details === undefined ? { status: "warn", message, fix } : { status: "warn", message, fix, details };
}

export function fail(message: string, fix: string, details?: readonly string[]): Finding {
  return details === undefined ? { status: "fail", message, fix } : { status: "fail", message, fix, details };
}

/** The first non-empty line of a command's output, for messages. */
export function firstLine(text: string): string {
  return text.split("\n").map((l) => l.trim()).find((l) => l !== "") ?? "";
}

/** An exception in one line: `TypeError: …`, `EACCES: permission denied, …` (the errno code once). */
export function describeError(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const code = (err as NodeJS.ErrnoException).code;
  const name = err.name === "Error" ? "" : `${err.name}: `;
  const withCode = typeof code === "string" && !err.message.startsWith(code) ? `${code}: ${err.message}` : err.message;
  return name + withCode;
}
