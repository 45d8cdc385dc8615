/**
 * Resolver latency: resolvePlan of a 5-step chain (capture → transcode → search → stream →
 * display; formats must match between adjacent steps, a `prefer` hint on two steps, routing.forbid
 * `network:metered` on playback, policy low-latency) over 10, 100 and 1,000 candidate nodes. The
 * nodes come from a seeded PRNG (every run sees the same fleet): each declares 2–3 of the five
 * capabilities with varied prio, cost, load, rtt, tags, metered and formats. Per size: median and
 * p99 of one resolvePlan in µs, resolves/s, median of 3 runs.
 *
 * Raw limit, same run: the floor of any resolver that looks at every candidate once per step —
 * per step a linear scan over all nodes for those with the capability, keeping the max of one
 * precomputed number (no formats, no rules, no reasons). Timed in batches of RAW_BATCH calls
 * (one call at 10 nodes is shorter than the clock's resolution), so its p99 is of batch means.
 *
 * Usage: node dist/bench/resolver.bench.js [iterations=2000]   (per size and run; ~30 s)
 */
import type { NodeFacts } from "../agent/resolver/candidates.js";
import { cap, node, plan, step } from "../agent/resolver/fixture.js";
import type { RoutingRules } from "../agent/resolver/plan.js";
import { NO_RULES } from "../agent/resolver/plan.js";
import { resolvePlan, type ResolveInput } from "../agent/resolver/resolve.js";
import { DEFAULT_WEIGHTS } from "../agent/resolver/score.js";
import { prng } from "../agent/core/prng.js";

const ITERATIONS = Number(process.argv[2] ?? 2000);
const SIZES = [10, 100, 1000];
const RUNS = 3;
const RAW_BATCH = 100;
const SEED = 0x5eed_2026;

const CAPS = ["media.capture", "media.transcode", "media.search", "media.playback", "ui.render.video"];
/** Formats on each edge of the chain: EDGE[k] is what step k outputs and step k+1 takes in. */
const EDGE = [["raw", "mjpeg", "yuv"], ["h264", "hevc", "av1"], ["mp4", "mkv", "webm"], ["hls", "dash", "mp4"]];
const TAGS = ["server", "gpu", "cloud", "kitchen", "living-room"];

function fleet(n: number, seed: number): NodeFacts[] {
  const rnd = prng(seed);
  const int = (lo: number, hi: number): number => lo + Math.floor(rnd() * (hi - lo + 1));
  const pick = <T>(from: readonly T[], k: number): T[] => [...from].sort(() => rnd() - 0.5).slice(0, k);
  const ids = Array.from({ length: n }, (_, i) => (i === 0 ? "hub-1" : `n${String(i).padStart(4, "0")}`));
  return ids.map((id, i) => {
    const caps = pick([0, 1, 2, 3, 4], int(2, 3)).sort().map((k) => {
      const inputs = k === 0 ? [] : pick(EDGE[k - 1] ?? [], int(1, 2));
      const outputs = k === 4 ? [] : pick(EDGE[k] ?? [], int(1, 2));
      return cap(CAPS[k] ?? "", int(10, 100), { cost: int(0, 40) / 10, inputs, outputs });
    });
    const rtt: Record<string, number> = { hub: int(1, 40) };
    for (let p = 0; p < 2; p++) rtt[ids[int(0, n - 1)] ?? "hub"] = int(1, 60);
    const kind = i === 0 ? "hub" : rnd() < 0.2 ? "browser" : "member";
    return node(id, kind, caps, {
      prio_base: int(30, 80),
      tags: pick(TAGS, int(0, 2)),
      load: rnd() < 0.05 ? null : int(0, 200) / 100,
      metered: rnd() < 0.2,
      battery: rnd() < 0.1 ? { percent: int(5, 100), charging: rnd() < 0.5 } : null,
      rtt_to: i === 0 ? {} : rtt,
    });
  });
}

const PLAN = plan(
  [
    step("capture", CAPS[0] ?? ""),
    step("transcode", CAPS[1] ?? "", { depends_on: ["capture"] }),
    step("search", CAPS[2] ?? "", { depends_on: ["transcode"], prefer: "member:any(tag:server)" }),
    step("stream", CAPS[3] ?? "", { depends_on: ["search"] }),
    step("display", CAPS[4] ?? "", { depends_on: ["stream"], prefer: "browser:any" }),
  ],
  { constraints: { policies: ["low-latency"], data_residency: "cloud-ok" } },
);
const RULES: RoutingRules = { ...NO_RULES, forbid: { "media.playback": ["network:metered"] } };

/** The raw floor's view of a node: capability ids and one precomputed number per capability. */
interface RawNode { readonly id: string; readonly caps: readonly string[]; readonly value: readonly number[] }

function rawNodes(nodes: readonly NodeFacts[]): RawNode[] {
  return nodes.map((n) => ({
    id: n.node_id,
    caps: n.capabilities.map((c) => c.id),
    value: n.capabilities.map((c) => (c.prio ?? 0) + n.prio_base / 2 - 30 * (n.load ?? 1) - 5 * (c.cost ?? 0)),
  }));
}

/** One pass per step over every node: the best node id per step. */
function rawResolve(nodes: readonly RawNode[], needs: readonly string[]): string[] {
  const out: string[] = [];
  for (const need of needs) {
    let best = -Infinity;
    let bestId = "";
    for (const n of nodes) {
      for (let j = 0; j < n.caps.length; j++) {
        if (n.caps[j] !== need) continue;
        const v = n.value[j] ?? -Infinity;
        if (v > best) { best = v; bestId = n.id; }
      }
    }
    out.push(bestId);
  }
  return out;
}

interface Timing { readonly median: number; readonly p99: number; readonly perSecond: number }

/** `samples` timings of `batch` calls each; per-call µs (median, p99) and calls per second. */
function time(samples: number, batch: number, fn: () => void): Timing {
  const us: number[] = [];
  let total = 0;
  for (let s = 0; s < samples; s++) {
    const t0 = process.hrtime.bigint();
    for (let b = 0; b < batch; b++) fn();
    const ns = Number(process.hrtime.bigint() - t0);
    total += ns;
    us.push(ns / batch / 1000);
  }
  us.sort((a, b) => a - b);
  const at = (q: number): number => us[Math.min(us.length - 1, Math.floor(q * us.length))] ?? 0;
  return { median: at(0.5), p99: at(0.99), perSecond: (samples * batch) / (total / 1e9) };
}

const mid = (xs: readonly number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
const medianOf = (ts: readonly Timing[]): Timing => ({ median: mid(ts.map((t) => t.median)), p99: mid(ts.map((t) => t.p99)), perSecond: mid(ts.map((t) => t.perSecond)) });
const us = (x: number): string => (x < 10 ? x.toFixed(2) : x < 100 ? x.toFixed(1) : x.toFixed(0)).padStart(8);

let sink = 0;
console.log(`resolver: 5-step chain, policy low-latency, forbid network:metered on playback; ${ITERATIONS} resolves per size and run, median of ${RUNS} runs`);
console.log(`${"nodes".padStart(6)} | ${"raw p50 µs".padStart(10)} ${"raw p99".padStart(8)} | ${"ours p50 µs".padStart(11)} ${"p99".padStart(8)} ${"resolves/s".padStart(11)} | ratio p50  p99  | rejected`);
for (const size of SIZES) {
  const nodes = fleet(size, SEED + size);
  const inp: ResolveInput = { plan: PLAN, nodes, hubId: "hub-1", rules: RULES, weights: DEFAULT_WEIGHTS };
  const r = resolvePlan(inp);
  if (!r.ok) throw new Error(`the plan does not resolve over ${size} nodes: ${JSON.stringify(r.unresolved)}`);
  if (r.bindings.length !== CAPS.length) throw new Error(`expected ${CAPS.length} bindings, got ${r.bindings.length}`);
  const raw = rawNodes(nodes);
  const needs = CAPS.map((c) => `capability://${c}`);
  const ours = (): void => void (sink += resolvePlan(inp).bindings.length);
  const floor = (): void => void (sink += rawResolve(raw, needs).length);
  time(Math.min(ITERATIONS, 500), 1, ours);
  time(Math.min(ITERATIONS, 500), RAW_BATCH, floor);
  const rawRuns: Timing[] = [];
  const ourRuns: Timing[] = [];
  for (let run = 0; run < RUNS; run++) {
    rawRuns.push(time(Math.max(1, Math.round(ITERATIONS / 10)), RAW_BATCH, floor));
    ourRuns.push(time(ITERATIONS, 1, ours));
  }
  const a = medianOf(rawRuns);
  const o = medianOf(ourRuns);
  const ratio = (x: number, y: number): string => `${(x / y).toFixed(0)}×`.padStart(6);
  console.log(`${String(size).padStart(6)} | ${us(a.median).padStart(10)} ${us(a.p99)} | ${us(o.median).padStart(11)} ${us(o.p99)} ${o.perSecond.toFixed(0).padStart(11)} | ${ratio(o.median, a.median)} ${ratio(o.p99, a.p99)} | ${r.rejected.length}`);
  console.log(`       bound: ${r.bindings.map((b) => `${b.step}→${b.node_id}`).join(", ")}`);
}
if (sink === 0) console.log("(nothing resolved)");
