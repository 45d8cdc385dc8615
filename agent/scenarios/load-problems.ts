/**
 * The loader's list of problems: every issue found in a scenario file and its fragments, with
 * the JSON pointer of the offending value. A pointer into the scenario file is a plain pointer
 * (`/steps/2/retries/max`); one into a fragment file is prefixed with the fragment file's path
 * relative to the scenario's directory (`fragments/common.yaml#/ask_name/0/say`).
 *
 * Rules: the same pointer and message count once; when the schema already reported a value,
 * the loader's own checks of that same value stay quiet (one reason per value is enough); the
 * list comes out sorted by pointer, numbers in numeric order, so issues read top to bottom.
 */
import { AdaosError, ScenarioInvalidError, type Issue } from "../core/errors.js";

export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** `base` followed by each token, escaped as RFC 6901 says (~ → ~0, / → ~1). */
export function pointer(base: string, ...tokens: readonly (string | number)[]): string {
  let out = base;
  for (const t of tokens) out += `/${String(t).replace(/~/g, "~0").replace(/\//g, "~1")}`;
  return out;
}

/** The pointer of a whole document: "/" for the scenario file, "<file>#/" for a fragment file. */
export function documentPointer(base: string): string {
  return `${base}/`;
}

export class Problems {
  readonly #issues: Issue[] = [];
  readonly #seen = new Set<string>();
  readonly #bySchema = new Set<string>();

  get count(): number {
    return this.#issues.length;
  }

  /** Issues of the schema check; the loader's own issues at these pointers are then dropped. */
  schema(issues: readonly Issue[]): void {
    for (const issue of issues) {
      this.#push(issue);
      this.#bySchema.add(issue.pointer);
    }
  }

  add(at: string, message: string): void {
    if (!this.#bySchema.has(at)) this.#push({ pointer: at === "" ? "/" : at, message });
  }

  /** Runs `fn`; an AdaosError it throws (expression, schedule, duration) becomes an issue at `at`. */
  check<T>(at: string, fn: () => T): T | undefined {
    try {
      return fn();
    } catch (err) {
      if (!(err instanceof AdaosError)) throw err;
      this.add(at, err.message);
      return undefined;
    }
  }

  sorted(): Issue[] {
    return [...this.#issues].sort((a, b) => a.pointer.localeCompare(b.pointer, "en", { numeric: true }));
  }

  #push(issue: Issue): void {
    const key = `${issue.pointer}\u0000${issue.message}`;
    if (this.#seen.has(key)) return;
    this.#seen.add(key);
    this.#issues.push(issue);
  }
}

/** The error for a file with problems: its message is the file, then one `pointer message` line per issue. */
export function invalidScenario(label: string, issues: readonly Issue[]): ScenarioInvalidError {
  const count = `${issues.length} problem${issues.length === 1 ? "" : "s"}`;
  const lines = issues.map((i) => `${i.pointer} ${i.message}`);
  return new ScenarioInvalidError([`${label}: invalid scenario (${count})`, ...lines].join("\n"), { issues });
}
