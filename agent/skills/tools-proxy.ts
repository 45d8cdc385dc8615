/**
 * Where a tool call runs (seed 003 "Skills Routing (hub → member)"). Rules:
 *  - a skill this node hosts runs here;
 *  - otherwise, only on a hub (given a SubnetReader) and only for a call that was not itself
 *    proxied (header X-AdaOS-Proxied, so a call never loops): the candidates are the other
 *    nodes that are online, have a base_url and list the skill in capacity.skills (active not
 *    false), in the order `rank` gives (default: most recent last_seen first);
 *  - each candidate gets POST <base_url>/api/tools/call with the body, request_id and timeout
 *    filled in (both sides then agree on the trace id and the bound), the subnet token in
 *    X-AdaOS-Token and X-AdaOS-Proxied: 1, bounded by the timeout plus PROXY_NETWORK_MARGIN_MS;
 *  - the first candidate that answers wins, and its answer goes back unchanged, status included
 *    (an error status too: the tool may have run there, so nobody else is asked);
 *  - a candidate that cannot be reached (refused, reset, no answer in time) is logged and counted
 *    and the next one is asked; none left: NoRespondersError naming the skill and each node tried;
 *  - no candidate at all: NotFoundError, with this node's skills and why holders were passed over.
 */
import type { CapacityItem } from "../../abi/manifest.js";
import { systemClock, type Clock } from "../core/clock.js";
import { InternalError, NoRespondersError, NotFoundError } from "../core/errors.js";
import type { Logger } from "../core/logger.js";
import type { Counter, MetricsRegistry } from "../core/metrics.js";
import type { SubnetNodeView, SubnetReader } from "../directory/subnet-port.js";
import { isRecord } from "../scenarios/load-problems.js";
import type { LocalTools, ToolCallRequest, ToolCallResult } from "./skill-host.js";
import { parseToolRef } from "./skill-load.js";

export const TOOLS_CALL_PATH = "/api/tools/call";
/** Marks a call a hub forwarded; the receiver never forwards it again. */
export const PROXIED_HEADER = "x-adaos-proxied";
const TOKEN_HEADER = "x-adaos-token";
/** The member's own deadline plus this is the hub's: connecting and carrying the answer back. */
export const PROXY_NETWORK_MARGIN_MS = 1000;
/** A member's answer: a result of at most 1 MiB (tool-runner.ts), JSON-escaped, with room to spare. */
export const MAX_ANSWER_BYTES = 8 * 1024 * 1024;

/** Orders the candidates for one skill, best first (the resolver's score plugs in here). */
export type RankCandidates = (candidates: readonly SubnetNodeView[], skill: string) => readonly SubnetNodeView[];

/** Seed 003: the most recently seen node first. */
export const byLastSeen: RankCandidates = (candidates) => [...candidates].sort((a, b) => b.last_seen - a.last_seen);

export interface ToolsServiceOptions {
  readonly local: LocalTools;
  /** A hub's directory; absent on a member, which never proxies. */
  readonly subnet?: SubnetReader | undefined;
  /** This node's id, left out of the candidates. */
  readonly selfNodeId: string;
  /** The subnet token, sent as X-AdaOS-Token. */
  readonly token: string;
  /** skills.call_timeout_ms: the bound of a proxied call that gives no timeout. */
  readonly defaultTimeoutMs: number;
  readonly rank?: RankCandidates;
  readonly logger: Logger;
  readonly metrics?: MetricsRegistry;
  readonly clock?: Clock;
}

export type ToolsAnswer =
  | { readonly kind: "local"; readonly answer: ToolCallResult }
  /** `body` is the member's JSON text as it came. */
  | { readonly kind: "proxied"; readonly node_id: string; readonly status: number; readonly body: string };

type Attempt = { readonly ok: true; readonly status: number; readonly body: string } | { readonly ok: false; readonly reason: string };

export class ToolsService {
  readonly #clock: Clock;
  readonly #proxied: Counter | undefined;

  constructor(private readonly opts: ToolsServiceOptions) {
    this.#clock = opts.clock ?? systemClock;
    this.#proxied = opts.metrics?.counter("adaos_tool_proxy_attempts_total", "Tool calls this hub forwarded to a member, by node and outcome (answered, unreachable).");
  }

  /** `proxied`: the call came from a hub (X-AdaOS-Proxied) and must not travel further. */
  async call(req: ToolCallRequest, from: { readonly proxied: boolean }): Promise<ToolsAnswer> {
    const skill = parseToolRef(req.tool)?.skill;
    const { local, subnet } = this.opts;
    if (skill === undefined || local.has(skill) || subnet === undefined || from.proxied) return { kind: "local", answer: await local.call(req) };
    const holders = subnet.list().filter((n) => n.node_id !== this.opts.selfNodeId && hasSkill(n, skill));
    const usable = holders.filter((n) => n.online && baseUrl(n) !== undefined);
    if (usable.length === 0) throw this.#nobody(skill, holders);
    const timeout = req.timeout ?? this.opts.defaultTimeoutMs;
    const body = JSON.stringify({ ...req, timeout });
    const tried: string[] = [];
    for (const node of this.#ranked(usable, skill)) {
      const attempt = await this.#post(node, body, timeout + PROXY_NETWORK_MARGIN_MS);
      if (attempt.ok) {
        this.#proxied?.inc({ node: node.node_id, outcome: "answered" });
        this.opts.logger.debug({ tool: req.tool, node: node.node_id, status: attempt.status, trace_id: req.request_id }, "tool call proxied");
        return { kind: "proxied", node_id: node.node_id, status: attempt.status, body: attempt.body };
      }
      this.#proxied?.inc({ node: node.node_id, outcome: "unreachable" });
      this.opts.logger.warn({ tool: req.tool, node: node.node_id, reason: attempt.reason, trace_id: req.request_id }, "member unreachable for a tool call; trying the next");
      tried.push(`${node.node_id} (${attempt.reason})`);
    }
    throw new NoRespondersError(`no node answered for skill "${skill}": tried ${tried.join(", ")}`);
  }

  #nobody(skill: string, holders: readonly SubnetNodeView[]): NotFoundError {
    const own = this.opts.local.list().map((s) => s.name).sort();
    const passed = holders.map((n) => `${n.node_id} has it but ${n.online ? "announced no base_url" : "is offline"}`);
    const why = passed.length === 0 ? "" : `; ${passed.join("; ")}`;
    return new NotFoundError(`no node in the subnet has skill "${skill}" (this node's skills: ${own.length === 0 ? "none" : own.join(", ")})${why}`);
  }

  /** The rank's order of the candidates; a rank that throws or adds nodes is contained. */
  #ranked(candidates: readonly SubnetNodeView[], skill: string): readonly SubnetNodeView[] {
    const rank = this.opts.rank ?? byLastSeen;
    try {
      const ids = new Set(candidates.map((c) => c.node_id));
      return rank(candidates, skill).filter((n) => ids.has(n.node_id));
    } catch (err) {
      this.opts.logger.error({ err, skill }, "ranking the candidates of a tool call failed; using the most recently seen first");
      return byLastSeen(candidates, skill);
    }
  }

  async #post(node: SubnetNodeView, body: string, boundMs: number): Promise<Attempt> {
    const url = `${(baseUrl(node) ?? "").replace(/\/+$/, "")}${TOOLS_CALL_PATH}`;
    const abort = new AbortController();
    const timer = this.#clock.setTimer(() => abort.abort(), boundMs);
    try {
      const res = await fetch(url, {
        method: "POST",
        headers: { "content-type": "application/json", accept: "application/json", [TOKEN_HEADER]: this.opts.token, [PROXIED_HEADER]: "1" },
        body,
        signal: abort.signal,
      });
      const text = await readCapped(res, node.node_id);
      if (res.status === 401) this.opts.logger.warn({ node: node.node_id }, "a member refused the subnet token on a proxied tool call");
      return { ok: true, status: res.status, body: text };
    } catch (err) {
      if (err instanceof InternalError) throw err; // it answered, unusably: the tool may have run, so nobody else is asked
      return { ok: false, reason: abort.signal.aborted ? `no answer within ${boundMs} ms` : networkReason(err) };
    } finally {
      timer.cancel();
    }
  }
}

function hasSkill(node: SubnetNodeView, skill: string): boolean {
  const capacity = node.capacity;
  if (!isRecord(capacity) || !Array.isArray(capacity.skills)) return false;
  return (capacity.skills as unknown[]).some((s) => isRecord(s) && (s as Partial<CapacityItem>).name === skill && s.active !== false);
}

function baseUrl(node: SubnetNodeView): string | undefined {
  return typeof node.base_url === "string" && /^https?:\/\//.test(node.base_url) ? node.base_url : undefined;
}

/** The answer's text, at most MAX_ANSWER_BYTES, which must be JSON (InternalError otherwise). */
async function readCapped(res: Response, nodeId: string): Promise<string> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader: ReadableStreamDefaultReader<Uint8Array> | undefined = res.body?.getReader();
  for (;;) {
    const next = reader === undefined ? { done: true as const } : await reader.read();
    if (next.done) break;
    size += next.value.byteLength;
    if (size > MAX_ANSWER_BYTES) {
      await reader?.cancel();
      throw new InternalError(`member ${nodeId} answered the tool call with more than ${MAX_ANSWER_BYTES} bytes`);
    }
    chunks.push(next.value);
  }
  const text = Buffer.concat(chunks).toString("utf8");
  try {
    JSON.parse(text);
  } catch {
    throw new InternalError(`member ${nodeId} answered the tool call with status ${res.status} and a body that is not JSON`);
  }
  return text;
}

/** Why fetch failed, in a few words: the system error code when there is one. */
function networkReason(err: unknown): string {
  const cause = err instanceof Error ? (err.cause as NodeJS.ErrnoException | undefined) : undefined;
  if (cause?.code !== undefined) return cause.code === "ECONNREFUSED" ? "connection refused" : cause.code;
  return err instanceof Error ? (cause?.message ?? err.message) : String(err);
}
