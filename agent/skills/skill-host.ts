/**
 * The skills this node hosts, and tool calls on them (tool-runner.ts runs each one). Rules:
 *  - list() is what the node announces as capacity.skills: every loaded skill, active;
 *  - a call's timeout is the request's, else the tool's timeout_ms, else the node's default, and
 *    it counts from the call's arrival: waiting for a slot uses it up too;
 *  - at most MAX_CONCURRENT_PER_TOOL calls of one tool run at once; more wait in arrival order,
 *    and a slot is given back only when the process is gone (not when its call timed out);
 *  - idempotency_key: the result of a successful call is kept per tool and key for
 *    IDEMPOTENCY_TTL_MS (at most IDEMPOTENCY_MAX_ENTRIES, oldest dropped first) and a repeat gets
 *    it without running anything; a repeat while the first is running waits for its outcome; a
 *    failure is not kept (a retry runs again); the same key with other arguments is a ConflictError;
 *  - stop() stops the programs still running and refuses new calls.
 */
import { setMaxListeners } from "node:events";
import type { CapacityItem } from "../../abi/manifest.js";
import { systemClock, type Clock } from "../core/clock.js";
import type { Component } from "../core/component.js";
import { BadRequestError, CancelledError, ConflictError, NotFoundError, TimeoutError, asAdaosError } from "../core/errors.js";
import { uuidv7 } from "../core/ids.js";
import type { Logger } from "../core/logger.js";
import type { Counter, MetricsRegistry } from "../core/metrics.js";
import { parseToolRef, type Skill, type Tool } from "./skill-load.js";
import { startTool } from "./tool-runner.js";

/** A Pi has four cores; a fifth copy of the same program would only queue for CPU. */
export const MAX_CONCURRENT_PER_TOOL = 4;
/** Covers a client's retries after a lost answer (its own timeout, a link switch, a restart of the caller). */
export const IDEMPOTENCY_TTL_MS = 10 * 60_000;
/** Bounds the memory a burst of keyed calls can take. */
export const IDEMPOTENCY_MAX_ENTRIES = 1000;

export interface ToolCallRequest {
  /** "<skill>:<tool>". */
  readonly tool: string;
  readonly arguments?: Record<string, unknown>;
  /** Milliseconds. */
  readonly timeout?: number;
  readonly idempotency_key?: string;
  readonly request_id?: string;
}

export interface ToolCallResult {
  readonly ok: true;
  readonly result: unknown;
  readonly trace_id: string;
}

/** What the tools route needs of the local skills (SkillHost, or a fake in tests). */
export interface LocalTools {
  has(skill: string): boolean;
  list(): readonly CapacityItem[];
  call(req: ToolCallRequest): Promise<ToolCallResult>;
}

export interface SkillHostOptions {
  readonly skills: readonly Skill[];
  /** skills.call_timeout_ms. */
  readonly defaultTimeoutMs: number;
  readonly logger: Logger;
  readonly metrics?: MetricsRegistry;
  readonly clock?: Clock;
  /** Where a tool's PATH, HOME and LANG come from; process.env by default. */
  readonly env?: NodeJS.ProcessEnv;
  readonly maxConcurrentPerTool?: number;
  /** Tests shrink these; IDEMPOTENCY_TTL_MS and IDEMPOTENCY_MAX_ENTRIES by default. */
  readonly idempotency?: { readonly ttlMs?: number; readonly maxEntries?: number };
}

/** FIFO slots of one tool; take() gives up with TimeoutError after `ms`. */
class Slots {
  #free: number;
  readonly #waiting: (() => void)[] = [];

  constructor(size: number, private readonly clock: Clock) {
    this.#free = size;
  }

  /** Wait up to `ms` for a slot; `timeoutMs` is the call's whole timeout, for the message. */
  take(ms: number, ref: string, timeoutMs: number = ms): Promise<void> {
    if (this.#free > 0) {
      this.#free--;
      return Promise.resolve();
    }
    return new Promise<void>((resolve, reject) => {
      const grant = (): void => {
        timer.cancel();
        resolve();
      };
      const timer = this.clock.setTimer(() => {
        this.#waiting.splice(this.#waiting.indexOf(grant), 1);
        reject(new TimeoutError(`${ref} got no free slot within ${timeoutMs} ms: all are busy with earlier calls`));
      }, ms);
      this.#waiting.push(grant);
    });
  }

  give(): void {
    const next = this.#waiting.shift();
    if (next === undefined) this.#free++;
    else next();
  }
}

interface Kept {
  readonly at: number;
  readonly fingerprint: string;
  readonly result: unknown;
}

export class SkillHost implements Component, LocalTools {
  readonly name = "skills";
  readonly #skills: ReadonlyMap<string, Skill>;
  readonly #slots = new Map<string, Slots>();
  readonly #kept = new Map<string, Kept>();
  readonly #pending = new Map<string, { readonly fingerprint: string; readonly result: Promise<unknown> }>();
  readonly #running = new Set<Promise<void>>();
  readonly #stop = new AbortController();
  readonly #clock: Clock;
  readonly #calls: Counter | undefined;

  constructor(private readonly opts: SkillHostOptions) {
    this.#skills = new Map(opts.skills.map((s) => [s.name, s]));
    this.#clock = opts.clock ?? systemClock;
    setMaxListeners(0, this.#stop.signal); // every running call listens; more than 10 is normal, not a leak
    this.#calls = opts.metrics?.counter("adaos_tool_calls_total", "Tool calls on this node's skills, by tool and outcome (ok, replayed, or the error code).");
  }

  start(signal: AbortSignal): Promise<void> {
    signal.throwIfAborted();
    this.opts.logger.info({ skills: [...this.#skills.keys()] }, `${this.#skills.size} skill(s) loaded`);
    return Promise.resolve();
  }

  async stop(): Promise<void> {
    this.#stop.abort();
    await Promise.all(this.#running);
  }

  has(skill: string): boolean {
    return this.#skills.has(skill);
  }

  list(): CapacityItem[] {
    return [...this.#skills.values()].map((s) => ({ name: s.name, version: s.version, active: true }));
  }

  async call(req: ToolCallRequest): Promise<ToolCallResult> {
    const arrived = this.#clock.now();
    const trace_id = req.request_id ?? uuidv7(arrived);
    const tool = this.#tool(req.tool);
    const args = req.arguments ?? {};
    const timeoutMs = req.timeout ?? tool.timeoutMs ?? this.opts.defaultTimeoutMs;
    const labels = { tool: req.tool };
    try {
      const run = (): Promise<unknown> => this.#run(tool, args, arrived + timeoutMs, timeoutMs, trace_id);
      const { result, replayed } = req.idempotency_key === undefined ? { result: await run(), replayed: false } : await this.#once(req.tool, req.idempotency_key, args, run);
      this.#calls?.inc({ ...labels, outcome: replayed ? "replayed" : "ok" });
      this.opts.logger.debug({ tool: req.tool, trace_id, replayed, ms: this.#clock.now() - arrived }, "tool call done");
      return { ok: true, result, trace_id };
    } catch (err) {
      this.#calls?.inc({ ...labels, outcome: asAdaosError(err).code });
      throw err;
    }
  }

  #tool(ref: string): Tool {
    const parsed = parseToolRef(ref);
    if (parsed === undefined) throw new BadRequestError(`tool must be "<skill>:<tool>" (e.g. "weather:now"), got ${JSON.stringify(ref)}`);
    const skill = this.#skills.get(parsed.skill);
    if (skill === undefined) throw new NotFoundError(`this node has no skill "${parsed.skill}" (its skills: ${names(this.#skills.keys())})`);
    const tool = skill.tools.get(parsed.tool);
    if (tool === undefined) throw new NotFoundError(`skill "${skill.name}" has no tool "${parsed.tool}" (its tools: ${names(skill.tools.keys())})`);
    return tool;
  }

  async #run(tool: Tool, args: unknown, deadline: number, timeoutMs: number, callId: string): Promise<unknown> {
    const ref = `${tool.skill}:${tool.name}`;
    if (this.#stop.signal.aborted) throw new CancelledError(`${ref} was not started: the agent is stopping`);
    let slots = this.#slots.get(ref);
    if (slots === undefined) this.#slots.set(ref, (slots = new Slots(this.opts.maxConcurrentPerTool ?? MAX_CONCURRENT_PER_TOOL, this.#clock)));
    await slots.take(Math.max(0, deadline - this.#clock.now()), ref, timeoutMs);
    const left = deadline - this.#clock.now();
    if (left <= 0) {
      slots.give();
      throw new TimeoutError(`${ref} waited its whole timeout of ${timeoutMs} ms for a free slot`);
    }
    const running = startTool({ tool, arguments: args, timeoutMs: left, budgetMs: timeoutMs, callId, signal: this.#stop.signal, clock: this.#clock, ...(this.opts.env === undefined ? {} : { env: this.opts.env }) });
    const exited = running.exited.then(() => {
      this.#running.delete(exited);
      slots.give();
    });
    this.#running.add(exited);
    return running.result;
  }

  async #once(toolRef: string, key: string, args: unknown, run: () => Promise<unknown>): Promise<{ result: unknown; replayed: boolean }> {
    const id = `${toolRef}\u0000${key}`;
    const fingerprint = canonicalJson(args);
    const conflict = (): ConflictError => new ConflictError(`idempotency_key ${JSON.stringify(key)} of ${toolRef} was already used with other arguments`);
    this.#evict();
    const kept = this.#kept.get(id);
    if (kept !== undefined) {
      if (kept.fingerprint !== fingerprint) throw conflict();
      return { result: kept.result, replayed: true };
    }
    const pending = this.#pending.get(id);
    if (pending !== undefined) {
      if (pending.fingerprint !== fingerprint) throw conflict();
      return { result: await pending.result, replayed: true };
    }
    const result = run();
    this.#pending.set(id, { fingerprint, result });
    try {
      const value = await result;
      this.#kept.set(id, { at: this.#clock.now(), fingerprint, result: value });
      this.#evict();
      return { result: value, replayed: false };
    } finally {
      this.#pending.delete(id);
    }
  }

  #evict(): void {
    const now = this.#clock.now();
    const ttl = this.opts.idempotency?.ttlMs ?? IDEMPOTENCY_TTL_MS;
    const max = this.opts.idempotency?.maxEntries ?? IDEMPOTENCY_MAX_ENTRIES;
    for (const [id, k] of this.#kept) {
      if (this.#kept.size <= max && now - k.at < ttl) break; // insertion order: the rest are newer
      this.#kept.delete(id);
    }
  }
}

function names(keys: Iterable<string>): string {
  const list = [...keys].sort();
  return list.length === 0 ? "none" : list.join(", ");
}

/** JSON with object keys sorted, so the same arguments in another key order are the same call. */
function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) =>
    v !== null && typeof v === "object" && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) : v,
  );
}
