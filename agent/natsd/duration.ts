/** Durations as operators write them: `2h`, `90m`, `1h30m`, `7200s`, `500ms`, `7d`. */

const UNIT_MS: Readonly<Record<string, number>> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const WHOLE = /^(?:\d+(?:ms|s|m|h|d))+$/;
const PART = /(\d+)(ms|s|m|h|d)/g;

/** Milliseconds, or a RangeError naming the accepted forms. */
export function parseDuration(text: string): number {
  const t = text.trim();
  if (!WHOLE.test(t)) throw new RangeError(`"${text}" is not a duration (e.g. 2h, 90m, 1h30m, 7200s)`);
  let ms = 0;
  for (const m of t.matchAll(PART)) ms += Number(m[1]) * (UNIT_MS[m[2] ?? ""] ?? 0);
  return ms;
}

/** 7_200_000 → "2h", 5_400_000 → "1h30m". */
export function formatDuration(ms: number): string {
  let rest = ms;
  let out = "";
  for (const unit of ["d", "h", "m", "s", "ms"]) {
    const size = UNIT_MS[unit] ?? 1;
    const n = Math.floor(rest / size);
    if (n > 0) out += `${n}${unit}`;
    rest -= n * size;
  }
  return out === "" ? "0s" : out;
}
