/**
 * How `adaos-edge resolve` prints the hub's answer for people (--json prints the answer itself).
 * Pure: the plan's steps and the answer in, lines out. Per step in plan order: what it needs, the
 * node chosen with its total and each score term, the binding's reasons, then every other
 * candidate with why it lost (and its score when it had one); the unresolved steps last.
 *
 *   step stream: needs capability://media.playback (after find)
 *     chosen      plex1  score 117
 *     terms       prio +90  base +35  load -3  rtt 0  cost -5  policy 0  addressed 0  = 117
 *     inputs      prio 90  prio_base 70  load 0.1  rtt 0 ms  cost 1  policy_fit 0
 *     reasons     -
 *     lost        nas  90  lower score 90 < 117
 */
import type { ResolveAnswer } from "../plans/plan-port.js";
import type { Binding, Rejection } from "../resolver/resolve.js";
import type { ScoreTerms } from "../resolver/score.js";
import { table } from "./scenario-format.js";

/** What the printout needs of a step of the plan as read from the file. */
export interface StepLine {
  readonly id: string;
  readonly need: string;
  readonly depends_on: readonly string[];
}

const LABEL = "unresolved".length;
const INDENT = "  ";

/** `+90`, `-3`, `0`: a term with its sign. */
export function signed(n: number): string {
  return n > 0 ? `+${n}` : n < 0 ? `-${-n}` : "0";
}

/** `prio +90  base +35  load -3  rtt -2  cost -5  policy 0  addressed 0  = 115`. */
export function termsLine(s: ScoreTerms): string {
  const terms: [string, number][] = [["prio", s.prio], ["base", s.base], ["load", s.load], ["rtt", s.rtt], ["cost", s.cost], ["policy", s.policy], ["addressed", s.addressed]];
  return `${terms.map(([k, v]) => `${k} ${signed(v)}`).join("  ")}  = ${s.total}`;
}

/** The values the terms were computed from. */
export function inputsLine(s: ScoreTerms): string {
  const i = s.inputs;
  return `prio ${i.prio}  prio_base ${i.prio_base}  load ${i.load}  rtt ${i.rtt_ms} ms  cost ${i.cost}  policy_fit ${i.policy_fit}`;
}

/** `label     first` then `          more` for each further line. */
function labelled(label: string, lines: readonly string[]): string[] {
  const [first = "-", ...more] = lines;
  return [`${INDENT}${label.padEnd(LABEL)}  ${first}`, ...more.map((l) => `${INDENT}${"".padEnd(LABEL)}  ${l}`)];
}

function losers(rejected: readonly Rejection[]): string[] {
  if (rejected.length === 0) return labelled("lost", ["- (no other candidate)"]);
  return labelled("lost", table(rejected.map((r) => [r.node_id, r.score === undefined ? "-" : String(r.score), r.reason])));
}

function stepBlock(step: StepLine, binding: Binding | undefined, rejected: readonly Rejection[], unresolved: readonly string[], ok: boolean): string[] {
  const after = step.depends_on.length === 0 ? "" : ` (after ${step.depends_on.join(", ")})`;
  const lines = [`step ${step.id}: needs ${binding?.need ?? step.need}${after}`];
  if (binding !== undefined) {
    lines.push(
      ...labelled("chosen", [`${binding.node_id}  score ${binding.score.total}`]),
      ...labelled("terms", [termsLine(binding.score)]),
      ...labelled("inputs", [inputsLine(binding.score)]),
      ...labelled("reasons", binding.reasons),
    );
  } else if (unresolved.length > 0) {
    lines.push(...labelled("unresolved", unresolved));
  } else {
    lines.push(...labelled("chosen", [ok ? "- (no binding in the answer)" : "- (not bound: the plan did not resolve)"]));
  }
  lines.push(...losers(rejected));
  return lines;
}

function count(n: number, what: string): string {
  return `${n} ${what}${n === 1 ? "" : "s"}`;
}

/** The whole printout: a summary line, a block per step in plan order, the unresolved steps last. */
export function resolveReport(name: string, steps: readonly StepLine[], answer: ResolveAnswer): string[] {
  const where = `hub ${answer.hub_id}, ${count(answer.nodes, "node")} in its directory`;
  const head = answer.ok
    ? `plan ${name}: resolved, ${count(steps.length, "step")} (${where})`
    : `plan ${name}: NOT resolved, ${answer.unresolved.length} of ${count(steps.length, "step")} unresolved (${where})`;
  const lines = [head];
  const known = new Set(steps.map((s) => s.id));
  for (const step of steps) {
    const binding = answer.bindings.find((b) => b.step === step.id);
    const rejected = answer.rejected.filter((r) => r.step === step.id);
    const unresolved = answer.unresolved.filter((u) => u.step === step.id).map((u) => u.reason);
    lines.push("", ...stepBlock(step, binding, rejected, unresolved, answer.ok));
  }
  // Steps of the answer the file does not have (a hub that parses differently): shown, not lost.
  for (const b of answer.bindings.filter((x) => !known.has(x.step))) {
    lines.push("", ...stepBlock({ id: b.step, need: b.need, depends_on: [] }, b, answer.rejected.filter((r) => r.step === b.step), [], answer.ok));
  }
  if (!answer.ok) {
    const rows = table(answer.unresolved.map((u) => [u.step, u.reason]));
    lines.push("", "unresolved:", ...(rows.length === 0 ? ["- (the hub gave no reason)"] : rows).map((l) => INDENT + l));
  }
  return lines;
}
