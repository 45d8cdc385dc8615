/**
 * The subnet directory over HTTP, in the upstream AdaOS node API's shape so plain HTTP devices
 * and upstream tools take part:
 *
 *   POST /api/subnet/register   {node_id, subnet_id?, hostname?, roles?, base_url?, node_state?, capacity?} → {ok, lease_seconds}
 *   POST /api/subnet/heartbeat  {node_id, telemetry?, capabilities?}  → {ok}; 404 {ok: false, error: "node not registered"}
 *   POST /api/subnet/deregister {node_id}                            → {ok, removed}
 *   GET  /api/subnet/nodes                                           → {ok, nodes: [...]}
 *   GET  /api/subnet/nodes/{node_id}                                 → {ok, node}
 *   POST /registry/announce     net.subnet.node.announced payload    → {ok, revision, lease_seconds}
 *   POST /registry/heartbeat    telemetry.heartbeat payload          → {ok}; 404 as above
 *
 * Errors here are upstream-style, `{ok: false, error: "<message>", code, issues?}` with the status
 * of the code. A member answers reads from its hub's latest snapshot and refuses writes with 409
 * naming its hub (and the hub's base_url when the snapshot has it).
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { asAdaosError, ConflictError, NotFoundError } from "../../core/errors.js";
import type { Logger } from "../../core/logger.js";
import type { SubnetReader, SubnetWriter } from "../../directory/subnet-port.js";
import { readJson, sendJson, statusOf, type RequestContext, type Route } from "../http.js";
import { parseAnnounce, parseDeregister, parseHeartbeat, parseRegister, parseRegistryHeartbeat, type HeartbeatBody } from "./subnet-bodies.js";

export const SUBNET_NODE_PATH = "/api/subnet/nodes/{node_id}";

export interface SubnetApi {
  readonly reader: SubnetReader;
  /** Only on a hub. */
  readonly writer?: SubnetWriter | undefined;
}

export interface SubnetRoutesDeps {
  readonly subnet: SubnetApi | undefined;
  readonly maxBodyBytes: number;
  readonly logger: Logger;
}

type Handler = (req: IncomingMessage, ctx: RequestContext) => Promise<{ status?: number; body: object }> | { status?: number; body: object };

export function subnetRoutes(deps: SubnetRoutesDeps): Route[] {
  const route = (method: "GET" | "POST", path: string, handler: Handler): Route => ({
    method,
    path,
    handler: async (req, res, ctx) => {
      try {
        const { status = 200, body } = await handler(req, ctx);
        sendJson(res, status, body);
      } catch (err) {
        sendUpstreamError(res, err, deps.logger);
      }
    },
  });
  const reader = (): SubnetReader => {
    if (deps.subnet === undefined) throw new NotFoundError("this agent has no subnet directory");
    return deps.subnet.reader;
  };
  const writer = (): SubnetWriter => {
    const s = deps.subnet;
    if (s === undefined) throw new NotFoundError("this agent has no subnet directory");
    if (s.writer === undefined) {
      // The hub's snapshot says where its API is when the hub sets directory.base_url.
      const hub = s.reader.list().find((n) => n.kind === "hub");
      const where = hub === undefined ? "its hub" : `the hub ${hub.node_id}${typeof hub.base_url === "string" ? ` at ${hub.base_url}` : ""}`;
      throw new ConflictError(`this node is a member; register with ${where} instead`);
    }
    return s.writer;
  };
  const body = (req: IncomingMessage): Promise<unknown> => readJson(req, deps.maxBodyBytes);
  const beat = (b: HeartbeatBody): { status?: number; body: object } => {
    const r = writer().heartbeat(b.node_id, b.telemetry ?? null, b.capabilities);
    return r.ok ? { body: { ok: true } } : { status: 404, body: { ok: false, error: r.reason, code: "E_NOT_FOUND" } };
  };

  return [
    route("POST", "/api/subnet/register", async (req) => {
      const reg = parseRegister(await body(req));
      return { body: { ok: true, ...writer().register(reg) } };
    }),
    route("POST", "/api/subnet/heartbeat", async (req) => beat(parseHeartbeat(await body(req)))),
    route("POST", "/api/subnet/deregister", async (req) => {
      const { node_id } = parseDeregister(await body(req));
      return { body: { ok: true, removed: writer().deregister(node_id) } };
    }),
    route("GET", "/api/subnet/nodes", () => ({ body: { ok: true, nodes: reader().list() } })),
    route("GET", SUBNET_NODE_PATH, (_req, ctx) => {
      const id = decodeURIComponent(ctx.url.pathname.slice(ctx.url.pathname.lastIndexOf("/") + 1));
      const node = reader().get(id);
      if (node === undefined) throw new NotFoundError(`node ${JSON.stringify(id)} is not in the directory`);
      return { body: { ok: true, node } };
    }),
    route("POST", "/registry/announce", async (req) => {
      const a = parseAnnounce(await body(req));
      const w = writer();
      w.announce(a.manifest, { ...(a.hostname === undefined ? {} : { hostname: a.hostname }), ...(a.base_url === undefined ? {} : { baseUrl: a.base_url }) });
      return { body: { ok: true, revision: a.manifest.revision } };
    }),
    route("POST", "/registry/heartbeat", async (req) => beat(parseRegistryHeartbeat(await body(req)))),
  ];
}

function sendUpstreamError(res: ServerResponse, err: unknown, logger: Logger): void {
  const e = asAdaosError(err);
  const status = statusOf(e.code);
  if (status >= 500) logger.error({ err, code: e.code }, "subnet API request failed");
  if (res.headersSent || res.destroyed) {
    res.destroy();
    return;
  }
  const close = status === 413 ? { connection: "close" } : {};
  sendJson(res, status, { ok: false, error: e.message, code: e.code, ...(e.issues.length === 0 ? {} : { issues: e.issues }) }, close);
}
