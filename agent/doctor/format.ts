/** Doctor output: aligned text lines for people, or one JSON array for scripts. */
import type { Result, Status } from "./check.js";

const LABEL: Readonly<Record<Status, string>> = { ok: "ok", warn: "warn", fail: "FAIL" };
const LABEL_WIDTH = 4;
const GAP = "  ";

/** `ok    config    agent.yaml valid (…)` / `FAIL  api-port  … — fix: …`, details indented below. */
export function formatText(results: readonly Result[]): string[] {
  const idWidth = Math.max(0, ...results.map((r) => r.id.length));
  const indent = " ".repeat(LABEL_WIDTH + GAP.length + idWidth + GAP.length);
  const lines: string[] = [];
  for (const r of results) {
    const fix = r.fix === undefined ? "" : ` — fix: ${r.fix}`;
    lines.push(`${LABEL[r.status].padEnd(LABEL_WIDTH)}${GAP}${r.id.padEnd(idWidth)}${GAP}${r.message}${fix}`);
    for (const d of r.details ?? []) lines.push(`${indent}${d}`);
  }
  const count = (s: Status): number => results.filter((r) => r.status === s).length;
  lines.push(`doctor: ${count("ok")} ok, ${count("warn")} warn, ${count("fail")} fail`);
  return lines;
}

/** `[{id, status, message, fix}]` — fix is null when there is none; details only when present. */
export function formatJson(results: readonly Result[]): string {
  return JSON.stringify(
    results.map((r) => ({ id: r.id, status: r.status, message: r.message, fix: r.fix ?? null, ...(r.details === undefined ? {} : { details: r.details }) })),
  );
}
