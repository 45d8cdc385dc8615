/**
 * HTTP plumbing shared by the route groups: routes, JSON bodies with a byte limit, JSON replies,
 * and errors on the wire as {error: {code, message, issues?}} with the status from abi/errors.json.
 */
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from "node:http";
import errorCatalog from "../../abi/errors.json" with { type: "json" };
import { AdaosError, BadRequestError, PayloadTooLargeError, asAdaosError } from "../core/errors.js";
import type { Logger } from "../core/logger.js";

export type Method = "GET" | "POST" | "PUT" | "DELETE";

export interface RequestContext {
  /** The request URL, parsed (path and query). */
  readonly url: URL;
}

export type RouteHandler = (req: IncomingMessage, res: ServerResponse, ctx: RequestContext) => void | Promise<void>;

/** One method on one exact path; a route group is a list of these. */
export interface Route {
  readonly method: Method;
  readonly path: string;
  readonly handler: RouteHandler;
}

const STATUS_BY_CODE = new Map<string, number>(errorCatalog.errors.map((e) => [e.code, e.http_status]));

/** The HTTP status of an error code (abi/errors.json); 500 for codes the catalog does not know. */
export function statusOf(code: string): number {
  return STATUS_BY_CODE.get(code) ?? 500;
}

/**
 * The body parsed as JSON. Refuses more than maxBytes (PayloadTooLargeError, checked against
 * content-length first and then while reading) and malformed JSON (BadRequestError).
 */
export function readJson(req: IncomingMessage, maxBytes: number): Promise<unknown> {
  const declared = Number(req.headers["content-length"]);
  if (Number.isFinite(declared) && declared > maxBytes) {
    return Promise.reject(tooLarge(maxBytes, `${declared} bytes declared`));
  }
  return new Promise<unknown>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const cleanup = (): void => {
      req.off("data", onData);
      req.off("end", onEnd);
      req.off("error", onError);
      req.off("close", onClose);
    };
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > maxBytes) {
        cleanup();
        // The reply goes out with `connection: close`, which drops the rest of the upload.
        reject(tooLarge(maxBytes, "more sent"));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = (): void => {
      cleanup();
      const text = Buffer.concat(chunks, size).toString("utf8");
      if (text.trim().length === 0) {
        reject(new BadRequestError("the request body is empty; send a JSON object"));
        return;
      }
      try {
        resolve(JSON.parse(text));
      } catch (err) {
        reject(new BadRequestError(`the request body is not valid JSON: ${(err as Error).message}`, { cause: err }));
      }
    };
    const onError = (err: Error): void => {
      cleanup();
      reject(new BadRequestError(`reading the request body failed: ${err.message}`, { cause: err }));
    };
    const onClose = (): void => {
      if (!req.complete) onError(new Error("the client went away before the body was complete"));
    };
    req.on("data", onData);
    req.on("end", onEnd);
    req.on("error", onError);
    req.on("close", onClose);
  });
}

function tooLarge(maxBytes: number, what: string): PayloadTooLargeError {
  return new PayloadTooLargeError(`the request body is larger than ${maxBytes} bytes (${what}); see api.max_body_bytes`);
}

/** A JSON object body, or BadRequestError naming what came instead. */
export async function readJsonObject(req: IncomingMessage, maxBytes: number): Promise<Record<string, unknown>> {
  const body = await readJson(req, maxBytes);
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    throw new BadRequestError(`the request body must be a JSON object, got ${Array.isArray(body) ? "an array" : typeof body}`, {
      issues: [{ pointer: "/", message: "must be object" }],
    });
  }
  return body as Record<string, unknown>;
}

export function sendJson(res: ServerResponse, status: number, value: unknown, headers: OutgoingHttpHeaders = {}): void {
  const body = JSON.stringify(value);
  res.writeHead(status, {
    "content-type": "application/json; charset=utf-8",
    "content-length": Buffer.byteLength(body),
    "cache-control": "no-store",
    ...headers,
  });
  res.end(body);
}

export interface SendErrorOptions {
  /** Overrides the catalog status. */
  readonly status?: number;
  readonly headers?: OutgoingHttpHeaders;
}

/**
 * Answer with the error as {error: {code, message, issues?}}. Unexpected (non-Adaos) errors and
 * 5xx are logged here, where they are handled. When the response has already started (an event
 * stream), the connection is dropped instead.
 */
export function sendError(res: ServerResponse, err: unknown, logger: Logger, options: SendErrorOptions = {}): void {
  const e = asAdaosError(err);
  const status = options.status ?? statusOf(e.code);
  if (status >= 500 || !(err instanceof AdaosError)) logger.error({ err, code: e.code }, "API request failed");
  if (res.headersSent || res.writableEnded || res.destroyed) {
    res.destroy();
    return;
  }
  // A refused upload is not read to the end: close the connection instead of draining it.
  const close = e instanceof PayloadTooLargeError ? { connection: "close" } : {};
  sendJson(res, status, { error: e.toWire() }, { ...close, ...options.headers });
}
