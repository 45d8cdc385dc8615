/**
 * An in-process subnet for the plan runtime's tests: one LocalBus, a StepServer per node of the
 * film example (agent/resolver/fixture.ts) with handlers the test can slow down or break, and a
 * PlanRuntime on top. Everything real but the transport (the e2e tests in test/ add that).
 */
import type { TestContext } from "node:test";
import type { Envelope } from "../../abi/envelope.js";
import { LocalBus } from "../bus/local-bus.js";
import { systemClock } from "../core/clock.js";
import { silentLogger } from "../core/logger.js";
import { MetricsRegistry } from "../core/metrics.js";
import { precompiledCatalog } from "../registry/precompiled.js";
import type { NodeFacts } from "../resolver/candidates.js";
import { execTokenKey } from "../resolver/exec-token.js";
import { cap, filmNodes, node, plan, step } from "../resolver/fixture.js";
import { NO_RULES, type RoutingRules } from "../resolver/plan.js";
import { DEFAULT_WEIGHTS } from "../resolver/score.js";
import { FINAL_PLAN_STATES, type PlanRunStatus } from "./plan-port.js";
import { PlanRuntime } from "./plan-runtime.js";
import type { StepHandler, StepRequest } from "./step-handler.js";
import { StepServer } from "./step-server.js";

export const TOKEN = "subnet-token-0123456789abcdef";
export const HUB = "hub-1";

/** find → stream → display, outputs passed on by templates. */
export const FILM = plan([
  step("find", "media.search", { args: { title: "Inception" } }),
  step("stream", "media.playback", { depends_on: ["find"], args: { id: "${steps.find.id}" } }),
  step("display", "ui.render.video", { depends_on: ["stream"], args: { url: "${steps.stream.url}", title: "${steps.find.title}" } }),
], { id: "film" });

/** What a node's handler does, per capability; `calls` records every request it saw. */
export type Behaviour = (req: StepRequest, node: string) => Promise<Record<string, unknown>>;

const DEFAULT: Record<string, Behaviour> = {
  "media.search": (req) => Promise.resolve({ id: "inception-2010", title: String(req.args.title) }),
  "media.playback": (req, n) => Promise.resolve({ url: `http://${n}.local/hls/${String(req.args.id)}.m3u8`, format: "hls" }),
  "ui.render.video": (req) => Promise.resolve({ playing: true, url: req.args.url }),
};

export interface Subnet {
  readonly bus: LocalBus;
  readonly runtime: PlanRuntime;
  readonly nodes: NodeFacts[];
  readonly metrics: MetricsRegistry;
  readonly calls: { node: string; req: StepRequest }[];
  readonly events: Envelope[];
  /** Replace what `node` does for `capability` (without capability://). */
  behave(node: string, capability: string, fn: Behaviour): void;
  setOnline(node: string, online: boolean): void;
  /** The run's final status, once its plan.run.completed has reached `events` too. */
  done(runId: string, timeoutMs?: number): Promise<PlanRunStatus>;
}

/** The film nodes plus browser-2, a second display that takes hls. */
export function subnetNodes(): NodeFacts[] {
  return [...filmNodes(), node("browser-2", "browser", [cap("ui.render.video", 80, { inputs: ["hls"] })], { rtt_to: { hub: 20 } })];
}

export async function startSubnet(t: TestContext, o: { nodes?: NodeFacts[]; slaMs?: number; rules?: RoutingRules } = {}): Promise<Subnet> {
  const metrics = new MetricsRegistry();
  const bus = new LocalBus({ catalog: precompiledCatalog(), logger: silentLogger(), metrics, source: `agent://hub/${HUB}` });
  await bus.start();
  t.after(() => bus.stop());
  const nodes = o.nodes ?? subnetNodes();
  const key = execTokenKey(TOKEN);
  const calls: { node: string; req: StepRequest }[] = [];
  const overrides = new Map<string, Behaviour>();
  const events: Envelope[] = [];
  bus.subscribe(">", (e) => void events.push(e));
  for (const n of nodes) {
    const handlers = new Map<string, StepHandler>(n.capabilities.map((c) => {
      const name = c.id.replace("capability://", "");
      const handler: StepHandler = {
        run: (req) => {
          calls.push({ node: n.node_id, req });
          return (overrides.get(`${n.node_id}/${name}`) ?? DEFAULT[name] ?? (() => Promise.resolve({})))(req, n.node_id);
        },
      };
      return [name, handler];
    }));
    const server = new StepServer({ bus, nodeId: n.node_id, isHub: n.kind === "hub", key, handlers, clock: systemClock, logger: silentLogger(), metrics });
    await server.start(new AbortController().signal);
    t.after(() => server.stop());
  }
  const runtime = new PlanRuntime({
    bus, nodes: () => nodes, hubId: HUB, key, weights: DEFAULT_WEIGHTS, rules: o.rules ?? NO_RULES, startupSlaMs: o.slaMs ?? 2000, tokenTtlMs: 60_000,
    source: `agent://hub/${HUB}`, tenant: "default", clock: systemClock, logger: silentLogger(), metrics,
  });
  await runtime.start(new AbortController().signal);
  t.after(() => runtime.stop());
  const index = (id: string): number => nodes.findIndex((n) => n.node_id === id);
  return {
    bus, runtime, nodes, metrics, calls, events,
    behave: (n, c, fn) => void overrides.set(`${n}/${c}`, fn),
    setOnline: (id, online) => {
      const i = index(id);
      nodes[i] = { ...(nodes[i] as NodeFacts), online };
    },
    done: async (runId, timeoutMs = 10_000) => {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const s = runtime.status(runId);
        // Final, and its plan.run.completed delivered (the bus hands envelopes over asynchronously).
        const told = events.some((e) => e.event_name === "plan.run.completed" && (e.payload as { run_id?: unknown }).run_id === runId);
        if (s !== undefined && FINAL_PLAN_STATES.has(s.state) && told) return s;
        if (Date.now() > deadline) throw new Error(`run ${runId} still ${s?.state ?? "unknown"} after ${timeoutMs} ms`);
        await new Promise((r) => setTimeout(r, 10));
      }
    },
  };
}
