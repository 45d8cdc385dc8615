/**
 * The hub's nats-server as a component: find the binary, write and check the config, spawn it,
 * wait until /healthz answers, forward its log, restart it with backoff when it dies, stop it on
 * shutdown. It never fails the agent: without a binary or with a rejected config it reports
 * `unavailable` once (members are then served over MQTT only) and start() resolves.
 *
 * States (to onState() listeners and async-iterator readers): `up` when ready, `down` when it died
 * or is not ready yet (a restart follows), `unavailable` when it will not run at all.
 * Metrics: adaos_natsd_up (1 while ready), adaos_natsd_restarts_total.
 * One start/stop cycle per instance: stop() ends the state feed.
 */
import { renameSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import { systemClock, type Clock, type TimerHandle } from "../core/clock.js";
import type { Component } from "../core/component.js";
import type { Logger } from "../core/logger.js";
import type { Counter, Gauge, MetricsRegistry } from "../core/metrics.js";
import { fullJitter, RESTART_BACKOFF, type BackoffPolicy } from "../core/backoff.js";
import { findBinary, INSTALL_HINT } from "./binary.js";
import { checkConfig, type ConfigVerdict } from "./check-config.js";
import { describeExit, NatsChild, nodeSpawn, type ExitInfo, type SpawnFn } from "./child.js";
import { natsPaths, renderHubConfig, writeConfigFile, type HubNatsConfig } from "./config-writer.js";
import { reapOrphan } from "./orphan.js";
import { healthzProbe, type Probe } from "./readiness.js";
import { StateFeed, type NatsdState } from "./state-feed.js";
import type { NatsUser } from "./users.js";

export type { NatsdState } from "./state-feed.js";

/**
 * How long start() waits for the first /healthz 200. nats-server is ready in ~50 ms here; a Pi
 * recovering a large JetStream store from an SD card can take seconds. Past this start() returns
 * (state `down`) and the server keeps being polled: it becomes `up` whenever it is ready.
 */
export const READY_TIMEOUT_MS = 10_000;
/** Between readiness probes: ready within one poll of the server being ready, negligible load. */
export const READY_POLL_MS = 50;
/** SIGTERM → SIGKILL. Below the agent's default shutdown_timeout_ms (5 s), so we kill before it gives up. */
export const STOP_GRACE_MS = 3_000;
/** A server up this long is healthy again: its next crash restarts from the first backoff step. */
export const STABLE_AFTER_MS = 60_000;

export interface NatsdOptions {
  /** config.nats.server_bin: a path or a name on PATH; null or "" runs nothing. */
  readonly bin: string | null;
  readonly server: HubNatsConfig;
  readonly readyTimeoutMs?: number;
  readonly stopGraceMs?: number;
  readonly backoff?: BackoffPolicy;
}

export interface NatsdDeps {
  /** The component logger (composition root: componentLogger(root, "natsd")); nats-server's lines go here too. */
  readonly logger: Logger;
  readonly metrics: MetricsRegistry;
  readonly clock?: Clock;
  readonly random?: () => number;
  readonly spawn?: SpawnFn;
  readonly probe?: Probe;
  readonly check?: (bin: string, file: string) => Promise<ConfigVerdict>;
}

export class NatsdSupervisor implements Component, AsyncIterable<NatsdState> {
  readonly name = "natsd";
  readonly #opts: NatsdOptions;
  readonly #logger: Logger;
  readonly #clock: Clock;
  readonly #feed: StateFeed;
  readonly #up: Gauge;
  readonly #restarts: Counter;
  #server: HubNatsConfig;
  #bin: string | undefined;
  #child: NatsChild | undefined;
  #ready: Promise<boolean> = Promise.resolve(false);
  #restartTimer: TimerHandle | undefined;
  #upSince: number | undefined;
  #attempt = 0;
  #stopping = false;

  constructor(opts: NatsdOptions, private readonly deps: NatsdDeps) {
    this.#opts = opts;
    this.#server = opts.server;
    this.#logger = deps.logger;
    this.#clock = deps.clock ?? systemClock;
    this.#feed = new StateFeed((err) => this.#logger.error({ err }, "natsd state listener threw"));
    this.#up = deps.metrics.gauge("adaos_natsd_up", "1 while the hub's nats-server is running and ready, else 0.");
    this.#restarts = deps.metrics.counter("adaos_natsd_restarts_total", "Restarts of the hub's nats-server after it died.");
    this.#up.set(0);
  }

  /** Where local clients (the hub's own NATS link) reach the server. */
  get url(): string {
    const host = ["0.0.0.0", "::", ""].includes(this.#server.host) ? "127.0.0.1" : this.#server.host;
    return `nats://${host.includes(":") ? `[${host}]` : host}:${this.#server.port}`;
  }

  get state(): NatsdState | undefined {
    return this.#feed.current;
  }

  get pid(): number | undefined {
    return this.#child?.alive === true ? this.#child.pid : undefined;
  }

  onState(fn: (s: NatsdState) => void): () => void {
    return this.#feed.on(fn);
  }

  [Symbol.asyncIterator](): AsyncIterator<NatsdState> {
    return this.#feed[Symbol.asyncIterator]();
  }

  async start(signal: AbortSignal): Promise<void> {
    this.#stopping = false;
    const problem = await this.#prepare();
    if (problem !== undefined) {
      this.#logger.warn({ reason: problem }, `nats-server unavailable: ${problem}; serving members over MQTT only`);
      this.#feed.push({ type: "unavailable", reason: problem });
      return;
    }
    this.#launch();
    const timeoutMs = this.#opts.readyTimeoutMs ?? READY_TIMEOUT_MS;
    let timer: TimerHandle | undefined;
    let onAbort: () => void = () => undefined;
    const timedOut = new Promise<"timeout">((resolve) => (timer = this.#clock.setTimer(() => resolve("timeout"), timeoutMs)));
    const aborted = new Promise<"aborted">((resolve) => signal.addEventListener("abort", (onAbort = () => resolve("aborted")), { once: true }));
    const outcome = signal.aborted ? "aborted" : await Promise.race([this.#ready, timedOut, aborted]);
    timer?.cancel();
    signal.removeEventListener("abort", onAbort);
    if (outcome === "aborted") {
      await this.stop();
      throw signal.reason instanceof Error ? signal.reason : new Error("start aborted");
    }
    if (outcome === "timeout" && this.#child !== undefined) {
      const reason = `not ready within ${timeoutMs} ms (still waiting)`;
      this.#logger.warn({ reason }, `nats-server ${reason}`);
      this.#feed.push({ type: "down", reason });
    }
  }

  async stop(): Promise<void> {
    this.#stopping = true;
    this.#restartTimer?.cancel();
    this.#restartTimer = undefined;
    const child = this.#child;
    if (child !== undefined) {
      const how = await child.terminate(this.#opts.stopGraceMs ?? STOP_GRACE_MS, this.#clock);
      const log = how === "stuck" ? this.#logger.error.bind(this.#logger) : this.#logger.info.bind(this.#logger);
      log({ pid: child.pid, how }, `nats-server stopped (${how})`);
    }
    this.#child = undefined;
    this.#up.set(0);
    this.#feed.close();
  }

  /**
   * New users (the credentials store changed): rewrite the config, let nats-server check it, and
   * SIGHUP the running server to reload it (connections of removed users are closed by the server).
   * false, with the old config kept, when it is rejected or nothing is running.
   */
  async reload(users: readonly NatsUser[]): Promise<boolean> {
    const next = { ...this.#server, users };
    if (this.#bin === undefined) return false;
    const problem = await this.#writeChecked(this.#bin, next);
    if (problem !== undefined) {
      this.#logger.error({ reason: problem }, `nats-server config reload refused: ${problem}; keeping the old one`);
      return false;
    }
    this.#server = next;
    if (this.#child?.alive === true) this.#child.proc.kill("SIGHUP");
    this.#logger.info({ users: users.length }, "nats-server config reloaded");
    return true;
  }

  /** Undefined when ready to launch, else why nats-server cannot run. */
  async #prepare(): Promise<string | undefined> {
    const name = this.#opts.bin;
    if (name === null || name === "") return "nats.server_bin is empty (disabled in config)";
    const bin = findBinary(name);
    if (bin === null) return `${name} not found (PATH, /usr/sbin, /usr/local/bin); install it: ${INSTALL_HINT}`;
    let problem: string | undefined;
    try {
      problem = await this.#writeChecked(bin, this.#server);
    } catch (err) {
      problem = `cannot write its config: ${(err as Error).message}`;
    }
    if (problem !== undefined) return problem;
    this.#bin = bin;
    const paths = natsPaths(this.#server.dir);
    const orphan = await reapOrphan(paths.pid, paths.conf);
    if (orphan !== null) this.#logger.warn({ pid: orphan }, "ended a nats-server left running by a previous agent");
    return undefined;
  }

  async #writeChecked(bin: string, server: HubNatsConfig): Promise<string | undefined> {
    const { conf } = natsPaths(server.dir);
    const next = `${conf}.next`;
    writeConfigFile(next, renderHubConfig(server));
    const verdict = await (this.deps.check ?? checkConfig)(bin, next);
    if (!verdict.ok) return `it refused its config (${verdict.reason})`;
    renameSync(next, conf);
    return undefined;
  }

  #launch(): void {
    const bin = this.#bin as string;
    const { conf } = natsPaths(this.#server.dir);
    const child = NatsChild.launch(this.deps.spawn ?? nodeSpawn, bin, ["-c", conf], this.#server.dir, this.#logger);
    this.#child = child;
    const launchedAt = this.#clock.now();
    this.#logger.debug({ pid: child.pid, bin, conf }, "nats-server spawned");
    void child.exited.then((info) => this.#onExit(child, info));
    this.#ready = this.#watchReady(child, launchedAt);
  }

  async #watchReady(child: NatsChild, launchedAt: number): Promise<boolean> {
    const probe = this.deps.probe ?? healthzProbe(this.#server.monitorPort);
    while (child.alive && this.#child === child && !this.#stopping) {
      if (await probe()) {
        if (!child.alive || this.#child !== child || this.#stopping) break;
        this.#upSince = this.#clock.now();
        this.#up.set(1);
        this.#logger.info({ pid: child.pid, url: this.url, ms: this.#upSince - launchedAt }, `nats-server ready on ${this.url}`);
        this.#feed.push({ type: "up", url: this.url });
        return true;
      }
      await sleep(READY_POLL_MS);
    }
    return false;
  }

  #onExit(child: NatsChild, info: ExitInfo): void {
    if (this.#child !== child || this.#stopping) return;
    this.#child = undefined;
    this.#up.set(0);
    if (this.#upSince !== undefined && this.#clock.now() - this.#upSince >= STABLE_AFTER_MS) this.#attempt = 0;
    this.#upSince = undefined;
    const reason = describeExit(info);
    const delay = fullJitter(this.#attempt++, this.#opts.backoff ?? RESTART_BACKOFF, this.deps.random);
    this.#logger.warn({ pid: child.pid, reason, restart_in_ms: delay }, `nats-server ${reason}; restarting in ${delay} ms`);
    this.#feed.push({ type: "down", reason });
    this.#restartTimer = this.#clock.setTimer(() => {
      this.#restartTimer = undefined;
      if (this.#stopping) return;
      this.#restarts.inc();
      this.#launch();
    }, delay);
  }
}
