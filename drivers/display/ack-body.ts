/**
 * The kiosk page's ack (POST /display/ack), read and checked: a JSON object of at most
 * ACK_MAX_BYTES with exactly {play_id, state, detail?}. Anything else is an AckRejected with the
 * HTTP status to answer (400 malformed, 413 too large). The body must be sent as
 * application/json: a cross-site page cannot send that without a CORS preflight, which this
 * route never grants, so only same-origin pages can ack.
 */
import type { IncomingMessage } from "node:http";

export const ACK_MAX_BYTES = 1024;
const ACK_STATES = new Set(["showing", "playing", "error"]);
const ACK_KEYS = new Set(["play_id", "state", "detail"]);
const MAX_DETAIL = 500;
const MAX_PLAY_ID = 128;

export type AckState = "showing" | "playing" | "error";

export interface Ack {
  readonly play_id: string;
  readonly state: AckState;
  readonly detail?: string;
}

export class AckRejected extends Error {
  constructor(readonly status: 400 | 413, message: string) {
    super(message);
    this.name = "AckRejected";
  }
}

export async function readAck(req: IncomingMessage): Promise<Ack> {
  const type = (req.headers["content-type"] ?? "").split(";")[0]?.trim().toLowerCase();
  if (type !== "application/json") throw new AckRejected(400, "an ack is sent as application/json");
  const text = await readBounded(req);
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new AckRejected(400, "the ack is not valid JSON");
  }
  return checkAck(body);
}

function checkAck(body: unknown): Ack {
  if (typeof body !== "object" || body === null || Array.isArray(body)) throw new AckRejected(400, "an ack is a JSON object");
  const fields = body as Record<string, unknown>;
  const unknown = Object.keys(fields).filter((k) => !ACK_KEYS.has(k));
  if (unknown.length > 0) throw new AckRejected(400, `unknown ack field(s): ${unknown.join(", ")}`);
  const { play_id, state, detail } = fields;
  if (typeof play_id !== "string" || play_id.length === 0 || play_id.length > MAX_PLAY_ID) {
    throw new AckRejected(400, `play_id must be a non-empty string of at most ${MAX_PLAY_ID} characters`);
  }
  if (typeof state !== "string" || !ACK_STATES.has(state)) throw new AckRejected(400, "state must be showing, playing or error");
  if (detail !== undefined && (typeof detail !== "string" || detail.length > MAX_DETAIL)) {
    throw new AckRejected(400, `detail must be a string of at most ${MAX_DETAIL} characters`);
  }
  return { play_id, state: state as AckState, ...(detail === undefined ? {} : { detail }) };
}

function readBounded(req: IncomingMessage): Promise<string> {
  const declared = Number(req.headers["content-length"]);
  if (Number.isFinite(declared) && declared > ACK_MAX_BYTES) {
    return Promise.reject(new AckRejected(413, `an ack is at most ${ACK_MAX_BYTES} bytes`));
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > ACK_MAX_BYTES) {
        req.removeAllListeners("data");
        req.pause();
        reject(new AckRejected(413, `an ack is at most ${ACK_MAX_BYTES} bytes`));
        return;
      }
      chunks.push(chunk);
    });
    req.once("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.once("error", (err) => reject(new AckRejected(400, `reading the ack failed: ${err.message}`)));
  });
}
