/**
 * Plans on this node: every node runs a StepServer for the plan steps the hub sends it, with a
 * handler per config capability that names a skill tool (directory.capabilities[].tool); a hub
 * also runs the PlanRuntime behind POST /resolve and /exec over its directory, with the weights,
 * the routing rules file and the SLA from config.resolver. Exec tokens are keyed from the
 * subnet token, which every node of the subnet shares.
 */
import type { Bus } from "../bus/bus.js";
import type { Config } from "../config/config.js";
import type { Clock } from "../core/clock.js";
import type { Component } from "../core/component.js";
import { ConfigInvalidError } from "../core/errors.js";
import { componentLogger, type Logger } from "../core/logger.js";
import type { MetricsRegistry } from "../core/metrics.js";
import type { SubnetReader } from "../directory/subnet-port.js";
import type { PlanApi } from "../plans/plan-port.js";
import { PlanRuntime } from "../plans/plan-runtime.js";
import { toolStep, type StepHandler } from "../plans/step-handler.js";
import { StepServer } from "../plans/step-server.js";
import { nodeFacts } from "../resolver/candidates.js";
import { execTokenKey } from "../resolver/exec-token.js";
import { loadRouting } from "../resolver/plan-load.js";
import { capName } from "../resolver/plan.js";
import type { LocalTools } from "../skills/skill-host.js";
import { parseToolRef } from "../skills/skill-load.js";

export interface PlanDeps {
  readonly config: Config;
  readonly bus: Bus;
  readonly subnet: SubnetReader | undefined;
  readonly tools: LocalTools;
  /** Steps the node's drivers and media run (display.play, media.search, …), by capability name. */
  readonly devices?: ReadonlyMap<string, StepHandler>;
  readonly token: string;
  readonly source: string;
  readonly logger: Logger;
  readonly metrics: MetricsRegistry;
  readonly clock: Clock;
}

/**
 * capability → handler: the devices' and, from config, the skill tools'; a tool of a skill this
 * node does not have, or a capability served twice, stops the start.
 */
export function stepHandlers(config: Config, tools: LocalTools, devices: ReadonlyMap<string, StepHandler> = new Map()): Map<string, StepHandler> {
  const handlers = new Map<string, StepHandler>(devices);
  const problems: string[] = [];
  for (const [i, c] of config.directory.capabilities.entries()) {
    if (c.tool === undefined) continue;
    const skill = parseToolRef(c.tool)?.skill ?? "";
    if (!tools.has(skill)) {
      const have = tools.list().map((s) => s.name);
      problems.push(`directory.capabilities[${i}].tool ${c.tool}: no skill "${skill}" on this node (loaded: ${have.length === 0 ? "none" : have.join(", ")})`);
      continue;
    }
    if (devices.has(capName(c.id))) {
      problems.push(`directory.capabilities[${i}].tool ${c.tool}: ${c.id} is already served by this node's ${capName(c.id).startsWith("media.") ? "media catalog" : "drivers"}`);
      continue;
    }
    handlers.set(capName(c.id), toolStep(tools, c.tool));
  }
  if (problems.length > 0) throw new ConfigInvalidError(problems.join("; "));
  return handlers;
}

export function planComponents(d: PlanDeps): { components: Component[]; api: PlanApi | undefined } {
  const { config } = d;
  const key = execTokenKey(d.token);
  const steps = new StepServer({
    bus: d.bus, nodeId: config.node_id, isHub: config.role === "hub", key, handlers: stepHandlers(config, d.tools, d.devices),
    clock: d.clock, logger: componentLogger(d.logger, "plan.steps"), metrics: d.metrics,
  });
  const subnet = d.subnet;
  if (config.role !== "hub" || subnet === undefined) return { components: [steps], api: undefined };
  const r = config.resolver;
  const runtime = new PlanRuntime({
    bus: d.bus, nodes: () => subnet.list().map(nodeFacts), hubId: config.node_id, key, weights: r.weights, rules: loadRouting(r.routing),
    startupSlaMs: r.startup_sla_ms, tokenTtlMs: r.token_ttl_ms, source: d.source, tenant: config.tenant,
    clock: d.clock, logger: componentLogger(d.logger, "plans"), metrics: d.metrics,
  });
  return { components: [steps, runtime], api: runtime };
}
