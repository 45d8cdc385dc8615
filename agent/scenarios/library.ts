/**
 * The scenarios a node knows: every `*.yaml` / `*.yml` file directly in each scenario directory
 * (not in subdirectories, so fragment files can live in one), plus scenarios built in code.
 *
 * Rules: a directory that does not exist holds nothing; a bad file is reported in `errors` with
 * every problem and the others still load (the caller logs them: one bad file never takes the
 * rest down); files load in name order, directories in the order given, and a scenario id
 * already taken is an error of the later file. Loaded scenarios are deep-frozen.
 */
import { readdirSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { ScenarioInvalidError } from "../core/errors.js";
import type { Logger } from "../core/logger.js";
import type { Scenario } from "./scenario.js";
import { loadScenarioFile, type LoadOptions } from "./load.js";
import { invalidScenario } from "./load-problems.js";

const SCENARIO_FILE = /\.ya?ml$/i;

export interface LibraryError {
  readonly file: string;
  readonly error: ScenarioInvalidError;
}

export interface LibraryLoad {
  readonly library: ScenarioLibrary;
  readonly errors: LibraryError[];
}

export class ScenarioLibrary {
  readonly #byId: ReadonlyMap<string, Scenario>;
  readonly #sorted: readonly Scenario[];

  private constructor(byId: ReadonlyMap<string, Scenario>) {
    this.#byId = byId;
    this.#sorted = [...byId.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  /** Load every scenario file in `dirs`. */
  static load(dirs: readonly string[], options: LoadOptions & { readonly logger?: Logger } = {}): LibraryLoad {
    const byId = new Map<string, Scenario>();
    const errors: LibraryError[] = [];
    const { logger, ...loadOptions } = options;
    for (const dir of [...new Set(dirs.map((d) => resolve(d)))]) {
      const files = scenarioFiles(dir, errors);
      for (const file of files) {
        try {
          const scenario = loadScenarioFile(file, loadOptions);
          const taken = byId.get(scenario.id);
          if (taken !== undefined) {
            const message = `scenario id "${scenario.id}" is already used by ${taken.file ?? "another scenario"}`;
            errors.push({ file, error: invalidScenario(file, [{ pointer: "/id", message }]) });
            continue;
          }
          byId.set(scenario.id, scenario);
          logger?.debug({ file, scenario: scenario.id }, "scenario loaded");
        } catch (err) {
          errors.push({ file, error: asInvalid(file, err) });
        }
      }
    }
    return { library: new ScenarioLibrary(byId), errors };
  }

  /** A library of scenarios built in code (tests, built-ins); a repeated id is a ScenarioInvalidError. */
  static of(scenarios: readonly Scenario[]): ScenarioLibrary {
    const byId = new Map<string, Scenario>();
    for (const s of scenarios) {
      if (byId.has(s.id)) throw invalidScenario(s.file ?? `scenario ${s.id}`, [{ pointer: "/id", message: `scenario id "${s.id}" is used twice` }]);
      byId.set(s.id, s);
    }
    return new ScenarioLibrary(byId);
  }

  get(id: string): Scenario | undefined {
    return this.#byId.get(id);
  }

  /** Every scenario, sorted by id. */
  list(): readonly Scenario[] {
    return this.#sorted;
  }
}

/** The scenario files directly in `dir`, by name; none when it does not exist. */
function scenarioFiles(dir: string, errors: LibraryError[]): string[] {
  let names: string[];
  try {
    names = readdirSync(dir).filter((n) => SCENARIO_FILE.test(n)).sort();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") errors.push({ file: dir, error: asInvalid(dir, err) });
    return [];
  }
  return names.map((n) => join(dir, n)).filter((file) => {
    try {
      return statSync(file).isFile();
    } catch {
      return false; // a dangling link or a file removed meanwhile: nothing to load
    }
  });
}

function asInvalid(file: string, err: unknown): ScenarioInvalidError {
  if (err instanceof ScenarioInvalidError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new ScenarioInvalidError(`${file}: cannot load: ${message}`, { cause: err, issues: [{ pointer: "/", message }] });
}
