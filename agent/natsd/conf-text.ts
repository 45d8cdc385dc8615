/**
 * nats-server configuration syntax, written deterministically: `key: value` lines, `key { … }`
 * blocks, `[ … ]` lists, `# comment` lines. Every string is double-quoted, so a value can never be
 * read as a variable reference (`$NAME`), an include, a number or a unit ("1MB"); inside quotes
 * nats-server 2.9 accepts exactly the escapes `\t \n \r \" \\ \xXX` (measured: `\u` is a parse
 * error), and any other UTF-8 is taken literally.
 */

export type ConfScalar = string | number | boolean;
export type ConfValue = ConfScalar | readonly ConfValue[] | ConfBlock;
/** Entries whose value is undefined are left out, so optional parts read naturally. */
export interface ConfBlock {
  readonly [key: string]: ConfValue | undefined;
}

const INDENT = "  ";
const KEY = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** Lists of scalars up to this width stay on one line (easier to read, same meaning). */
const INLINE_LIST_WIDTH = 100;

/** A double-quoted string with the escapes nats-server's lexer understands. */
export function quote(value: string): string {
  let out = '"';
  for (const ch of value) {
    const code = ch.codePointAt(0) ?? 0;
    if (ch === "\\") out += "\\\\";
    else if (ch === '"') out += '\\"';
    else if (ch === "\n") out += "\\n";
    else if (ch === "\r") out += "\\r";
    else if (ch === "\t") out += "\\t";
    else if (code < 0x20 || code === 0x7f) out += `\\x${code.toString(16).padStart(2, "0")}`;
    else out += ch;
  }
  return out + '"';
}

function scalar(v: ConfScalar): string {
  if (typeof v === "string") return quote(v);
  if (typeof v === "boolean") return v ? "true" : "false";
  if (!Number.isSafeInteger(v)) throw new RangeError(`nats-server config: ${v} is not an integer`);
  return String(v);
}

function isScalar(v: ConfValue): v is ConfScalar {
  return typeof v !== "object";
}

function isList(v: ConfValue): v is readonly ConfValue[] {
  return Array.isArray(v);
}

function key(k: string): string {
  if (!KEY.test(k)) throw new RangeError(`nats-server config: "${k}" is not a valid key`);
  return k;
}

/** The `key: value` / `key { … }` lines of a block, at the given depth. */
export function renderEntries(block: ConfBlock, depth = 0): string[] {
  const pad = INDENT.repeat(depth);
  const lines: string[] = [];
  for (const [k, v] of Object.entries(block)) {
    if (v === undefined) continue;
    if (isScalar(v)) lines.push(`${pad}${key(k)}: ${scalar(v)}`);
    else if (isList(v)) lines.push(...renderList(`${pad}${key(k)}: `, v, depth));
    else lines.push(`${pad}${key(k)} {`, ...renderEntries(v, depth + 1), `${pad}}`);
  }
  return lines;
}

function renderList(head: string, list: readonly ConfValue[], depth: number): string[] {
  if (list.every(isScalar)) {
    const inline = `${head}[${list.map(scalar).join(", ")}]`;
    if (inline.length <= INLINE_LIST_WIDTH) return [inline];
  }
  const pad = INDENT.repeat(depth + 1);
  const lines = [`${head}[`];
  for (const item of list) {
    if (isScalar(item)) lines.push(`${pad}${scalar(item)}`);
    else if (isList(item)) lines.push(...renderList(pad, item, depth + 1));
    else lines.push(`${pad}{`, ...renderEntries(item, depth + 2), `${pad}}`);
  }
  lines.push(`${INDENT.repeat(depth)}]`);
  return lines;
}

/** A section: its comment lines (each prefixed `# `), then its entries. */
export function section(comment: string | readonly string[], block: ConfBlock): string[] {
  const notes = typeof comment === "string" ? [comment] : comment;
  return [...notes.map((c) => `# ${c}`), ...renderEntries(block)];
}

/** Sections separated by blank lines, ending with a newline. */
export function renderConf(sections: readonly (readonly string[])[]): string {
  return sections.filter((s) => s.length > 0).map((s) => s.join("\n")).join("\n\n") + "\n";
}
