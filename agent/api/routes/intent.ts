/**
 * Intent recognition over HTTP (seed 001 item 6), the text path for typed commands (browser,
 * Telegram) and for languages without an offline speech model:
 *
 *   POST /api/intent/recognize {text, lang?}
 *     → 200 {intent, slots, confidence, lang, pattern, intent_id, correlation_id}   on a match
 *     → 200 {intent: null, slots: {}, confidence: 0, lang, correlation_id}           on none
 *
 * Rules of this file:
 * - No match is an answer, not an error: 200 with intent null (lang is the language asked for,
 *   ru-RU answered as ru, or null). Nothing is published then.
 * - On a match nlp.intent.detected v1 is published (modality "text", locale = the rules'
 *   language, intent_id = a new UUIDv7 also returned), with the request's correlation id.
 * - The correlation id is the `x-correlation-id` header when given (1–128 visible ASCII
 *   characters), else a new UUIDv7; it comes back in the answer either way.
 * - Bodies are checked at the boundary: text a string of 1..MAX_TEXT_CHARS characters, lang an
 *   optional BCP 47 tag the rules have (ru-RU counts as ru), null counting as absent, unknown
 *   fields refused; a bad body is 400 E_BAD_REQUEST with one issue (JSON pointer) per bad field.
 * - An agent without intent rules answers 404, saying so.
 */
import type { IncomingMessage } from "node:http";
import type { Bus } from "../../bus/bus.js";
import type { Clock } from "../../core/clock.js";
import { createEnvelope } from "../../core/envelope.js";
import { BadRequestError, NotFoundError, type Issue } from "../../core/errors.js";
import { uuidv7 } from "../../core/ids.js";
import type { Logger } from "../../core/logger.js";
import type { Recognizer } from "../../intent/recognizer.js";
import { readJsonObject, sendJson, type Route } from "../http.js";

export const RECOGNIZE_PATH = "/api/intent/recognize";
/** Longest text recognised: a command is a sentence; anything longer is not one. */
export const MAX_TEXT_CHARS = 1000;
export const CORRELATION_HEADER = "x-correlation-id";
/** The envelope schema bounds correlation_id to 128 characters. */
const CORRELATION_ID = /^[\x21-\x7e]{1,128}$/;
const LANG = /^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$/;

export interface IntentRoutesDeps {
  /** Absent: the agent has no intent rules (the route answers 404). */
  readonly recognizer: Recognizer | undefined;
  readonly bus: Bus;
  /** Source of the envelopes, e.g. `api@<node_id>`. */
  readonly source: string;
  readonly tenant: string;
  readonly clock: Clock;
  readonly maxBodyBytes: number;
  readonly logger: Logger;
}

export interface RecognizeBody {
  readonly text: string;
  readonly lang?: string;
}

/** {text, lang?} checked; BadRequestError with one issue per bad field. */
export function parseRecognizeBody(body: Record<string, unknown>): RecognizeBody {
  const issues: Issue[] = Object.keys(body)
    .filter((k) => k !== "text" && k !== "lang")
    .map((k) => ({ pointer: `/${k.replaceAll("~", "~0").replaceAll("/", "~1")}`, message: "is not allowed (expected text, lang)" }));
  const { text, lang } = body;
  if (typeof text !== "string") issues.push({ pointer: "/text", message: text === undefined ? "is required" : "must be string" });
  else if (text.length === 0) issues.push({ pointer: "/text", message: "must not be empty" });
  else if ([...text].length > MAX_TEXT_CHARS) issues.push({ pointer: "/text", message: `must be at most ${MAX_TEXT_CHARS} characters (a command, not a document)` });
  if (lang !== undefined && lang !== null && (typeof lang !== "string" || !LANG.test(lang))) issues.push({ pointer: "/lang", message: "must be a language tag such as en or ru-RU" });
  if (issues.length > 0) throw new BadRequestError(`intent recognize request: ${issues.map((i) => `${i.pointer} ${i.message}`).join("; ")}`, { issues });
  return { text: text as string, ...(typeof lang === "string" ? { lang } : {}) };
}

/** ru-RU → ru, as the recogniser reads a tag. */
function primary(tag: string): string {
  return tag.split("-")[0] ?? tag;
}

/** The request's correlation id (header) or a new one. */
function correlationId(req: IncomingMessage, clock: Clock): string {
  const given = req.headers[CORRELATION_HEADER];
  if (given === undefined) return uuidv7(clock.now());
  if (typeof given !== "string" || !CORRELATION_ID.test(given)) {
    throw new BadRequestError(`the ${CORRELATION_HEADER} header must be 1–128 visible ASCII characters`, { issues: [{ pointer: "/", message: `bad ${CORRELATION_HEADER} header` }] });
  }
  return given;
}

export function intentRoutes(deps: IntentRoutesDeps): Route[] {
  const { bus, clock, logger } = deps;
  return [
    {
      method: "POST",
      path: RECOGNIZE_PATH,
      handler: async (req, res) => {
        const recognizer = deps.recognizer;
        if (recognizer === undefined) throw new NotFoundError("this agent has no intent rules (set the intent rules file in its config)");
        const correlation_id = correlationId(req, clock);
        const body = parseRecognizeBody(await readJsonObject(req, deps.maxBodyBytes));
        const found = recognizer.recognize(body.text, body.lang);
        if (found === null) {
          logger.debug({ correlation_id, lang: body.lang }, "no intent matched");
          sendJson(res, 200, { intent: null, slots: {}, confidence: 0, lang: body.lang === undefined ? null : primary(body.lang), correlation_id });
          return;
        }
        const intent_id = uuidv7(clock.now());
        const payload = { intent_id, intent: found.intent, slots: found.slots, confidence: found.confidence, locale: found.lang, text: body.text, modality: "text" };
        bus.publish(createEnvelope({ event_name: "nlp.intent.detected", version: 1, payload, source: deps.source, tenant: deps.tenant, correlation_id }, clock));
        logger.debug({ correlation_id, intent: found.intent, lang: found.lang, confidence: found.confidence }, "intent recognised");
        sendJson(res, 200, { ...found, intent_id, correlation_id });
      },
    },
  ];
}
