/**
 * POST /api/tools/call {tool, arguments?, timeout?, idempotency_key?, request_id?} (upstream AdaOS
 * shape). The body is checked against abi/skill.schema.json#/$defs/call (unknown fields and wrong
 * types are 400 with a JSON pointer each); the call runs where tools-proxy.ts says.
 *
 *   200 {ok: true, result, trace_id}
 *   4xx/5xx {ok: false, error: {code, message, issues?}, trace_id}, status from the code (statusOf)
 *   a proxied call: the member's answer, status and body unchanged
 *
 * trace_id is request_id when given, else a new UUIDv7, and is passed on as the call's request_id;
 * absent arguments are passed on as {}.
 * Unlike other route groups, errors are answered here (they carry ok and trace_id); 5xx are logged.
 */
import type { ServerResponse } from "node:http";
import { Ajv2020, type ValidateFunction } from "ajv/dist/2020.js";
import schema from "../../abi/skill.schema.json" with { type: "json" };
import { readJsonObject, sendJson, statusOf, type Route } from "../api/http.js";
import { AdaosError, BadRequestError, InternalError, PayloadTooLargeError, asAdaosError } from "../core/errors.js";
import { uuidv7 } from "../core/ids.js";
import type { Logger } from "../core/logger.js";
import { issuesFromAjv } from "../registry/issues.js";
import type { ToolCallRequest } from "./skill-host.js";
import { PROXIED_HEADER, TOOLS_CALL_PATH, type ToolsService } from "./tools-proxy.js";

export interface ToolRoutesDeps {
  readonly tools: ToolsService;
  readonly maxBodyBytes: number;
  readonly logger: Logger;
}

let callValidator: ValidateFunction | undefined;

/** The body as a ToolCallRequest, or BadRequestError listing every problem. */
export function parseCallBody(body: unknown): ToolCallRequest {
  if (callValidator === undefined) {
    const ajv = new Ajv2020({ allErrors: true, strict: true, schemas: [schema] });
    callValidator = ajv.getSchema(`${schema.$id}#/$defs/call`);
    if (callValidator === undefined) throw new InternalError("abi/skill.schema.json has no $defs/call");
  }
  if (callValidator(body)) return body as ToolCallRequest;
  const issues = issuesFromAjv(callValidator.errors);
  throw new BadRequestError(`invalid tool call: ${issues.map((i) => `${i.pointer} ${i.message}`).join("; ")}`, { issues });
}

export function toolRoutes(deps: ToolRoutesDeps): Route[] {
  const { tools, maxBodyBytes, logger } = deps;
  return [
    {
      method: "POST",
      path: TOOLS_CALL_PATH,
      handler: async (req, res) => {
        let traceId: string | undefined;
        try {
          const body = parseCallBody(await readJsonObject(req, maxBodyBytes));
          traceId = body.request_id ?? uuidv7();
          const answer = await tools.call({ ...body, arguments: body.arguments ?? {}, request_id: traceId }, { proxied: req.headers[PROXIED_HEADER] !== undefined });
          if (answer.kind === "local") sendJson(res, 200, answer.answer);
          else sendText(res, answer.status, answer.body);
        } catch (err) {
          sendFailure(res, err, traceId ?? uuidv7(), logger);
        }
      },
    },
  ];
}

function sendText(res: ServerResponse, status: number, body: string): void {
  res.writeHead(status, { "content-type": "application/json; charset=utf-8", "content-length": Buffer.byteLength(body), "cache-control": "no-store" });
  res.end(body);
}

function sendFailure(res: ServerResponse, err: unknown, traceId: string, logger: Logger): void {
  const e = asAdaosError(err);
  const status = statusOf(e.code);
  if (status >= 500 || !(err instanceof AdaosError)) logger.warn({ err, code: e.code, trace_id: traceId }, "tool call failed");
  if (res.headersSent || res.writableEnded) {
    res.destroy();
    return;
  }
  // A refused upload is not read to the end: close the connection instead of draining it.
  const close = e instanceof PayloadTooLargeError ? { connection: "close" } : {};
  sendJson(res, status, { ok: false, error: e.toWire(), trace_id: traceId }, close);
}
