/**
 * The composition root: the only place that picks concrete implementations and wires them.
 * Components start in this order and stop in reverse: node state (SQLite), bus, the role's links
 * (hub: MQTT broker, nats-server, its own links to both; member: its link to the hub), skills,
 * devices (display, media), presence (its manifest lists the skills and the devices'
 * capabilities), the IO router, plans (every node's step server; the hub's resolver and plan
 * runtime), voice (commands on the hub, then the drivers and the microphone pipeline), the
 * scenario runtime, API.
 */
import { ApiServer } from "../api/server.js";
import { LocalBus } from "../bus/local-bus.js";
import type { Bus } from "../bus/bus.js";
import type { Config } from "../config/config.js";
import type { Clock } from "../core/clock.js";
import { systemClock } from "../core/clock.js";
import { createEnvelope } from "../core/envelope.js";
import { componentLogger, type Logger } from "../core/logger.js";
import { MetricsRegistry, registerProcessMetrics } from "../core/metrics.js";
import { VERSION } from "../core/version.js";
import type { EventCatalog } from "../registry/catalog.js";
import { precompiledCatalog } from "../registry/precompiled.js";
import type { Component } from "../core/component.js";
import { NodeState } from "../store/node-state.js";
import type { RoleComponents } from "./role.js";
import { Lifecycle } from "./lifecycle.js";
import { StoreAndForward } from "./store-and-forward.js";
import { busRejectsToDlq } from "../outbox/bus-rejects.js";
import { resolveToken, type TokenSource } from "./token.js";
import { presenceComponents } from "./presence.js";
import { screenParts, type DeviceParts } from "./screen.js";
import { prepareVoice, type VoiceDeps, type VoiceParts } from "./voice.js";
import { scenarioRuntime } from "./scenarios.js";
import { ioComponents } from "./io.js";
import { planComponents } from "./plans.js";
import { skillComponents } from "./skills.js";

export interface AgentDeps {
  readonly logger: Logger;
  readonly clock?: Clock;
  readonly catalog?: EventCatalog;
}

export class Agent {
  readonly bus: Bus;
  readonly metrics = new MetricsRegistry();
  readonly token: TokenSource;
  readonly #api: ApiServer;
  readonly #state: NodeState;
  readonly #lifecycle: Lifecycle;
  readonly #components: readonly Component[];
  readonly #logger: Logger;
  readonly #clock: Clock;
  readonly #source: string;
  #ready = false;
  readonly #startedAt: number;

  /**
   * Build the agent for its role. The role's modules are imported here, lazily, so a member never
   * loads the MQTT broker or the nats-server supervisor (memory and start-up time on a Pi).
   */
  static async create(config: Config, deps: AgentDeps): Promise<Agent> {
    const roleComponents: RoleComponents =
      config.role === "hub" ? (await import("./hub-links.js")).hubComponents : (await import("./member-links.js")).memberComponents;
    const devices = await screenParts(config, deps.logger);
    const voice = await prepareVoice(config);
    return new Agent(config, deps, roleComponents, devices, voice);
  }

  private constructor(private readonly config: Config, deps: AgentDeps, roleComponents: RoleComponents, devices: DeviceParts, buildVoice: (d: VoiceDeps) => VoiceParts) {
    this.#logger = deps.logger;
    this.#clock = deps.clock ?? systemClock;
    this.#startedAt = this.#clock.now();
    this.#source = `agent://${config.role}/${config.node_id}`;
    this.token = resolveToken(config.token, config.data_dir);
    registerProcessMetrics(this.metrics, this.#startedAt);

    this.#state = new NodeState(config.data_dir, this.#clock);
    const store = new StoreAndForward(config, { logger: componentLogger(this.#logger, "store"), clock: this.#clock, metrics: this.metrics });
    const busLogger = componentLogger(this.#logger, "bus");
    const catalog = deps.catalog ?? precompiledCatalog();
    const bus = new LocalBus({
      catalog,
      logger: busLogger,
      metrics: this.metrics,
      source: this.#source,
      clock: this.#clock,
      dedupWindow: config.bus.dedup_window,
      maxPending: config.bus.max_pending,
      requestTimeoutMs: config.bus.request_timeout_ms,
      onReject: busRejectsToDlq(store.dlq, busLogger),
    });
    this.bus = bus;

    const scenarios = scenarioRuntime({ config, bus, catalog, clock: this.#clock, logger: this.#logger, metrics: this.metrics, source: this.#source });
    const role = roleComponents({ config, bus, catalog, logger: this.#logger, metrics: this.metrics, clock: this.#clock, token: this.token.token, store });
    const skills = skillComponents({ config, subnet: role.subnet?.reader, token: this.token.token, logger: this.#logger, metrics: this.metrics, clock: this.#clock });
    const plans = planComponents({ config, bus, subnet: role.subnet?.reader, tools: skills.host, devices: devices.handlers, token: this.token.token, source: this.#source, logger: this.#logger, metrics: this.metrics, clock: this.#clock });
    const voice = buildVoice({ config, bus, source: this.#source, clock: this.#clock, logger: this.#logger, metrics: this.metrics });
    const voiceCommands = voice.commands(plans.api);
    const io = ioComponents({ config, bus, subnet: role.subnet?.reader, token: this.token.token, logger: this.#logger, metrics: this.metrics, clock: this.#clock, say: voice.say });
    this.#api = new ApiServer({
      host: config.api.host,
      port: config.api.port,
      token: this.token.token,
      maxBodyBytes: config.api.max_body_bytes,
      sseHeartbeatMs: config.api.sse_heartbeat_ms,
      bus,
      metrics: this.metrics,
      logger: componentLogger(this.#logger, "api"),
      source: `api@${config.node_id}`,
      tenant: config.tenant,
      clock: this.#clock,
      readiness: () => ({ ready: this.#ready, info: this.#info() }),
      outbox: store.outbox,
      catalog,
      relayStatus: role.relayStatus,
      subnet: role.subnet,
      scenarios,
      io: io.api,
      tools: skills.tools,
      plans: plans.api,
      routes: voice.routes,
      open: devices.open,
    });
    // After the role's parts: on a hub its directory is listening when the hub announces itself.
    const presence = presenceComponents({ config, bus, clock: this.#clock, logger: this.#logger, skills: skills.host.list(), declared: devices.declared, internalChecks: devices.internalChecks });
    // Before the API (its routes) and before boot.completed is published (greet_on_boot listens for it).
    // Devices before presence (their probes report on them) and the voice pipeline after plans (a
    // command heard at start-up has its runtime).
    this.#components = [
      this.#state, store, bus, ...role.components, skills.host, ...devices.components, ...presence.components, io.router, ...plans.components,
      ...voiceCommands, ...voice.components, ...(scenarios === undefined ? [] : [scenarios]), this.#api,
    ];
    this.#lifecycle = new Lifecycle(this.#components, this.#logger);
  }

  /** The API's base URL once started. */
  get url(): string {
    return this.#api.url;
  }

  async start(signal: AbortSignal): Promise<void> {
    await this.#lifecycle.start(signal);
    this.#ready = true;
    this.bus.publish(
      createEnvelope(
        {
          event_name: "system.boot.completed",
          version: 1,
          source: this.#source,
          tenant: this.config.tenant,
          priority: 2,
          payload: {
            node_id: this.config.node_id,
            role: this.config.role,
            version: VERSION,
            boot_ms: Math.round(this.#clock.now() - this.#startedAt),
            started_at: new Date(this.#startedAt).toISOString(),
            platform: `${process.platform}-${process.arch}`,
            components: this.#components.map((c) => c.name),
          },
        },
        this.#clock,
      ),
    );
  }

  async stop(): Promise<void> {
    this.#ready = false;
    await this.#lifecycle.stop();
  }

  #info(): Record<string, unknown> {
    return {
      version: VERSION,
      node_id: this.config.node_id,
      role: this.config.role,
      uptime_s: Math.round((this.#clock.now() - this.#startedAt) / 1000),
      ...(this.#ready ? { boot_count: this.#state.boot.count } : {}),
    };
  }
}
