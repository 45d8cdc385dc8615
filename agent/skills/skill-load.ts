/**
 * Loading skills: each folder <dir>/<name>/ with a skill.yaml (abi/skill.schema.json) is one
 * skill. The file is untrusted input: at most MAX_SKILL_FILE_BYTES, parsed as the scenario loader
 * parses YAML (one document, core schema, no duplicate keys, bounded aliases and depth), then
 * checked against the schema, then: `name` equals the folder's name, a program given as a path
 * ("./now.sh", "/usr/bin/x") is an executable file (relative paths are resolved against the
 * skill folder here, once), and every input_schema compiles.
 *
 * Rules: a directory that does not exist holds no skills; a skill with problems is reported with
 * every problem (a JSON pointer each) and skipped, the others load; folders load in name order,
 * dirs in the order given, and a second skill with a name already loaded is a problem, not a
 * replacement. Hidden entries (".git") and plain files in a skills directory are ignored.
 */
import { accessSync, constants, readdirSync, readFileSync, statSync } from "node:fs";
import { basename, join, resolve } from "node:path";
import { Ajv2020, type ErrorObject, type ValidateFunction } from "ajv/dist/2020.js";
import schema from "../../abi/skill.schema.json" with { type: "json" };
import type { Issue } from "../core/errors.js";
import { issuesFromAjv } from "../registry/issues.js";
import { parseYaml } from "../scenarios/load-source.js";
import { Problems, isRecord, pointer } from "../scenarios/load-problems.js";

export const SKILL_FILE = "skill.yaml";
/** A skill file is a page of YAML; anything bigger is a mistake. */
export const MAX_SKILL_FILE_BYTES = 64 * 1024;

const TOOL_REF = /^([a-z][a-z0-9_-]{0,63}):([a-z][a-z0-9_]{0,63})$/;

export interface Tool {
  readonly skill: string;
  readonly name: string;
  /** argv[0] is absolute when the file gave a path; a bare name is looked up on PATH at spawn. */
  readonly argv: readonly string[];
  /** The skill folder: the program's working directory. */
  readonly cwd: string;
  readonly timeoutMs?: number;
  readonly description?: string;
  /** The problems of a call's arguments against input_schema (pointers under /arguments); absent: anything goes. */
  readonly checkArguments?: (args: unknown) => readonly Issue[];
}

export interface Skill {
  readonly name: string;
  readonly version: string;
  readonly description?: string;
  readonly dir: string;
  readonly tools: ReadonlyMap<string, Tool>;
}

/** A skill that did not load: its folder, its file and every problem found. */
export interface SkillProblem {
  readonly dir: string;
  readonly file: string;
  readonly issues: readonly Issue[];
}

export type SkillLoad = { readonly ok: true; readonly skill: Skill } | { readonly ok: false; readonly problem: SkillProblem };

export interface LoadedSkills {
  readonly skills: readonly Skill[];
  readonly problems: readonly SkillProblem[];
}

interface ToolFile {
  readonly argv: string[];
  readonly timeout_ms?: number;
  readonly description?: string;
  readonly input_schema?: Record<string, unknown>;
}

interface SkillFile {
  readonly name: string;
  readonly version: string;
  readonly description?: string;
  readonly tools: Record<string, ToolFile>;
}

let fileValidator: ValidateFunction | undefined;

function validateFile(): ValidateFunction {
  fileValidator ??= new Ajv2020({ allErrors: true, strict: true }).compile(schema);
  return fileValidator;
}

/** "weather:now" → {skill: "weather", tool: "now"}; undefined when it is not of that form. */
export function parseToolRef(ref: string): { readonly skill: string; readonly tool: string } | undefined {
  const m = TOOL_REF.exec(ref);
  return m?.[1] === undefined || m[2] === undefined ? undefined : { skill: m[1], tool: m[2] };
}

/** The problem as log or CLI text: the file, then one `pointer message` line per issue. */
export function problemText(p: SkillProblem): string {
  const count = `${p.issues.length} problem${p.issues.length === 1 ? "" : "s"}`;
  return [`${p.file}: invalid skill (${count})`, ...p.issues.map((i) => `${i.pointer} ${i.message}`)].join("\n");
}

/** Every skill under `dirs` (see the header for the rules). */
export function loadSkills(dirs: readonly string[]): LoadedSkills {
  const skills: Skill[] = [];
  const problems: SkillProblem[] = [];
  const byName = new Map<string, string>();
  for (const dir of dirs) {
    for (const folder of skillFolders(dir, problems)) {
      const loaded = loadSkill(folder);
      if (!loaded.ok) {
        problems.push(loaded.problem);
        continue;
      }
      const first = byName.get(loaded.skill.name);
      if (first !== undefined) {
        const message = `skill "${loaded.skill.name}" is already loaded from ${first}; this one is skipped`;
        problems.push({ dir: folder, file: join(folder, SKILL_FILE), issues: [{ pointer: "/name", message }] });
        continue;
      }
      byName.set(loaded.skill.name, folder);
      skills.push(loaded.skill);
    }
  }
  return { skills, problems };
}

/** The skill folders directly in `dir`, by name; none when it does not exist. */
function skillFolders(dir: string, problems: SkillProblem[]): string[] {
  const abs = resolve(dir);
  let names: string[];
  try {
    names = readdirSync(abs).sort();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") problems.push({ dir: abs, file: abs, issues: [{ pointer: "/", message: `the skills directory cannot be read: ${message(err)}` }] });
    return [];
  }
  return names.filter((n) => !n.startsWith(".") && isDirectory(join(abs, n))).map((n) => join(abs, n));
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/** One skill folder, or why it does not load. */
export function loadSkill(dir: string): SkillLoad {
  const abs = resolve(dir);
  const file = join(abs, SKILL_FILE);
  const problems = new Problems();
  const fail = (): SkillLoad => ({ ok: false, problem: { dir: abs, file, issues: problems.sorted() } });
  const text = readSkillFile(file, problems);
  if (text === undefined) return fail();
  const value = parseYaml(text, "", problems);
  if (problems.count > 0) return fail();
  const validate = validateFile();
  if (!validate(value)) {
    problems.schema(issuesFromAjv(atKeys(validate.errors ?? [])));
    return fail();
  }
  const skill = build(value as SkillFile, abs, problems);
  return problems.count > 0 || skill === undefined ? fail() : { ok: true, skill };
}

function readSkillFile(file: string, problems: Problems): string | undefined {
  try {
    const size = statSync(file).size;
    if (size > MAX_SKILL_FILE_BYTES) {
      problems.add("/", `the file is ${Math.ceil(size / 1024)} KiB, more than the ${MAX_SKILL_FILE_BYTES / 1024} KiB a skill file may have`);
      return undefined;
    }
    return readFileSync(file, "utf8");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    problems.add("/", code === "ENOENT" ? `no ${SKILL_FILE} in the skill folder` : `${SKILL_FILE} cannot be read: ${message(err)}`);
    return undefined;
  }
}

/** A key refused by propertyNames is reported at the key, once, instead of twice at its parent. */
function atKeys(errors: readonly ErrorObject[]): ErrorObject[] {
  return errors
    .filter((e) => e.keyword !== "propertyNames")
    .map((e) => {
      const name = (e as ErrorObject & { propertyName?: unknown }).propertyName;
      if (typeof name !== "string") return e;
      return { ...e, instancePath: pointer(e.instancePath, name), message: `is not a valid name: ${e.message ?? "refused"}` };
    });
}

function build(f: SkillFile, dir: string, problems: Problems): Skill | undefined {
  if (f.name !== basename(dir)) problems.add("/name", `must equal the skill folder's name "${basename(dir)}"`);
  const tools = new Map<string, Tool>();
  for (const [name, t] of Object.entries(f.tools)) {
    const at = pointer("", "tools", name);
    const argv = [program(t.argv[0] ?? "", dir, pointer(at, "argv", 0), problems), ...t.argv.slice(1)];
    const checkArguments = t.input_schema === undefined ? undefined : inputCheck(t.input_schema, pointer(at, "input_schema"), problems);
    tools.set(name, {
      skill: f.name,
      name,
      argv,
      cwd: dir,
      ...(t.timeout_ms === undefined ? {} : { timeoutMs: t.timeout_ms }),
      ...(t.description === undefined ? {} : { description: t.description }),
      ...(checkArguments === undefined ? {} : { checkArguments }),
    });
  }
  if (problems.count > 0) return undefined;
  return { name: f.name, version: f.version, ...(f.description === undefined ? {} : { description: f.description }), dir, tools };
}

/** argv[0]: a path becomes absolute and must be an executable file; a bare name stays for PATH. */
function program(argv0: string, dir: string, at: string, problems: Problems): string {
  if (!argv0.includes("/")) return argv0;
  const path = resolve(dir, argv0);
  try {
    if (!statSync(path).isFile()) {
      problems.add(at, `${path} is not a file`);
      return path;
    }
    accessSync(path, constants.X_OK);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    problems.add(at, code === "ENOENT" ? `no such program: ${path}` : code === "EACCES" ? `${path} is not executable (chmod +x)` : `${path}: ${message(err)}`);
  }
  return path;
}

/**
 * The arguments check of one input_schema. Each schema gets its own ajv, so two tools' $ids never
 * collide. Strict about keywords (a typo is an error) but not about types or `required` lists, which
 * authors often leave implicit; formats are annotations (no format plugins on the device).
 */
function inputCheck(input: Record<string, unknown>, at: string, problems: Problems): ((args: unknown) => readonly Issue[]) | undefined {
  if (isRecord(input) && typeof input.$schema === "string" && !input.$schema.includes("2020-12")) {
    problems.add(pointer(at, "$schema"), `must be draft 2020-12 (https://json-schema.org/draft/2020-12/schema) or absent, got ${input.$schema}`);
    return undefined;
  }
  try {
    const ajv = new Ajv2020({ allErrors: true, strict: true, strictTypes: false, strictTuples: false, strictRequired: false, allowUnionTypes: true, validateFormats: false });
    const validate = ajv.compile(input);
    return (args) => (validate(args) ? [] : issuesFromAjv(validate.errors, "/arguments"));
  } catch (err) {
    problems.add(at, `is not a usable JSON Schema: ${message(err).split("\n")[0] ?? ""}`);
    return undefined;
  }
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
