/**
 * Tokenizer for the scenario expression language (the language itself is described in expr.ts).
 * It turns source text into numbers, strings, names and operators, each with its offset. Strings
 * take "double" or 'single' quotes and the escapes \\ \" \' \n \t, nothing else. A character it
 * does not know is an ExpressionError that gives the 1-based column and shows the source; a lone
 * "=", "&" or "|" also says what was probably meant.
 */
import { ExpressionError } from "../core/errors.js";

export type Token =
  | { readonly kind: "num"; readonly value: number; readonly pos: number }
  | { readonly kind: "str" | "name" | "op"; readonly value: string; readonly pos: number }
  | { readonly kind: "end"; readonly value: ""; readonly pos: number };

/** Longest first, so that "==" wins over a lone "=" (which is not an operator). */
const OPS = ["||", "&&", "??", "==", "!=", "<=", ">=", "<", ">", "+", "-", "*", "/", "%", "!", "(", ")", "[", "]", ".", ","];
const HINTS: Readonly<Record<string, string>> = {
  "=": "use == to compare",
  "===": "use ==, it is already strict",
  "!==": "use !=, it is already strict",
  "&": "use && for and",
  "|": "use || for or",
};
const ESCAPES: Readonly<Record<string, string>> = { "\\": "\\", '"': '"', "'": "'", n: "\n", t: "\t" };
const NAME = /[A-Za-z_][A-Za-z0-9_]*/y;
const NUMBER = /[0-9]+(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/y;
const SPACE = /[ \t\r\n]+/y;

/** An ExpressionError pointing at `pos` (an offset; shown 1-based) in `source`. */
export function syntaxError(what: string, pos: number, source: string, hint?: string): ExpressionError {
  return new ExpressionError(`${what} at ${pos + 1} in: ${source}${hint === undefined ? "" : ` (${hint})`}`);
}

/** How a token reads in an error message. */
export function showToken(t: Token): string {
  return t.kind === "end" ? "end of expression" : t.kind === "num" ? String(t.value) : JSON.stringify(t.value);
}

function match(re: RegExp, source: string, pos: number): string | undefined {
  re.lastIndex = pos;
  return re.exec(source)?.[0];
}

function readString(source: string, start: number): { value: string; next: number } {
  const quote = source[start];
  let value = "";
  let i = start + 1;
  while (i < source.length) {
    const c = source[i]!;
    if (c === quote) return { value, next: i + 1 };
    if (c === "\\") {
      const e = source[i + 1];
      const decoded = e === undefined ? undefined : ESCAPES[e];
      if (decoded === undefined) {
        if (e === undefined) break;
        throw syntaxError(`unknown escape "\\${e}"`, i, source, 'known: \\\\ \\" \\\' \\n \\t');
      }
      value += decoded;
      i += 2;
    } else {
      value += c;
      i += 1;
    }
  }
  throw syntaxError("unterminated string", start, source);
}

/** All tokens of `source`, ending with one "end" token. */
export function tokenize(source: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < source.length) {
    const space = match(SPACE, source, i);
    if (space !== undefined) {
      i += space.length;
      continue;
    }
    const c = source[i]!;
    if (c === '"' || c === "'") {
      const { value, next } = readString(source, i);
      tokens.push({ kind: "str", value, pos: i });
      i = next;
      continue;
    }
    const num = match(NUMBER, source, i);
    if (num !== undefined) {
      tokens.push({ kind: "num", value: Number(num), pos: i });
      i += num.length;
      continue;
    }
    const name = c === "$" ? "$" : match(NAME, source, i);
    if (name !== undefined) {
      tokens.push({ kind: "name", value: name, pos: i });
      i += name.length;
      continue;
    }
    const strictEq = source.slice(i, i + 3);
    if (strictEq === "===" || strictEq === "!==") throw syntaxError(`unexpected "${strictEq}"`, i, source, HINTS[strictEq]);
    const op = OPS.find((o) => source.startsWith(o, i));
    if (op === undefined) throw syntaxError(`unexpected ${JSON.stringify(c)}`, i, source, HINTS[c]);
    tokens.push({ kind: "op", value: op, pos: i });
    i += op.length;
  }
  tokens.push({ kind: "end", value: "", pos: source.length });
  return tokens;
}
