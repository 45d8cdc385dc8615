/**
 * The small, safe expression language of scenario files: trigger filters such as
 * `$.payload.temp > 25 && $.source != "agent://member/x"` and `${...}` templates in step arguments
 * such as `"Hello ${ctx.name}"`. Source is parsed once into closures (cached, 500 sources); there
 * is no eval, no Function, no calls and no assignment.
 *
 * The rules, in plain words:
 * - Literals: numbers, 'single' or "double" quoted strings, true, false, null, arrays [1, "a"].
 * - Top-level names ($, ctx, bag, …) come from the scope; an unknown one is an error that lists
 *   the known ones. `a.b`, `a["b"]`, `a[0]` read only own properties of plain objects and arrays
 *   (and `.length` of strings and arrays); __proto__, constructor and prototype read as
 *   undefined, and so does anything read from null or undefined, so a filter on a missing field
 *   is simply false.
 * - Operators, low to high: `||` `??`, `&&`, `==` `!=`, `<` `<=` `>` `>=` `in`, `+` `-`,
 *   `*` `/` `%`, unary `!` `-`. `==` is strict for primitives and deep for arrays and objects.
 *   `<` and friends compare two numbers or two strings. `+` adds numbers, or joins text when
 *   either side is a string (null and undefined join as ""). `&&` and `||` short-circuit and give
 *   booleans. `x in list` is membership, `"k" in obj` an own key, `"ab" in "cab"` a substring.
 *   Anything else (arithmetic on non-numbers, division by zero) is an ExpressionError.
 * - Limits: 2,000 characters of source, nesting 64 deep.
 * - Templates: "${expr}" alone keeps the value's type; otherwise the parts are joined as text
 *   ("" for null and undefined, JSON for objects and arrays). "$${" stands for a literal "${".
 */
import { ExpressionError } from "../core/errors.js";
import { showToken, syntaxError, tokenize, type Token } from "./expr-lexer.js";

export type Scope = Readonly<Record<string, unknown>>;

export interface Expr {
  readonly source: string;
  evaluate(scope: Scope): unknown;
}

const MAX_SOURCE = 2000;
const MAX_DEPTH = 64;
const CACHE_SIZE = 500;
const BLOCKED = new Set(["__proto__", "constructor", "prototype"]);
const LEVELS: readonly (readonly string[])[] = [["||", "??"], ["&&"], ["==", "!="], ["<", "<=", ">", ">=", "in"], ["+", "-"], ["*", "/", "%"]];

type Ev = (scope: Scope) => unknown;

/** A failure while evaluating; Expr.evaluate turns it into an ExpressionError naming the source. */
class Failure extends Error {}

function typeName(v: unknown): string {
  return v === null ? "null" : Array.isArray(v) ? "array" : typeof v;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== "object" || v === null || Array.isArray(v)) return false;
  const proto: unknown = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/** Own properties of plain objects and arrays, `.length` of strings and arrays; else undefined. */
function member(obj: unknown, key: unknown): unknown {
  if (obj === null || obj === undefined) return undefined;
  if (typeof key !== "string" && typeof key !== "number") throw new Failure(`a key must be a string or a number, not ${typeName(key)}`);
  if (Array.isArray(obj) || typeof obj === "string") {
    if (key === "length") return obj.length;
    return typeof key === "number" && Number.isInteger(key) && key >= 0 && key < obj.length && (typeof obj === "string" || Object.hasOwn(obj, key)) ? obj[key] : undefined;
  }
  const k = String(key);
  return isPlainObject(obj) && !BLOCKED.has(k) && Object.hasOwn(obj, k) ? obj[k] : undefined;
}

/** Strict equality for primitives, deep equality for arrays and plain objects. */
function same(a: unknown, b: unknown, depth = 0): boolean {
  if (a === b) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  if (depth > 100) throw new Failure("values nested too deeply to compare");
  if (Array.isArray(a) || Array.isArray(b)) {
    return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((x, i) => same(x, b[i], depth + 1));
  }
  if (!isPlainObject(a) || !isPlainObject(b)) return false;
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((k) => Object.hasOwn(b, k) && same(a[k], b[k], depth + 1));
}

function order(a: unknown, b: unknown): number {
  if (typeof a === "number" && typeof b === "number") return a < b ? -1 : a > b ? 1 : a === b ? 0 : NaN;
  if (typeof a === "string" && typeof b === "string") return a < b ? -1 : a > b ? 1 : 0;
  throw new Failure(`cannot compare ${typeName(a)} with ${typeName(b)}`);
}

function contains(hay: unknown, needle: unknown): boolean {
  if (hay === null || hay === undefined) return false;
  if (Array.isArray(hay)) return hay.some((x) => same(x, needle));
  if (typeof hay === "string" && typeof needle === "string") return hay.includes(needle);
  if (isPlainObject(hay) && (typeof needle === "string" || typeof needle === "number")) return !BLOCKED.has(String(needle)) && Object.hasOwn(hay, String(needle));
  throw new Failure(`cannot use "in" with ${typeName(needle)} and ${typeName(hay)}`);
}

/** How a value reads inside text: "" for null/undefined, JSON for objects and arrays. */
function toText(v: unknown): string {
  if (v === null || v === undefined) return "";
  if (typeof v === "string") return v;
  if (typeof v === "number" || typeof v === "boolean" || typeof v === "bigint") return String(v);
  return JSON.stringify(v) ?? "";
}

function plus(a: unknown, b: unknown): unknown {
  if (typeof a === "number" && typeof b === "number") return a + b;
  if (typeof a === "string" || typeof b === "string") return toText(a) + toText(b);
  throw new Failure(`cannot use "+" on ${typeName(a)} and ${typeName(b)}`);
}

function nonZero(b: number): number {
  if (b === 0) throw new Failure("division by zero");
  return b;
}

const MATH: Readonly<Record<string, (a: number, b: number) => number>> = {
  "-": (a, b) => a - b, "*": (a, b) => a * b, "/": (a, b) => a / nonZero(b), "%": (a, b) => a % nonZero(b),
};

function binary(op: string, l: Ev, r: Ev): Ev {
  switch (op) {
    case "||": return (s) => !!l(s) || !!r(s);
    case "??": return (s) => l(s) ?? r(s);
    case "&&": return (s) => !!l(s) && !!r(s);
    case "==": return (s) => same(l(s), r(s));
    case "!=": return (s) => !same(l(s), r(s));
    case "<": return (s) => order(l(s), r(s)) < 0;
    case "<=": return (s) => order(l(s), r(s)) <= 0;
    case ">": return (s) => order(l(s), r(s)) > 0;
    case ">=": return (s) => order(l(s), r(s)) >= 0;
    case "in": return (s) => contains(r(s), l(s));
    case "+": return (s) => plus(l(s), r(s));
  }
  const f = MATH[op]!;
  return (s) => {
    const a = l(s);
    const b = r(s);
    if (typeof a !== "number" || typeof b !== "number") throw new Failure(`cannot use "${op}" on ${typeName(a)} and ${typeName(b)}`);
    return f(a, b);
  };
}

function lookup(name: string): Ev {
  return (s) => {
    if (Object.hasOwn(s, name)) return s[name];
    throw new Failure(`unknown name ${name}; known: ${Object.keys(s).join(", ") || "(none)"}`);
  };
}

const CONSTANTS: ReadonlyMap<string, unknown> = new Map<string, unknown>([["true", true], ["false", false], ["null", null]]);

/** Recursive descent over the tokens, building closures as it goes. */
class Parser {
  private i = 0;
  private depth = 0;
  private readonly tokens: readonly Token[];

  constructor(private readonly source: string) {
    this.tokens = tokenize(source);
  }

  parse(): Ev {
    const ev = this.level(0);
    if (this.peek().kind !== "end") throw this.unexpected();
    return ev;
  }

  private peek(): Token {
    return this.tokens[this.i]!;
  }

  private isOp(value: string): boolean {
    const t = this.peek();
    return t.kind === "op" && t.value === value;
  }

  /** Consumes the operator `value` if it comes next. */
  private eat(value: string): boolean {
    const yes = this.isOp(value);
    if (yes) this.i++;
    return yes;
  }

  private expect(value: string): void {
    if (!this.eat(value)) throw this.unexpected(`expected "${value}"`);
  }

  private unexpected(hint?: string): ExpressionError {
    const t = this.peek();
    return syntaxError(`unexpected ${showToken(t)}`, t.pos, this.source, hint);
  }

  /** Runs `f` one level deeper; refuses to go past MAX_DEPTH. */
  private nested<T>(f: () => T): T {
    if (++this.depth > MAX_DEPTH) throw syntaxError(`nested deeper than ${MAX_DEPTH}`, this.peek().pos, this.source);
    const out = f();
    this.depth--;
    return out;
  }

  private level(n: number): Ev {
    const ops = LEVELS[n];
    if (ops === undefined) return this.unary();
    let left = this.level(n + 1);
    for (;;) {
      const t = this.peek();
      const op = (t.kind === "op" || (t.kind === "name" && t.value === "in")) && ops.includes(t.value) ? t.value : undefined;
      if (op === undefined) return left;
      this.i++;
      left = binary(op, left, this.level(n + 1));
    }
  }

  private unary(): Ev {
    if (this.eat("!")) {
      const inner = this.nested(() => this.unary());
      return (s) => !inner(s);
    }
    if (this.eat("-")) {
      const inner = this.nested(() => this.unary());
      return (s) => {
        const v = inner(s);
        if (typeof v !== "number") throw new Failure(`cannot negate ${typeName(v)}`);
        return -v;
      };
    }
    let ev = this.primary();
    for (;;) {
      const obj = ev;
      if (this.eat(".")) {
        const t = this.peek();
        if (t.kind !== "name") throw this.unexpected("expected a property name");
        this.i++;
        ev = (s) => member(obj(s), t.value);
      } else if (this.eat("[")) {
        const key = this.nested(() => this.level(0));
        this.expect("]");
        ev = (s) => member(obj(s), key(s));
      } else if (this.isOp("(")) {
        throw syntaxError('calls are not allowed: "("', this.peek().pos, this.source);
      } else {
        return ev;
      }
    }
  }

  private primary(): Ev {
    const t = this.peek();
    if (t.kind === "num" || t.kind === "str" || (t.kind === "name" && CONSTANTS.has(t.value))) {
      this.i++;
      const v = t.kind === "name" ? CONSTANTS.get(t.value) : t.value;
      return () => v;
    }
    if (t.kind === "name" && t.value !== "in") {
      this.i++;
      return lookup(t.value);
    }
    if (this.eat("(")) {
      const inner = this.nested(() => this.level(0));
      this.expect(")");
      return inner;
    }
    if (this.eat("[")) {
      const items: Ev[] = [];
      this.nested(() => {
        while (!this.eat("]")) {
          if (items.length > 0) this.expect(",");
          items.push(this.level(0));
        }
      });
      return (s) => items.map((e) => e(s));
    }
    throw this.unexpected();
  }
}

/** A Map kept in use order: a hit moves to the back, the front goes when the map is full. */
function remember<V>(cache: Map<string, V>, key: string, make: () => V): V {
  const hit = cache.get(key);
  if (hit !== undefined) {
    cache.delete(key);
    cache.set(key, hit);
    return hit;
  }
  const value = make();
  cache.set(key, value);
  if (cache.size > CACHE_SIZE) cache.delete(cache.keys().next().value!);
  return value;
}

const exprCache = new Map<string, Expr>();

function build(source: string): Expr {
  if (typeof source !== "string") throw new ExpressionError(`an expression must be a string, not ${typeName(source)}`);
  if (source.length > MAX_SOURCE) throw new ExpressionError(`expression longer than ${MAX_SOURCE} characters (${source.length})`);
  if (source.trim() === "") throw new ExpressionError("empty expression");
  const ev = new Parser(source).parse();
  return Object.freeze({
    source,
    evaluate(scope: Scope): unknown {
      try {
        return ev(scope);
      } catch (e) {
        if (e instanceof Failure) throw new ExpressionError(`${e.message} in: ${source}`);
        throw e;
      }
    },
  });
}

/** Parses once (the same source gives the same Expr); throws ExpressionError on a syntax error. */
export function compileExpr(source: string): Expr {
  return remember(exprCache, source, () => build(source));
}

export function evaluateExpr(source: string, scope: Scope): unknown {
  return compileExpr(source).evaluate(scope);
}

type Part = string | Expr;
const templateCache = new Map<string, readonly Part[]>();

/** The index of the "}" closing an expression that starts at `from`, skipping quoted strings; -1 if none. */
function closingBrace(t: string, from: number): number {
  let quote = "";
  for (let i = from; i < t.length; i++) {
    const c = t[i];
    if (quote !== "") {
      if (c === "\\") i++;
      else if (c === quote) quote = "";
    } else if (c === '"' || c === "'") quote = c;
    else if (c === "}") return i;
  }
  return -1;
}

function parseTemplate(t: string): readonly Part[] {
  const parts: Part[] = [];
  let text = "";
  let i = 0;
  for (let j = t.indexOf("${"); j >= 0; j = t.indexOf("${", i)) {
    if (j > i && t[j - 1] === "$") {
      text += t.slice(i, j - 1) + "${";
      i = j + 2;
      continue;
    }
    const end = closingBrace(t, j + 2);
    if (end < 0) throw new ExpressionError(`unterminated "\${" at ${j + 1} in template: ${t}`);
    text += t.slice(i, j);
    if (text !== "") parts.push(text);
    text = "";
    try {
      parts.push(compileExpr(t.slice(j + 2, end)));
    } catch (e) {
      const why = e instanceof Error ? e.message : String(e);
      throw new ExpressionError(`bad template part ${t.slice(j, end + 1)}: ${why}`, { cause: e });
    }
    i = end + 1;
  }
  text += t.slice(i);
  if (text !== "") parts.push(text);
  return parts;
}

/** A string with ${...} parts: a lone "${expr}" keeps the value's type, otherwise the parts are joined as text. */
export function interpolate(template: string, scope: Scope): unknown {
  if (!template.includes("${")) return template;
  const parts = remember(templateCache, template, () => parseTemplate(template));
  const only = parts.length === 1 ? parts[0] : undefined;
  if (only !== undefined && typeof only !== "string") return only.evaluate(scope);
  let out = "";
  for (const p of parts) out += typeof p === "string" ? p : toText(p.evaluate(scope));
  return out;
}

/** interpolate() applied to every string inside a JSON-like value (arrays, plain objects); other values unchanged; returns a new value. */
export function interpolateDeep(value: unknown, scope: Scope): unknown {
  return deep(value, scope, 0);
}

function deep(value: unknown, scope: Scope, depth: number): unknown {
  if (typeof value === "string") return interpolate(value, scope);
  const arr = Array.isArray(value);
  if (!arr && !isPlainObject(value)) return value;
  if (depth > 100) throw new ExpressionError("value nested too deeply to interpolate");
  if (arr) return value.map((x) => deep(x, scope, depth + 1));
  return Object.fromEntries(Object.entries(value).map(([k, x]) => [k, deep(x, scope, depth + 1)]));
}

/** True when the string contains a ${...} part (not counting $${ escapes). */
export function hasTemplate(s: string): boolean {
  for (let j = s.indexOf("${"), i = 0; j >= 0; j = s.indexOf("${", i)) {
    if (j === i || s[j - 1] !== "$") return true;
    i = j + 2;
  }
  return false;
}

/** Syntax-check every ${...} in a template; throws ExpressionError naming the bad part. Used by the scenario validator. */
export function checkTemplate(template: string): void {
  if (template.includes("${")) remember(templateCache, template, () => parseTemplate(template));
}
