/**
 * `include:` steps: each is replaced by the steps of a fragment. `"path#name"` is fragment `name`
 * of a fragment file (a YAML mapping of name → list of steps); `"path"` alone is a file that is
 * itself a list of steps. The path is relative to the directory of the file the include is in.
 *
 * Rules: fragments may include fragments, at most MAX_INCLUDE_DEPTH levels deep; a cycle is an
 * issue naming the chain; a missing file or fragment is an issue at the include naming both; each
 * fragment file is read and parsed once per load and each fragment's shape checked once; the
 * expansion stops once it has more steps than a scenario may have (a fragment included in a
 * fragment included … would otherwise multiply). Every step keeps the pointer it came from.
 */
import { dirname, relative, resolve, sep } from "node:path";
import { checkShape } from "./load-schema.js";
import { isRecord, pointer, type Problems } from "./load-problems.js";
import { parseYaml, readSource, type ReadFile } from "./load-source.js";

export const MAX_INCLUDE_DEPTH = 8;
/** A scenario has at most this many steps once includes are expanded. */
export const MAX_STEPS = 200;

/** A step's raw value and the pointer of where it is written. */
export interface Located {
  readonly value: unknown;
  readonly at: string;
}

export interface IncludeOptions {
  readonly problems: Problems;
  /** Directory of the scenario file; undefined when there is none (an include is then an issue). */
  readonly baseDir: string | undefined;
  readonly readFile: ReadFile | undefined;
}

type Parsed = { readonly ok: true; readonly value: unknown } | { readonly ok: false; readonly message?: string };

/** The steps of `list` (the scenario's `steps`, at "/steps") with every include replaced. */
export function expandSteps(list: readonly unknown[], at: string, options: IncludeOptions): Located[] {
  const expander = new Expander(options);
  expander.expand(list, at, options.baseDir, []);
  return expander.out;
}

class Expander {
  readonly out: Located[] = [];
  readonly #files = new Map<string, Parsed>();
  readonly #checked = new Set<string>();

  constructor(private readonly o: IncludeOptions) {}

  expand(list: readonly unknown[], listAt: string, dir: string | undefined, chain: readonly string[]): void {
    for (const [i, item] of list.entries()) {
      if (this.out.length > MAX_STEPS) return;
      const at = pointer(listAt, i);
      if (isRecord(item) && Object.hasOwn(item, "include")) {
        if (typeof item.include === "string") this.#include(item.include, pointer(at, "include"), dir, chain);
      } else {
        this.out.push({ value: item, at });
      }
    }
  }

  #include(ref: string, at: string, dir: string | undefined, chain: readonly string[]): void {
    const p = this.o.problems;
    if (dir === undefined) return p.add(at, "an include needs a directory to be relative to: load the scenario from a file (or pass baseDir)");
    const hash = ref.indexOf("#");
    const path = hash < 0 ? ref : ref.slice(0, hash);
    const name = hash < 0 ? undefined : ref.slice(hash + 1);
    if (path === "") return p.add(at, `include ${JSON.stringify(ref)} names no file`);
    if (name === "") return p.add(at, `include ${JSON.stringify(ref)} has an empty fragment name after "#"`);
    const file = resolve(dir, path);
    const key = name === undefined ? file : `${file}#${name}`;
    const what = name === undefined ? `file ${path}` : `fragment "${name}" of ${path}`;
    const seen = chain.indexOf(key);
    if (seen >= 0) return p.add(at, `include cycle: ${[...chain.slice(seen), key].map((k) => this.#label(k)).join(" → ")}`);
    if (chain.length >= MAX_INCLUDE_DEPTH) return p.add(at, `cannot include ${what}: includes are nested more than ${MAX_INCLUDE_DEPTH} deep`);
    const label = this.#label(file);
    const parsed = this.#parse(file, label);
    if (!parsed.ok) return p.add(at, `cannot include ${what}: ${parsed.message ?? `${label} has problems`}`);
    const steps = this.#select(parsed.value, name, what, label, at);
    if (steps === undefined) return;
    const base = name === undefined ? `${label}#` : pointer(`${label}#`, name);
    if (!this.#checked.has(key)) {
      this.#checked.add(key);
      checkShape(steps, "steps", base, p);
    }
    if (Array.isArray(steps)) this.expand(steps, base, dirname(file), [...chain, key]);
  }

  #select(value: unknown, name: string | undefined, what: string, label: string, at: string): unknown {
    const p = this.o.problems;
    if (name === undefined) {
      if (Array.isArray(value)) return value;
      const hint = isRecord(value) ? `; name one of its fragments with "#": ${Object.keys(value).join(", ")}` : "";
      p.add(at, `cannot include ${what}: ${label} is not a list of steps${hint}`);
      return undefined;
    }
    if (!isRecord(value)) {
      p.add(at, `cannot include ${what}: ${label} is not a mapping of fragment names to steps`);
      return undefined;
    }
    if (!Object.hasOwn(value, name)) {
      const names = Object.keys(value);
      p.add(at, `cannot include ${what}: ${label} has no fragment "${name}" (it has ${names.length === 0 ? "none" : names.join(", ")})`);
      return undefined;
    }
    return value[name];
  }

  /** The file's value; its read problem, or its YAML problems reported once under `<label>#/`. */
  #parse(file: string, label: string): Parsed {
    let parsed = this.#files.get(file);
    if (parsed === undefined) {
      const source = readSource(file, this.o.readFile);
      if (!source.ok) {
        parsed = { ok: false, message: source.message };
      } else {
        const before = this.o.problems.count;
        const value = parseYaml(source.text, `${label}#`, this.o.problems);
        parsed = this.o.problems.count === before ? { ok: true, value } : { ok: false };
      }
      this.#files.set(file, parsed);
    }
    return parsed;
  }

  /** A file (or file#fragment) as messages and pointers show it: relative to the scenario's directory. */
  #label(fileOrKey: string): string {
    const base = this.o.baseDir ?? "";
    return relative(base, fileOrKey).split(sep).join("/");
  }
}
