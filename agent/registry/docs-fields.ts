/**
 * Payload fields of a JSON schema as rows of a markdown table: name (dotted for nested objects),
 * type with its constraints, whether required, the default and the description.
 */
import { cell } from "./codegen-extra.js";

type Schema = Record<string, unknown>;

export interface FieldRow {
  readonly name: string;
  readonly type: string;
  readonly required: boolean;
  readonly default?: string;
  readonly description: string;
}

/** Nested objects deeper than this are shown as `object` without their own rows. */
const MAX_DEPTH = 3;

export function fieldRows(schema: Schema, prefix = "", depth = 1): FieldRow[] {
  const props = asSchema(schema.properties);
  if (props === undefined) return [];
  const required = Array.isArray(schema.required) ? (schema.required as unknown[]) : [];
  const rows: FieldRow[] = [];
  for (const [name, raw] of Object.entries(props)) {
    const sub = asSchema(raw) ?? {};
    const full = prefix + name;
    rows.push({
      name: full,
      type: typeText(sub),
      required: required.includes(name),
      ...(sub.default === undefined ? {} : { default: JSON.stringify(sub.default) }),
      description: typeof sub.description === "string" ? sub.description : "",
    });
    if (depth < MAX_DEPTH && asSchema(sub.properties) !== undefined) rows.push(...fieldRows(sub, `${full}.`, depth + 1));
  }
  return rows;
}

export function fieldsTable(schema: Schema): string[] {
  const rows = fieldRows(schema);
  if (rows.length === 0) return ["The payload has no declared fields."];
  return [
    "| field | type | required | default | description |",
    "|---|---|---|---|---|",
    ...rows.map((r) => `| \`${r.name}\` | ${cell(r.type)} | ${r.required ? "yes" : "no"} | ${r.default === undefined ? "" : `\`${cell(r.default)}\``} | ${cell(r.description)} |`),
  ];
}

/** A short human description of a schema's type and constraints. */
export function typeText(s: Schema): string {
  if (Array.isArray(s.enum)) return s.enum.map((v) => `\`${JSON.stringify(v)}\``).join(" | ");
  if ("const" in s) return `\`${JSON.stringify(s.const)}\``;
  const types = Array.isArray(s.type) ? (s.type as unknown[]).map(String) : typeof s.type === "string" ? [s.type] : [];
  if (types.length === 0) return Object.keys(s).length === 0 ? "any" : "see schema";
  return types.map((t) => withConstraints(t, s)).join(" or ");
}

function withConstraints(type: string, s: Schema): string {
  const parts: string[] = [];
  switch (type) {
    case "string": {
      const len = range(s.minLength, s.maxLength);
      if (len !== "") parts.push(`${len} chars`);
      if (typeof s.pattern === "string") parts.push(`pattern \`${s.pattern}\``);
      break;
    }
    case "integer":
    case "number": {
      const r = range(s.minimum, s.maximum);
      if (r !== "") parts.push(r);
      break;
    }
    case "array": {
      const items = asSchema(s.items);
      const n = range(s.minItems, s.maxItems);
      return `array of ${items === undefined ? "any" : typeText(items)}${n === "" ? "" : ` (${n} items)`}`;
    }
    case "object": {
      const extra = asSchema(s.additionalProperties);
      if (extra !== undefined && asSchema(s.properties) === undefined) return `object of ${typeText(extra)}`;
      break;
    }
  }
  return parts.length === 0 ? type : `${type} (${parts.join(", ")})`;
}

function range(min: unknown, max: unknown): string {
  const lo = typeof min === "number" ? min : undefined;
  const hi = typeof max === "number" ? max : undefined;
  if (lo !== undefined && hi !== undefined) return `${lo}..${hi}`;
  if (lo !== undefined) return `≥ ${lo}`;
  if (hi !== undefined) return `≤ ${hi}`;
  return "";
}

function asSchema(v: unknown): Schema | undefined {
  return typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Schema) : undefined;
}
