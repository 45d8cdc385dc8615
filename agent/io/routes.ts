/**
 * The two endpoints every node serves for the IO router of another node (upstream-compatible):
 *
 *   POST /api/io/console/print {text, origin?} → 200 {ok: true}             printed through the ConsoleSink
 *   POST /api/say {text, voice?, lang?}        → 200 {ok: true, duration_ms} once the SaySink resolved
 *
 * Rules of this file:
 * - Bodies are checked at the boundary: text 1..MAX_TEXT_CHARS characters, every other field
 *   optional, null counting as absent (upstream sends `voice: null`), unknown fields refused.
 *   A bad body is 400 E_BAD_REQUEST with one issue (JSON pointer) per bad field.
 * - origin is a string or, as upstream sends it, an object {source?, from?, name?}: the console
 *   shows who sent it and from which node.
 * - A say sink that fails is 502 with the sink's error code (E_INTERNAL for an error without one:
 *   no catalog code means "the TTS engine failed").
 * - The endpoints deliver straight to the local sinks and publish nothing on the bus, so the
 *   router never sees (and never routes again) what another node already routed here.
 * - The token is the ApiServer's job, as for every route.
 */
import { BadRequestError, type Issue } from "../core/errors.js";
import type { Logger } from "../core/logger.js";
import { readJsonObject, sendError, sendJson, type Route } from "../api/http.js";
import type { ConsoleSink, SayRequest, SaySink } from "./sinks.js";

export const CONSOLE_PRINT_PATH = "/api/io/console/print";
export const SAY_PATH = "/api/say";
/** Longest text either endpoint takes (ui.notify and ui.say allow 2,000; upstream senders may send more). */
export const MAX_TEXT_CHARS = 10_000;
/** Longest origin part shown on the console. */
const MAX_ORIGIN_CHARS = 128;
const MAX_VOICE_CHARS = 64;
const LANG = /^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$/;

export interface IoRoutesDeps {
  readonly console: ConsoleSink;
  readonly say: SaySink;
  readonly maxBodyBytes: number;
  readonly nodeId: string;
  readonly logger: Logger;
}

export function ioRoutes(deps: IoRoutesDeps): Route[] {
  const { logger, maxBodyBytes } = deps;
  return [
    {
      method: "POST",
      path: CONSOLE_PRINT_PATH,
      handler: async (req, res) => {
        const { text, origin } = parsePrintBody(await readJsonObject(req, maxBodyBytes));
        deps.console.print(text, ...(origin === undefined ? [] : [origin]));
        logger.debug({ node_id: deps.nodeId, origin }, "console print over HTTP");
        sendJson(res, 200, { ok: true });
      },
    },
    {
      method: "POST",
      path: SAY_PATH,
      handler: async (req, res) => {
        const body = parseSayBody(await readJsonObject(req, maxBodyBytes));
        logger.debug({ node_id: deps.nodeId, voice: body.voice, lang: body.lang }, "say over HTTP");
        const started = performance.now();
        try {
          await deps.say.say(body);
        } catch (err) {
          sendError(res, err, logger, { status: 502 });
          return;
        }
        sendJson(res, 200, { ok: true, duration_ms: Math.round(performance.now() - started) });
      },
    },
  ];
}

/** {text, origin?} of POST /api/io/console/print; origin comes back as the text to show. */
export function parsePrintBody(body: Record<string, unknown>): { readonly text: string; readonly origin?: string } {
  const issues = unknownFields(body, ["text", "origin"]);
  const text = checkText(body.text, issues);
  const origin = originText(body.origin, issues);
  throwIf("console print request", issues);
  return { text, ...(origin === undefined ? {} : { origin }) };
}

export function parseSayBody(body: Record<string, unknown>): SayRequest {
  const issues = unknownFields(body, ["text", "voice", "lang"]);
  const text = checkText(body.text, issues);
  const voice = optionalString(body.voice, "/voice", issues, (v) => (v.length >= 1 && v.length <= MAX_VOICE_CHARS ? undefined : `must be 1 to ${MAX_VOICE_CHARS} characters`));
  const lang = optionalString(body.lang, "/lang", issues, (v) => (LANG.test(v) ? undefined : "must be a BCP 47 language tag such as en or ru-RU"));
  throwIf("say request", issues);
  return { text, ...(voice === undefined ? {} : { voice }), ...(lang === undefined ? {} : { lang }) };
}

function unknownFields(body: Record<string, unknown>, known: readonly string[]): Issue[] {
  return Object.keys(body)
    .filter((k) => !known.includes(k))
    .map((k) => ({ pointer: `/${k.replace(/~/g, "~0").replace(/\//g, "~1")}`, message: `is not allowed (known: ${known.join(", ")})` }));
}

function checkText(v: unknown, issues: Issue[]): string {
  if (v === undefined || v === null) issues.push({ pointer: "/text", message: "is required" });
  else if (typeof v !== "string" || v.length < 1 || v.length > MAX_TEXT_CHARS) issues.push({ pointer: "/text", message: `must be a string of 1 to ${MAX_TEXT_CHARS} characters` });
  return typeof v === "string" ? v : "";
}

function optionalString(v: unknown, pointer: string, issues: Issue[], problem: (v: string) => string | undefined): string | undefined {
  if (v === undefined || v === null) return undefined;
  const why = typeof v === "string" ? problem(v) : "must be a string";
  if (why !== undefined) issues.push({ pointer, message: why });
  return why === undefined ? (v as string) : undefined;
}

/** A string as it is; upstream's {source, from, name?} as "name on from" (or what of it is there). */
function originText(v: unknown, issues: Issue[]): string | undefined {
  if (v === undefined || v === null) return undefined;
  const cut = (s: string): string => s.slice(0, MAX_ORIGIN_CHARS);
  if (typeof v === "string") return v === "" ? undefined : cut(v);
  if (typeof v !== "object" || Array.isArray(v)) {
    issues.push({ pointer: "/origin", message: "must be a string or an object {source?, from?, name?}" });
    return undefined;
  }
  const o = v as Record<string, unknown>;
  const str = (x: unknown): string | undefined => (typeof x === "string" && x !== "" ? cut(x) : undefined);
  const who = str(o.name) ?? str(o.source);
  const node = str(o.from);
  if (who !== undefined && node !== undefined) return `${who} on ${node}`;
  return who ?? node;
}

function throwIf(what: string, issues: readonly Issue[]): void {
  if (issues.length > 0) throw new BadRequestError(`invalid ${what}: ${issues.map((i) => `${i.pointer} ${i.message}`).join("; ")}`, { issues });
}
