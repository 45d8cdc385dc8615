/**
 * The node's skills (config skills.dirs, else <data_dir>/skills) and POST /api/tools/call: the
 * SkillHost runs this node's tools; on a hub the ToolsService forwards a call for a skill only a
 * member has to the best-scoring online member that has it (the resolver's score with the
 * skill as a capability of prio 0 and cost 0: prio_base, load and rtt decide). A skill folder
 * that does not load is logged with its problems and skipped; the others still load.
 */
import { join } from "node:path";
import type { Config } from "../config/config.js";
import type { Clock } from "../core/clock.js";
import { componentLogger, type Logger } from "../core/logger.js";
import type { MetricsRegistry } from "../core/metrics.js";
import type { SubnetNodeView, SubnetReader } from "../directory/subnet-port.js";
import { nodeFacts } from "../resolver/candidates.js";
import { score, type Weights } from "../resolver/score.js";
import { SkillHost } from "../skills/skill-host.js";
import { loadSkills, problemText } from "../skills/skill-load.js";
import { ToolsService, type RankCandidates } from "../skills/tools-proxy.js";

export const SKILLS_DIR = "skills";

export interface SkillsDeps {
  readonly config: Config;
  /** A hub's directory; a member never proxies. */
  readonly subnet: SubnetReader | undefined;
  readonly token: string;
  readonly logger: Logger;
  readonly metrics: MetricsRegistry;
  readonly clock: Clock;
}

/** Best score first, the score as the resolver computes it for a capability every holder has alike. */
export function bySkillScore(weights: Weights, hubId: string): RankCandidates {
  return (candidates: readonly SubnetNodeView[], skill: string) => {
    const scored = candidates.map((view) => {
      const node = nodeFacts(view);
      const total = score({ candidate: { node, capability: { id: `skill://${skill}`, status: "up", prio: 0, cost: 0 } }, adjacent: [], hubId, policies: [], addressed: false, weights }).total;
      return { view, total };
    });
    return scored.sort((a, b) => b.total - a.total || b.view.last_seen - a.view.last_seen).map((s) => s.view);
  };
}

export function skillComponents(d: SkillsDeps): { host: SkillHost; tools: ToolsService } {
  const logger = componentLogger(d.logger, "skills");
  const dirs = d.config.skills.dirs ?? [join(d.config.data_dir, SKILLS_DIR)];
  const loaded = loadSkills(dirs);
  for (const p of loaded.problems) logger.warn({ file: p.file }, problemText(p));
  const host = new SkillHost({ skills: loaded.skills, defaultTimeoutMs: d.config.skills.call_timeout_ms, logger, metrics: d.metrics, clock: d.clock });
  const tools = new ToolsService({
    local: host,
    subnet: d.subnet,
    selfNodeId: d.config.node_id,
    token: d.token,
    defaultTimeoutMs: d.config.skills.call_timeout_ms,
    rank: bySkillScore(d.config.resolver.weights, d.config.node_id),
    logger,
    metrics: d.metrics,
    clock: d.clock,
  });
  return { host, tools };
}
