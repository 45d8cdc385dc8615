/**
 * The HTTP client of commands that act on a running agent: where the API is (--api,
 * ADAOS_EDGE_API, default http://127.0.0.1:8777), the token (--token, ADAOS_EDGE_TOKEN, or the
 * agent's <data-dir>/api.token), errors rebuilt from {error: {code, message, issues}}, and a
 * Server-Sent Events reader for streams.
 */
import { readFileSync } from "node:fs";
import { request as httpRequest, type IncomingMessage } from "node:http";
import { request as httpsRequest } from "node:https";
import { join, resolve } from "node:path";
import { TOKEN_FILE } from "../app/token.js";
import { ApiUnreachableError, InternalError, UnauthorizedError, UsageError, fromWire, type AdaosError, type WireError } from "../core/errors.js";
import type { CliIo } from "./command.js";

export const DEFAULT_API_URL = "http://127.0.0.1:8777";
/** The agent's default data dir, relative to the working directory (agent/config/schema.json). */
const DEFAULT_DATA_DIR = "./var";
/** A unary request that gets no answer in this time means the agent is hung or unreachable. */
const REQUEST_TIMEOUT_MS = 10_000;

/** parseArgs options every API command accepts. */
export const API_FLAGS = {
  api: { type: "string" },
  token: { type: "string" },
  "data-dir": { type: "string" },
} as const;

export interface ApiFlagValues {
  readonly api?: string | undefined;
  readonly token?: string | undefined;
  readonly "data-dir"?: string | undefined;
}

/** One message of an event stream: a dispatched event, or a comment line (heartbeats, notes). */
export type SseMessage =
  | { readonly type: "event"; readonly event: string; readonly data: string; readonly id: string }
  | { readonly type: "comment"; readonly text: string };

/** A dead letter as GET /api/dlq lists it. */
export interface DlqItem {
  readonly dlq_id: number;
  readonly reason: string;
  readonly origin: string;
  readonly id: string | null;
  readonly event_name: string | null;
  readonly subject: string | null;
  readonly source: string | null;
  readonly attempts: number;
  readonly last_error: string | null;
  /** ISO time. */
  readonly dead_at: string;
}

export interface DlqPage {
  readonly items: readonly DlqItem[];
  /** Pass as `after` for the next page; null on the last one. */
  readonly next_after: number | null;
}

/** What a replay or purge acts on: exactly one of these. */
export type DlqSelection = { readonly ids: readonly number[] } | { readonly reason: string } | { readonly all: true };

export interface DlqReplayAnswer {
  readonly replayed: number;
  readonly failed: readonly { readonly dlq_id: number; readonly code: string; readonly message: string }[];
  /** All failures; `failed` lists the first ones. */
  readonly failed_total: number;
}

export interface OutboxStatsAnswer {
  readonly depth: number;
  readonly bytes: number;
  readonly in_flight: number;
  readonly oldest_age_s: number;
  readonly added: number;
  readonly sent: number;
  readonly expired: number;
  readonly overflowed: number;
  readonly poisoned: number;
  readonly retried: number;
  readonly dlq: { readonly total: number; readonly by_reason: Readonly<Record<string, number>> };
  readonly relay?: Readonly<Record<string, unknown>>;
}

export class ApiClient {
  constructor(
    readonly base: string,
    private readonly token: string | undefined,
    /** Where a token was looked for, for the hint on 401. */
    private readonly tokenHint: string,
  ) {}

  static fromFlags(flags: ApiFlagValues, io: CliIo): ApiClient {
    const base = baseUrl(flags.api ?? nonEmpty(io.env.ADAOS_EDGE_API) ?? DEFAULT_API_URL);
    const direct = nonEmpty(flags.token) ?? nonEmpty(io.env.ADAOS_EDGE_TOKEN);
    if (direct !== undefined) return new ApiClient(base, direct, "");
    const file = join(resolve(io.cwd, flags["data-dir"] ?? nonEmpty(io.env.ADAOS_EDGE_DATA_DIR) ?? DEFAULT_DATA_DIR), TOKEN_FILE);
    return new ApiClient(base, readToken(file), `no token was given (--token, ADAOS_EDGE_TOKEN) or readable in ${file}`);
  }

  /** A JSON request; resolves with the parsed 2xx body, rejects with the rebuilt AdaosError. */
  async json(method: string, path: string, body?: unknown): Promise<unknown> {
    const res = (await this.#send(method, path, "application/json", body === undefined ? undefined : JSON.stringify(body))) as IncomingMessage;
    // The whole exchange is bounded, not only the wait for the headers.
    const timer = setTimeout(() => res.destroy(new Error(`no answer within ${REQUEST_TIMEOUT_MS} ms`)), REQUEST_TIMEOUT_MS);
    try {
      const text = await readText(res).catch((err: unknown) => {
        throw this.#unreachable(err);
      });
      const status = res.statusCode ?? 0;
      if (status < 200 || status > 299) throw this.#errorFrom(status, text);
      try {
        return JSON.parse(text);
      } catch (err) {
        throw new InternalError(`${method} ${this.base}${path} answered ${status} with a body that is not JSON`, { cause: err });
      }
    } finally {
      clearTimeout(timer);
    }
  }

  /** GET /api/dlq: one page of dead letters (without their bytes). */
  async dlqList(query: { reason?: string | undefined; after?: number; limit?: number }): Promise<DlqPage> {
    const q = new URLSearchParams();
    if (query.reason !== undefined) q.set("reason", query.reason);
    if (query.after !== undefined) q.set("after", String(query.after));
    if (query.limit !== undefined) q.set("limit", String(query.limit));
    const text = q.toString();
    return (await this.json("GET", `/api/dlq${text === "" ? "" : "?" + text}`)) as DlqPage;
  }

  /** GET /api/dlq/{id}: one dead letter with its envelope (or data_base64 when not JSON). */
  async dlqShow(dlqId: number): Promise<DlqItem & { envelope?: unknown; data_base64?: string }> {
    return (await this.json("GET", `/api/dlq/${dlqId}`)) as DlqItem & { envelope?: unknown; data_base64?: string };
  }

  /** POST /api/dlq/replay: replayed ones leave the DLQ; failed ones stay, with why. */
  async dlqReplay(selection: DlqSelection): Promise<DlqReplayAnswer> {
    return (await this.json("POST", "/api/dlq/replay", selection)) as DlqReplayAnswer;
  }

  /** POST /api/dlq/purge. */
  async dlqPurge(selection: DlqSelection): Promise<{ purged: number }> {
    return (await this.json("POST", "/api/dlq/purge", selection)) as { purged: number };
  }

  /** GET /api/subnet/nodes: the subnet directory's nodes (a member answers from its hub's snapshot). */
  async subnetNodes(): Promise<readonly Record<string, unknown>[]> {
    const body = (await this.json("GET", "/api/subnet/nodes")) as { nodes?: unknown };
    if (!Array.isArray(body.nodes)) throw new InternalError(`${this.base}/api/subnet/nodes answered without a nodes list`);
    return body.nodes as Record<string, unknown>[];
  }

  /** GET /api/outbox/stats. */
  async outboxStats(): Promise<OutboxStatsAnswer> {
    return (await this.json("GET", "/api/outbox/stats")) as OutboxStatsAnswer;
  }

  /**
   * Open an event stream and yield its messages until it ends. Ends quietly when `signal`
   * aborts; a dropped connection rejects with ApiUnreachableError.
   */
  async *events(path: string, signal: AbortSignal): AsyncGenerator<SseMessage> {
    const res = await this.#send("GET", path, "text/event-stream", undefined, signal);
    if (res === undefined) return;
    const onAbort = (): void => {
      res.destroy();
    };
    signal.addEventListener("abort", onAbort, { once: true });
    try {
      const status = res.statusCode ?? 0;
      if (status < 200 || status > 299) throw this.#errorFrom(status, await readText(res).catch(() => ""));
      const parser = new SseParser();
      res.setEncoding("utf8");
      try {
        for await (const text of res as AsyncIterable<string>) yield* parser.push(text);
      } catch (err) {
        if (signal.aborted) return;
        throw new ApiUnreachableError(`the event stream from ${this.base} broke: ${reason(err)}`, { cause: err });
      }
    } finally {
      signal.removeEventListener("abort", onAbort);
      res.destroy();
    }
  }

  /**
   * One request on its own connection (`connection: close`), so a one-shot command leaves no
   * keep-alive socket behind to hold the process open. Not fetch: aborting a streaming fetch
   * leaves a fresh idle connection behind in the bundled undici (nodejs/undici#5845).
   * Resolves with the response, of any status, once its headers arrive; with undefined when
   * `signal` aborts first.
   */
  #send(method: string, path: string, accept: string, body: string | undefined, signal?: AbortSignal): Promise<IncomingMessage | undefined> {
    const url = new URL(this.base + path);
    const send = url.protocol === "https:" ? httpsRequest : httpRequest;
    return new Promise((resolve, reject) => {
      if (signal?.aborted === true) {
        resolve(undefined);
        return;
      }
      const headers: Record<string, string | number> = { ...this.#headers(), accept };
      if (body !== undefined) {
        headers["content-type"] = "application/json";
        headers["content-length"] = Buffer.byteLength(body);
      }
      const req = send(url, { method, headers, agent: false });
      const timer = setTimeout(() => req.destroy(new Error(`no answer within ${REQUEST_TIMEOUT_MS} ms`)), REQUEST_TIMEOUT_MS);
      const done = (): void => {
        clearTimeout(timer);
        signal?.removeEventListener("abort", onAbort);
      };
      const onAbort = (): void => {
        done();
        req.destroy();
        resolve(undefined);
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      // Stays attached: a later socket error also reaches the response, whose reader handles it.
      req.on("error", (err) => {
        done();
        reject(this.#unreachable(err));
      });
      req.on("response", (res) => {
        done();
        resolve(res);
      });
      req.end(body);
    });
  }

  #headers(): Record<string, string> {
    return this.token === undefined ? {} : { "x-adaos-token": this.token };
  }

  #unreachable(err: unknown): ApiUnreachableError {
    return new ApiUnreachableError(
      `cannot reach the agent's API at ${this.base} (${reason(err)}); is the agent running? start it with \`adaos-edge run\`, or point --api / ADAOS_EDGE_API at it`,
      { cause: err },
    );
  }

  #errorFrom(status: number, text: string): AdaosError {
    let wire: WireError | undefined;
    try {
      const body = JSON.parse(text) as { error?: Partial<WireError> | string; code?: unknown };
      if (typeof body.error === "object" && typeof body.error.code === "string" && typeof body.error.message === "string") wire = body.error as WireError;
      // The subnet routes answer upstream-style: {ok: false, error: "<message>", code}.
      else if (typeof body.error === "string" && typeof body.code === "string") wire = { code: body.code, message: body.error };
    } catch {
      // not our error format: reported below with the status and the start of the body
    }
    if (wire === undefined) return new InternalError(`${this.base} answered HTTP ${status}: ${text.slice(0, 200)}`);
    if (wire.code === "E_UNAUTHORIZED" && this.token === undefined) {
      return new UnauthorizedError(`${wire.message}; ${this.tokenHint}`);
    }
    return fromWire(wire);
  }
}

function nonEmpty(v: string | undefined): string | undefined {
  return v === undefined || v.trim().length === 0 ? undefined : v.trim();
}

function baseUrl(text: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new UsageError(`--api must be a URL like http://127.0.0.1:8777, got "${text}"`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") throw new UsageError(`--api must be an http:// or https:// URL, got "${text}"`);
  return url.href.replace(/\/+$/, "");
}

function readToken(file: string): string | undefined {
  try {
    return nonEmpty(readFileSync(file, "utf8"));
  } catch {
    return undefined;
  }
}

async function readText(res: IncomingMessage): Promise<string> {
  res.setEncoding("utf8");
  let text = "";
  for await (const chunk of res as AsyncIterable<string>) text += chunk;
  return text;
}

/** A socket error in words: "connection refused" for the common case, else code and message. */
function reason(err: unknown): string {
  const e = err as (Error & { code?: unknown }) | undefined;
  if (e?.code === "ECONNREFUSED") return "connection refused";
  if (e instanceof Error) return typeof e.code === "string" && !e.message.includes(e.code) ? `${e.code}: ${e.message}` : e.message;
  return String(err);
}

/**
 * The event-stream parser of the WHATWG HTML spec ("Parsing an event stream"): lines end in
 * CRLF, LF or CR (and may be split across chunks), `data` lines accumulate, a blank line
 * dispatches, a line starting with ':' is a comment, one space after the colon is dropped.
 */
export class SseParser {
  #buffer = "";
  #data: string[] = [];
  #event = "";
  #lastId = "";

  /** Feed decoded text; returns the messages it completes. */
  push(text: string): SseMessage[] {
    this.#buffer += text;
    const out: SseMessage[] = [];
    let start = 0;
    for (let i = 0; i < this.#buffer.length; i++) {
      const c = this.#buffer[i];
      if (c !== "\n" && c !== "\r") continue;
      // A CR at the very end may be the first half of a CRLF: wait for the next chunk.
      if (c === "\r" && i === this.#buffer.length - 1) break;
      this.#line(this.#buffer.slice(start, i), out);
      if (c === "\r" && this.#buffer[i + 1] === "\n") i++;
      start = i + 1;
    }
    this.#buffer = this.#buffer.slice(start);
    return out;
  }

  #line(line: string, out: SseMessage[]): void {
    if (line.length === 0) {
      if (this.#data.length > 0) out.push({ type: "event", event: this.#event || "message", data: this.#data.join("\n"), id: this.#lastId });
      this.#data = [];
      this.#event = "";
      return;
    }
    if (line.startsWith(":")) {
      out.push({ type: "comment", text: line.slice(1).replace(/^ /, "") });
      return;
    }
    const colon = line.indexOf(":");
    const field = colon === -1 ? line : line.slice(0, colon);
    const value = colon === -1 ? "" : line.slice(colon + 1).replace(/^ /, "");
    if (field === "data") this.#data.push(value);
    else if (field === "event") this.#event = value;
    else if (field === "id" && !value.includes("\0")) this.#lastId = value;
    // `retry` and unknown fields: nothing to do for a one-shot reader.
  }
}
