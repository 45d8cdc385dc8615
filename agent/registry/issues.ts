/** ajv errors as Issues: a JSON pointer to the exact offending value and a short message. */
import type { Issue } from "../core/errors.js";
import type { AjvError } from "./catalog.js";

function escapeToken(token: string): string {
  return token.replace(/~/g, "~0").replace(/\//g, "~1");
}

/** Turn ajv errors into issues; `base` is prefixed to every pointer (e.g. "/payload"). */
export function issuesFromAjv(errors: readonly AjvError[] | null | undefined, base = ""): Issue[] {
  if (!errors) return [];
  const seen = new Set<string>();
  const out: Issue[] = [];
  for (const e of errors) {
    let pointer = base + e.instancePath;
    let message = e.message ?? e.keyword;
    const p = e.params;
    if (e.keyword === "required" && typeof p.missingProperty === "string") {
      pointer += `/${escapeToken(p.missingProperty)}`;
      message = "is required";
    } else if (e.keyword === "additionalProperties" && typeof p.additionalProperty === "string") {
      pointer += `/${escapeToken(p.additionalProperty)}`;
      message = "is not allowed (unknown property)";
    } else if (e.keyword === "type" && (typeof p.type === "string" || Array.isArray(p.type))) {
      message = `must be ${String(p.type).split(",").join(" or ")}`;
    } else if (e.keyword === "enum" && Array.isArray(p.allowedValues)) {
      message = `must be one of ${p.allowedValues.map((v) => JSON.stringify(v)).join(", ")}`;
    }
    const key = `${pointer} ${message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push({ pointer: pointer === "" ? "/" : pointer, message });
  }
  return out;
}
