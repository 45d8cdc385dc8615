/**
 * How a node makes itself known, on either role: its manifest (config's directory section plus
 * what its drivers declare), the announcer, the heartbeat with telemetry (sysfs/procfs roots from
 * config, so a test can hand it a fake battery) and capability probes, and on a member that knows
 * its hub's id the ping that measures `rtt_to.hub`. An invalid manifest stops the start with one
 * line per problem, like an invalid config.
 */
import { hostname } from "node:os";
import type { CapabilityDecl, CapacityItem, Manifest, Probe } from "../../abi/manifest.js";
import type { Bus } from "../bus/bus.js";
import type { Config } from "../config/config.js";
import type { Clock } from "../core/clock.js";
import type { Component } from "../core/component.js";
import { ConfigInvalidError } from "../core/errors.js";
import { componentLogger, type Logger } from "../core/logger.js";
import { Announcer } from "../directory/announcer.js";
import { Heartbeat } from "../directory/heartbeat.js";
import { HubPinger } from "../directory/hub-pinger.js";
import { buildManifest } from "../directory/manifest.js";
import { checkManifest } from "../directory/manifest-check.js";
import { CapabilityProbes, type InternalCheck } from "../directory/probes/capability-probe.js";
import { TelemetrySampler } from "../directory/probes/telemetry.js";

export interface PresenceDeps {
  readonly config: Config;
  readonly bus: Bus;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Capabilities the node's drivers declare, with their internal checks. */
  readonly declared?: readonly CapabilityDecl[];
  readonly internalChecks?: Readonly<Record<string, InternalCheck>>;
  /** The skills this node hosts (capacity.skills). */
  readonly skills?: readonly CapacityItem[];
}

/** The manifest this node announces; throws ConfigInvalidError naming each bad field. */
export function nodeManifest(config: Config, declared: readonly CapabilityDecl[] = [], skills: readonly CapacityItem[] = []): Manifest {
  const d = config.directory;
  const fromConfig: CapabilityDecl[] = d.capabilities.map((c) => ({
    id: c.id, prio: c.prio, cost: c.cost, inputs: c.inputs, outputs: c.outputs,
    ...(c.probe === undefined ? {} : { probe: c.probe as Probe }),
  }));
  const manifest = buildManifest({
    nodeId: config.node_id, kind: d.kind ?? config.role, prioBase: d.prio_base, tags: d.tags,
    capabilities: [...declared, ...fromConfig], skills,
  });
  const checked = checkManifest(manifest);
  if (!checked.ok) {
    // Config capabilities come after the drivers' in the manifest: point at config where they are.
    const at = (pointer: string | undefined): string => {
      const m = /^\/capabilities\/(\d+)(.*)$/.exec(pointer ?? "");
      const i = m === null ? -1 : Number(m[1]) - declared.length;
      return i >= 0 ? `directory.capabilities[${i}]${(m?.[2] ?? "").replaceAll("/", ".")}` : `manifest${pointer ?? ""}`;
    };
    throw new ConfigInvalidError(`the node's manifest is invalid: ${checked.issues.map((i) => `${at(i.pointer)} ${i.message}`).join("; ")}`);
  }
  return checked.manifest;
}

export interface Presence {
  readonly components: Component[];
  readonly announcer: Announcer;
}

export function presenceComponents(deps: PresenceDeps): Presence {
  const { config, bus, clock } = deps;
  const d = config.directory;
  const logger = componentLogger(deps.logger, "directory");
  const from = `agent://${config.role}/${config.node_id}`;
  const manifest = nodeManifest(config, deps.declared, deps.skills);
  const sampler = new TelemetrySampler({ roots: { sys: d.sys_root, proc: d.proc_root }, meteredNetwork: d.metered_network });
  const probes = new CapabilityProbes({ capabilities: manifest.capabilities, ...(deps.internalChecks === undefined ? {} : { internal: deps.internalChecks }) });
  const announcer = new Announcer({
    nodeId: config.node_id, isHub: config.role === "hub", bus, clock, logger, from, manifest, hostname: hostname(),
    ...(d.base_url === null ? {} : { baseUrl: d.base_url }),
  });
  const heartbeat = new Heartbeat({
    nodeId: config.node_id, bus, clock, logger, from, intervalMs: d.heartbeat_ms,
    source: {
      telemetry: () => Promise.resolve({ ...sampler.sample() }),
      capabilities: () => probes.run(),
      revision: () => announcer.revision,
    },
  });
  const components: Component[] = [announcer, heartbeat];
  if (config.role === "member") {
    if (config.hub.id === null) logger.info("hub.id is not set: no round-trip pings to the hub (rtt_to.hub stays empty)");
    else {
      let measured = false;
      const onSample = (ms: number): void => {
        sampler.rtt("hub", ms);
        // The first rtt goes out at once: the hub should not wait an interval to know it.
        if (!measured) heartbeat.beatNow();
        measured = true;
      };
      components.push(new HubPinger({ nodeId: config.node_id, bus, clock, logger, from, intervalMs: d.heartbeat_ms, onSample }));
    }
  }
  return { components, announcer };
}
