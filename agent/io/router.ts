/**
 * The IO router: where ui.notify (the console print) and ui.say (text-to-speech) go. Upstream
 * AdaOS's RouterService, with route_rules.yaml's `match` honoured (route-rules.ts).
 *
 * Rules of this component:
 * - Per envelope: the rule pickRule chooses decides the node; with none, payload.target when the
 *   envelope names one, else this node. `this` or our own node id → the local sink. Any other
 *   node → POST to its base_url (/api/io/console/print {text, origin} or /api/say {text, voice?,
 *   lang?}) with the subnet token in X-AdaOS-Token, within REMOTE_TIMEOUT_MS, redirects refused.
 * - A node that is unknown, offline or without an http(s) base_url is never a silent drop: a
 *   warning, a count (destination="fallback"), and the local sink instead.
 * - A remote that fails (refused, timed out, non-2xx) is logged and counted, and not printed here
 *   as well: it may have been delivered already. Nothing is ever thrown into the bus.
 * - Loop guard: an envelope with header io_routed "1" was routed already and is left alone. The
 *   HTTP endpoints (routes.ts) publish nothing, so what arrives over HTTP is never routed again.
 * - Handlers finish one envelope before the next (the bus awaits them): phrases keep their order.
 * - Counters: adaos_io_routed_total{io_type, destination=local|remote|fallback} per delivery that
 *   succeeded; adaos_io_route_errors_total{io_type} per delivery that failed.
 */
import type { Envelope } from "../../abi/envelope.js";
import type { Bus, Subscription } from "../bus/bus.js";
import { systemClock, type Clock } from "../core/clock.js";
import type { Component } from "../core/component.js";
import { TimeoutError, TransportClosedError, asAdaosError } from "../core/errors.js";
import type { Logger } from "../core/logger.js";
import type { Counter, MetricsRegistry } from "../core/metrics.js";
import type { SubnetReader } from "../directory/subnet-port.js";
import { CONSOLE_PRINT_PATH, SAY_PATH } from "./routes.js";
import { DEFAULT_ROUTE_RULES, THIS_NODE, loadRouteRules, pickRule, type IoType, type RouteRules } from "./route-rules.js";
import type { ConsoleSink, SayRequest, SaySink } from "./sinks.js";

/** Upstream waits 2.5 s; the handler awaits delivery, so a dead member holds the queue no longer than this. */
export const REMOTE_TIMEOUT_MS = 2000;
/** Header of an envelope that was routed already (the loop guard). */
export const IO_ROUTED_HEADER = "io_routed";
/** Longest piece of a remote's error answer that goes into the log. */
const MAX_ERROR_TEXT = 300;

const EVENTS: readonly (readonly [string, IoType])[] = [["ui.notify", "console"], ["ui.say", "say"]];

export interface IoRouterOptions {
  readonly bus: Bus;
  /** The subnet directory (a hub's own, a member's snapshot); absent: every other node falls back. */
  readonly subnet: SubnetReader | undefined;
  readonly nodeId: string;
  /** The subnet token, sent to other nodes as X-AdaOS-Token. */
  readonly token: string;
  /** route_rules.yaml; null or a missing file: the defaults (everything to this node). */
  readonly rulesPath: string | null;
  readonly console: ConsoleSink;
  readonly say: SaySink;
  readonly logger: Logger;
  readonly metrics?: MetricsRegistry;
  readonly clock?: Clock;
  /** REMOTE_TIMEOUT_MS unless told otherwise (tests). */
  readonly remoteTimeoutMs?: number;
}

type Destination =
  | { readonly kind: "local" }
  | { readonly kind: "remote"; readonly node: string; readonly baseUrl: string }
  | { readonly kind: "fallback"; readonly node: string; readonly why: string };

export class IoRouter implements Component {
  readonly name = "io-router";
  #rules: RouteRules = DEFAULT_ROUTE_RULES;
  #subscriptions: Subscription[] = [];
  readonly #inflight = new Set<AbortController>();
  #routed: Counter | undefined;
  #errors: Counter | undefined;

  constructor(private readonly o: IoRouterOptions) {}

  /** Loads the rules (a bad file fails the start with ConfigInvalidError) and subscribes. */
  async start(signal: AbortSignal): Promise<void> {
    signal.throwIfAborted();
    const { logger, rulesPath } = this.o;
    const loaded = loadRouteRules(rulesPath);
    for (const s of loaded.skipped) logger.warn({ file: loaded.source, pointer: s.pointer }, s.message);
    if (loaded.source === null) logger.info({ file: rulesPath }, "no route rules file: ui.notify and ui.say go to this node");
    else logger.info({ file: loaded.source, rules: loaded.rules.length, skipped: loaded.skipped.length }, "route rules loaded");
    this.#rules = loaded;
    this.#routed = this.o.metrics?.counter("adaos_io_routed_total", "ui.notify and ui.say envelopes delivered, by io_type and destination (local, remote, fallback).");
    this.#errors = this.o.metrics?.counter("adaos_io_route_errors_total", "ui.notify and ui.say envelopes whose delivery failed, by io_type.");
    for (const [event, ioType] of EVENTS) {
      this.#subscriptions.push(this.o.bus.subscribe(event, (env) => this.#route(env, ioType)));
    }
    await Promise.resolve();
  }

  async stop(): Promise<void> {
    for (const s of this.#subscriptions) s.unsubscribe();
    this.#subscriptions = [];
    for (const ac of this.#inflight) ac.abort(new TransportClosedError("the IO router is stopping"));
    this.#inflight.clear();
    await Promise.resolve();
  }

  /** Never rejects: every failure is logged and counted here. */
  async #route(env: Envelope, ioType: IoType): Promise<void> {
    const log = { event: env.event_name, id: env.id, io_type: ioType };
    if (env.headers[IO_ROUTED_HEADER] === "1") {
      this.o.logger.debug(log, "envelope routed already (io_routed header): left alone");
      return;
    }
    let node = this.o.nodeId;
    try {
      const dest = this.#destination(env, ioType);
      if (dest.kind !== "local") node = dest.node;
      if (dest.kind === "remote") {
        await this.#post(dest, env, ioType);
      } else {
        if (dest.kind === "fallback") this.o.logger.warn({ ...log, node: dest.node }, `target ${dest.why}: delivered on this node instead`);
        await this.#local(env, ioType);
      }
      this.#routed?.inc({ io_type: ioType, destination: dest.kind });
    } catch (err) {
      const e = asAdaosError(err);
      this.o.logger.warn({ ...log, node, code: e.code, err: e.message }, "IO delivery failed");
      this.#errors?.inc({ io_type: ioType });
    }
  }

  #destination(env: Envelope, ioType: IoType): Destination {
    const rule = pickRule(this.#rules, env, ioType, (r, err) =>
      this.o.logger.debug({ event: env.event_name, when: r.match.when, err: asAdaosError(err).message }, "route rule `when` not applicable to this envelope"),
    );
    const requested = env.payload.target;
    const node = rule?.target.node_id ?? (typeof requested === "string" ? requested : THIS_NODE);
    if (node === THIS_NODE || node === this.o.nodeId) return { kind: "local" };
    const view = this.o.subnet?.get(node);
    if (view === undefined) return { kind: "fallback", node, why: `${node} is not in the subnet directory` };
    if (!view.online) return { kind: "fallback", node, why: `${node} is offline` };
    const baseUrl = typeof view.base_url === "string" ? view.base_url.replace(/\/+$/, "") : "";
    if (!isHttpUrl(baseUrl)) return { kind: "fallback", node, why: `${node} has no http(s) base_url` };
    return { kind: "remote", node, baseUrl };
  }

  async #local(env: Envelope, ioType: IoType): Promise<void> {
    if (ioType === "say") {
      await this.o.say.say(sayRequest(env));
      return;
    }
    const origin = env.payload.origin;
    this.o.console.print(textOf(env), ...(typeof origin === "string" ? [origin] : []));
  }

  async #post(dest: { readonly node: string; readonly baseUrl: string }, env: Envelope, ioType: IoType): Promise<void> {
    const { path, body } =
      ioType === "say"
        ? { path: SAY_PATH, body: sayRequest(env) }
        : { path: CONSOLE_PRINT_PATH, body: { text: textOf(env), origin: remoteOrigin(env, this.o.nodeId) } };
    const timeoutMs = this.o.remoteTimeoutMs ?? REMOTE_TIMEOUT_MS;
    const ac = new AbortController();
    const timer = (this.o.clock ?? systemClock).setTimer(() => ac.abort(new TimeoutError(`${dest.node} did not answer within ${timeoutMs} ms`)), timeoutMs);
    this.#inflight.add(ac);
    try {
      const res = await fetch(dest.baseUrl + path, {
        method: "POST",
        headers: { "content-type": "application/json", "x-adaos-token": this.o.token },
        body: JSON.stringify(body),
        signal: ac.signal,
        redirect: "error",
      });
      if (res.ok) {
        await res.body?.cancel();
        return;
      }
      throw new Error(`${dest.node} answered ${path} with HTTP ${res.status}: ${errorText(await res.text())}`);
    } catch (err) {
      throw ac.signal.aborted ? (ac.signal.reason as Error) : err;
    } finally {
      timer.cancel();
      this.#inflight.delete(ac);
    }
  }
}

function textOf(env: Envelope): string {
  const text = env.payload.text;
  if (typeof text !== "string") throw new TypeError(`${env.event_name} has no text`);
  return text;
}

function sayRequest(env: Envelope): SayRequest {
  const { voice, lang } = env.payload;
  return { text: textOf(env), ...(typeof voice === "string" ? { voice } : {}), ...(typeof lang === "string" ? { lang } : {}) };
}

/** Upstream's origin object, plus who asks when the payload says. */
function remoteOrigin(env: Envelope, nodeId: string): Record<string, string> {
  const name = env.payload.origin;
  return { source: env.source, from: nodeId, ...(typeof name === "string" ? { name } : {}) };
}

function isHttpUrl(text: string): boolean {
  if (text === "") return false;
  try {
    const { protocol } = new URL(text);
    return protocol === "http:" || protocol === "https:";
  } catch {
    return false;
  }
}

/** Our {error: {code, message}}, upstream's {detail}, or the text itself, cut short. */
function errorText(text: string): string {
  let said: unknown = text;
  try {
    const body = JSON.parse(text) as { error?: { code?: unknown; message?: unknown }; detail?: unknown };
    said = body.error !== undefined ? `${String(body.error.code)} ${String(body.error.message)}` : (body.detail ?? text);
  } catch {
    // not JSON: the text as it is
  }
  const s = typeof said === "string" ? said : JSON.stringify(said);
  return s.length > MAX_ERROR_TEXT ? `${s.slice(0, MAX_ERROR_TEXT)}…` : s;
}
