/**
 * Helpers for the registry and events CLI tests (not used at run time): the repository root,
 * throw-away copies of the registry and of the generated files, and an in-memory CliIo.
 */
import { cp, mkdtemp, rm } from "node:fs/promises";
import * as os from "node:os";
import * as path from "node:path";
import type { TestContext } from "node:test";
import { fileURLToPath } from "node:url";
import type { CliIo } from "../cli/command.js";

/** Tests run compiled: dist/agent/registry/x.test.js → three levels up is the repository. */
export const REPO_ROOT = fileURLToPath(new URL("../../../", import.meta.url));
export const REGISTRY_ROOT = path.join(REPO_ROOT, "abi", "events");

/** What a temporary repository copy holds: the sources and outputs of `npm run codegen`. */
const REPO_FILES = [
  "abi/events",
  "abi/envelope.schema.json",
  "abi/errors.json",
  "agent/config/schema.json",
  "agent/config/schema.validator.ts",
  "docs/errors.md",
  "docs/events",
];

export async function tempDir(t: TestContext, prefix = "adaos-registry-"): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), prefix));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/**
 * A temporary copy of the repository's registry (and codegen inputs/outputs); returns its root,
 * usable as `cwd` with the registry at `<root>/abi/events`.
 */
export async function tempRepo(t: TestContext): Promise<string> {
  const dir = await tempDir(t);
  for (const rel of REPO_FILES) await cp(path.join(REPO_ROOT, rel), path.join(dir, rel), { recursive: true });
  return dir;
}

export interface CapturedIo extends CliIo {
  readonly lines: string[];
  readonly errors: string[];
}

export function captureIo(cwd: string): CapturedIo {
  const lines: string[] = [];
  const errors: string[] = [];
  return { lines, errors, out: (l) => lines.push(l), err: (l) => errors.push(l), env: {}, cwd };
}
