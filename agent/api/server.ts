/**
 * The node's HTTP API as a component: routes from one file per group, the token on everything
 * but /health/*, errors as {error: {code, message, issues?}}, and a stop() that does not wait
 * for open event streams or idle keep-alive connections. A route path may have `{param}` segments
 * (`/api/dlq/{dlq_id}`, `/exec/{run_id}/cancel`); exact paths win over them.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import type { Component } from "../core/component.js";
import type { Bus } from "../bus/bus.js";
import type { Clock } from "../core/clock.js";
import { systemClock } from "../core/clock.js";
import { BadRequestError, ConfigInvalidError, InternalError, MethodNotAllowedError, NotFoundError } from "../core/errors.js";
import { listen } from "../core/listen.js";
import type { Logger } from "../core/logger.js";
import type { MetricsRegistry } from "../core/metrics.js";
import type { DeadLetters } from "../outbox/dead-letters.js";
import type { Outbox } from "../outbox/outbox.js";
import type { EventCatalog } from "../registry/catalog.js";
import type { ScenarioApi } from "../scenarios/scenario-port.js";
import { ioRoutes } from "../io/routes.js";
import type { PlanApi } from "../plans/plan-port.js";
import { toolRoutes } from "../skills/routes.js";
import type { ToolsService } from "../skills/tools-proxy.js";
import type { ConsoleSink, SaySink } from "../io/sinks.js";
import { TokenAuth, WWW_AUTHENTICATE } from "./auth.js";
import { sendError, type Route, type RouteHandler } from "./http.js";
import { dlqRoutes } from "./routes/dlq.js";
import { eventRoutes } from "./routes/events.js";
import { healthRoutes, type Readiness } from "./routes/health.js";
import { metricsRoutes, requestCounter } from "./routes/metrics.js";
import { outboxRoutes } from "./routes/outbox.js";
import { planRoutes } from "./routes/plans.js";
import { scenarioRoutes } from "./routes/scenario.js";
import { subnetRoutes, type SubnetApi } from "./routes/subnet.js";

/** Requests still running when stop() is called get this long before their connections are cut. */
const STOP_GRACE_MS = 1000;
/** Default bound on a slow event-stream client's unsent bytes. */
const SSE_MAX_BUFFER_BYTES = 1024 * 1024;
/** Paths that answer without a token (probes). */
const PUBLIC_PREFIX = "/health/";

export interface ApiServerOptions {
  readonly host: string;
  /** 0 picks a free port; `url` tells which. */
  readonly port: number;
  readonly token: string;
  readonly maxBodyBytes: number;
  readonly sseHeartbeatMs: number;
  readonly sseMaxBufferBytes?: number;
  readonly bus: Bus;
  readonly metrics: MetricsRegistry;
  readonly logger: Logger;
  /** Source of envelopes the API creates, e.g. `api@<node_id>`. */
  readonly source: string;
  readonly tenant: string;
  readonly clock?: Clock;
  readonly readiness: () => Readiness;
  /** Store-and-forward: without it /api/outbox/stats and /api/dlq… answer 404 "no outbox". */
  readonly outbox?: Outbox | undefined;
  /** The dead-letter queue behind /api/dlq…; the outbox's own when not given. */
  readonly dlq?: DeadLetters | undefined;
  /** Validates dead letters on replay (the bus's catalog); required when there is a DLQ. */
  readonly catalog?: EventCatalog | undefined;
  /** The relay's status, shown under `relay` in /api/outbox/stats. */
  readonly relayStatus?: (() => object) | undefined;
  /** The subnet directory behind /api/subnet/… and /registry/…; without it those answer 404. */
  readonly subnet?: SubnetApi | undefined;
  /** The scenario runtime behind /api/scenario/… and /api/scenarios; without it those answer 404. */
  readonly scenarios?: ScenarioApi | undefined;
  /** This node's console and TTS behind POST /api/io/console/print and POST /api/say (the IO router's remote end). */
  readonly io?: { readonly console: ConsoleSink; readonly say: SaySink; readonly nodeId: string } | undefined;
  /** POST /api/tools/call: this node's skills, and on a hub the proxy to members'; without it the route is 404. */
  readonly tools?: ToolsService | undefined;
  /** The hub's plan runtime behind POST /resolve and /exec; without it those answer 404. */
  readonly plans?: PlanApi | undefined;
  /** More routes behind the token, from the composition root (intent recognition, push-to-talk). */
  readonly routes?: readonly Route[] | undefined;
  /**
   * Handlers that answer WITHOUT the token under their prefix: what a browser with no token must
   * reach (a TV's kiosk page, the films a video element fetches). Each is read-only or bounded.
   */
  readonly open?: readonly OpenHandler[] | undefined;
}

/** A token-free handler for the paths under `prefix`; handle() returns false for a path it does not serve. */
export interface OpenHandler {
  readonly prefix: string;
  handle(req: IncomingMessage, res: ServerResponse, path: string): boolean;
}

/** Routes by path; `templates` hold the paths with a `{param}` segment. */
interface RouteTable {
  readonly exact: ReadonlyMap<string, ReadonlyMap<string, RouteHandler>>;
  readonly templates: readonly { readonly path: string; readonly segments: readonly string[]; readonly methods: ReadonlyMap<string, RouteHandler> }[];
}

export class ApiServer implements Component {
  readonly name = "api";
  #server: Server | undefined;
  readonly #streams = new Set<() => void>();
  /** Open connections and how many requests each is serving (0: idle, or never sent one). */
  readonly #connections = new Map<Socket, number>();

  constructor(private readonly opts: ApiServerOptions) {}

  /** The base URL clients use (a wildcard listen address is reached through loopback). */
  get url(): string {
    const address = this.#server?.address();
    if (address === null || address === undefined || typeof address === "string") throw new InternalError("the API server is not listening");
    return `http://${urlHost(address)}:${address.port}`;
  }

  /** Open event streams. */
  get streams(): number {
    return this.#streams.size;
  }

  async start(signal: AbortSignal): Promise<void> {
    if (this.#server !== undefined) throw new InternalError("the API server is already started");
    if (this.opts.token.length === 0) throw new ConfigInvalidError("the API token must not be empty");
    if ((this.opts.dlq ?? this.opts.outbox) !== undefined && this.opts.catalog === undefined) {
      throw new InternalError("the API got a dead-letter queue without the event catalog that replay validates with");
    }
    signal.throwIfAborted();
    const routes = this.#routes();
    const count = requestCounter(this.opts.metrics);
    const auth = new TokenAuth(this.opts.token);
    const server = createServer((req, res) => {
      this.#track(req.socket, res);
      this.#handle(req, res, routes, auth, count).catch((err: unknown) => sendError(res, err, this.opts.logger));
    });
    server.on("connection", (socket: Socket) => {
      this.#connections.set(socket, 0);
      socket.once("close", () => this.#connections.delete(socket));
    });
    await listen(server, this.opts.host, this.opts.port, signal, { who: "", portFlag: "--api-port", hostSetting: "--api-host / api.host" });
    server.on("error", (err) => this.opts.logger.error({ err }, "API server error"));
    this.#server = server;
    this.opts.logger.info({ url: this.url }, "API listening");
  }

  async stop(): Promise<void> {
    const server = this.#server;
    if (server === undefined) return;
    this.#server = undefined;
    for (const close of [...this.#streams]) close();
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    // closeIdleConnections() misses connections that never sent a request; this covers both.
    for (const [socket, active] of this.#connections) if (active === 0) socket.destroy();
    let timer: NodeJS.Timeout | undefined;
    const grace = new Promise<"timeout">((resolve) => (timer = setTimeout(resolve, STOP_GRACE_MS, "timeout")));
    const outcome = await Promise.race([closed, grace]);
    clearTimeout(timer);
    if (outcome === "timeout") {
      this.opts.logger.warn("API requests still running at stop; closing their connections");
      server.closeAllConnections();
      await closed;
    }
  }

  #track(socket: Socket, res: ServerResponse): void {
    this.#connections.set(socket, (this.#connections.get(socket) ?? 0) + 1);
    res.once("close", () => {
      const active = this.#connections.get(socket);
      if (active !== undefined) this.#connections.set(socket, active - 1);
    });
  }

  #routes(): RouteTable {
    const o = this.opts;
    const dlq = o.dlq ?? o.outbox?.dlq;
    const clock = o.clock ?? systemClock;
    const all: Route[] = [
      ...healthRoutes({ readiness: o.readiness, logger: o.logger }),
      ...metricsRoutes(o.metrics),
      ...eventRoutes({
        bus: o.bus,
        source: o.source,
        tenant: o.tenant,
        clock,
        maxBodyBytes: o.maxBodyBytes,
        sseHeartbeatMs: o.sseHeartbeatMs,
        sseMaxBufferBytes: o.sseMaxBufferBytes ?? SSE_MAX_BUFFER_BYTES,
        metrics: o.metrics,
        logger: o.logger,
        streams: this.#streams,
      }),
      ...dlqRoutes({
        dlq,
        replay: o.catalog === undefined ? undefined : { bus: o.bus, catalog: o.catalog, clock, outbox: o.outbox },
        maxBodyBytes: o.maxBodyBytes,
      }),
      ...outboxRoutes({ outbox: o.outbox, dlq, relayStatus: o.relayStatus, logger: o.logger }),
      ...subnetRoutes({ subnet: o.subnet, maxBodyBytes: o.maxBodyBytes, logger: o.logger }),
      ...scenarioRoutes({ scenarios: o.scenarios, maxBodyBytes: o.maxBodyBytes, logger: o.logger }),
      ...(o.io === undefined ? [] : ioRoutes({ ...o.io, maxBodyBytes: o.maxBodyBytes, logger: o.logger })),
      ...(o.tools === undefined ? [] : toolRoutes({ tools: o.tools, maxBodyBytes: o.maxBodyBytes, logger: o.logger })),
      ...planRoutes({ plans: o.plans, maxBodyBytes: o.maxBodyBytes }),
      ...(o.routes ?? []),
    ];
    const byPath = new Map<string, Map<string, RouteHandler>>();
    for (const r of all) {
      const methods = byPath.get(r.path) ?? new Map<string, RouteHandler>();
      if (methods.has(r.method)) throw new InternalError(`route ${r.method} ${r.path} defined twice`);
      methods.set(r.method, r.handler);
      byPath.set(r.path, methods);
    }
    const exact = new Map([...byPath].filter(([path]) => !path.includes("{")));
    const templates = [...byPath].filter(([path]) => path.includes("{")).map(([path, methods]) => ({ path, segments: path.split("/"), methods }));
    return { exact, templates };
  }

  async #handle(
    req: IncomingMessage,
    res: ServerResponse,
    routes: RouteTable,
    auth: TokenAuth,
    count: (route: string, status: number) => void,
  ): Promise<void> {
    let url: URL;
    try {
      url = new URL(req.url ?? "/", "http://api.invalid");
    } catch (err) {
      count("unmatched", 400);
      sendError(res, new BadRequestError(`malformed request target ${JSON.stringify(req.url)}`, { cause: err }), this.opts.logger);
      return;
    }
    const open = this.opts.open?.find((h) => url.pathname === h.prefix || url.pathname.startsWith(`${h.prefix}/`));
    if (open?.handle(req, res, url.pathname) === true) {
      res.once("close", () => count(open.prefix, res.statusCode)); // 'close' comes after any synchronous end()
      return;
    }
    const { route, methods } = lookup(routes, url.pathname);
    res.once("close", () => count(route, res.statusCode));
    try {
      if (!url.pathname.startsWith(PUBLIC_PREFIX)) auth.check(req);
    } catch (err) {
      sendError(res, err, this.opts.logger, { headers: { "www-authenticate": WWW_AUTHENTICATE } });
      return;
    }
    if (methods === undefined) {
      sendError(res, new NotFoundError(`no route ${url.pathname}`), this.opts.logger);
      return;
    }
    const handler = methods.get(req.method ?? "");
    if (handler === undefined) {
      const allow = [...methods.keys()].join(", ");
      sendError(res, new MethodNotAllowedError(`${req.method ?? "?"} is not allowed on ${url.pathname}; allowed: ${allow}`), this.opts.logger, {
        headers: { allow },
      });
      return;
    }
    try {
      await handler(req, res, { url });
    } catch (err) {
      sendError(res, err, this.opts.logger);
    }
  }
}

/** The route for a path: exact first, then a template; the metrics label is the route's own path. */
function lookup(routes: RouteTable, pathname: string): { route: string; methods: ReadonlyMap<string, RouteHandler> | undefined } {
  const exact = routes.exact.get(pathname);
  if (exact !== undefined) return { route: pathname, methods: exact };
  const segments = pathname.split("/");
  for (const t of routes.templates) {
    if (t.segments.length !== segments.length) continue;
    const fits = t.segments.every((s, i) => {
      const actual = segments[i] ?? "";
      return s.startsWith("{") && s.endsWith("}") ? actual !== "" : s === actual;
    });
    if (fits) return { route: t.path, methods: t.methods };
  }
  return { route: "unmatched", methods: undefined };
}

function urlHost(address: AddressInfo): string {
  if (address.address === "0.0.0.0") return "127.0.0.1";
  if (address.address === "::") return "[::1]";
  return address.family === "IPv6" ? `[${address.address}]` : address.address;
}

