/**
 * The end of a program's stderr, fit for one error message: the last few non-empty lines, each
 * trimmed, joined with " | ". Never empty: a program that wrote nothing gives "(no stderr)", so
 * the message still says what was looked at.
 */

/** Lines quoted when the caller names no other count. */
export const STDERR_TAIL_LINES = 3;

export function stderrTail(stderr: string, lines = STDERR_TAIL_LINES): string {
  const kept = stderr.split("\n").map((l) => l.trim()).filter((l) => l.length > 0);
  return kept.slice(Math.max(0, kept.length - lines)).join(" | ") || "(no stderr)";
}
