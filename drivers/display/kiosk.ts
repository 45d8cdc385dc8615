/**
 * The display of a TV with a browser: the browser keeps the kiosk page (kiosk-page.ts) open, and
 * this driver pushes films to it. It opens no port of its own: the agent mounts handle() on its
 * API server, token-free, for three routes — GET /display (the page), GET /display/events
 * (Server-Sent Events: `event: play` items, a keep-alive comment every KEEP_ALIVE_MS, the current
 * item again on every connect) and POST /display/ack (the page's acks, see ack-body.ts).
 * Rules: play() pushes to every open page and resolves on the first "playing" ack for its
 * play_id — the film really plays, not only its title is up ("showing" is logged and kept as a
 * figure, never taken as the ack, since an unplayable URL still shows its title). It rejects
 * at once when no page is open, after ackTimeoutMs without a "playing" ack, on an "error" ack,
 * on abort, when a newer play() replaces it, and when the driver stops. The routes stay
 * read-only apart from the ack, and nothing from a request reaches another page.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { DriverCapability, DriverContext, DriverHealth } from "../../abi/driver.js";
import { HealthState } from "../shared/health.js";
import { readAck, AckRejected, type Ack } from "./ack-body.js";
import { DISPLAY_CAPABILITY, admitPlay, onAbort, type DisplayDriver, type PlayAck, type PlayRequest } from "./display.js";
import { KIOSK_CSP, KIOSK_PAGE } from "./kiosk-page.js";

export const KIOSK_INPUTS: readonly string[] = ["webm", "mp4"];
export const DEFAULT_ACK_TIMEOUT_MS = 8000;
/** Below the idle timeouts of common proxies and of Node's own server (keepAliveTimeout does not apply to an open response, but NATs and Wi-Fi power saving drop idle TCP). */
export const KEEP_ALIVE_MS = 15_000;
/** How soon a browser's EventSource reconnects after a dropped stream. */
const SSE_RETRY_MS = 2000;

export interface KioskOptions {
  readonly inputs?: readonly string[];
  readonly ackTimeoutMs?: number;
  /** The page's full URL as the TV opens it (the node's base_url + /display), for error messages. */
  readonly pageUrl?: string;
  /** Tests shorten it; default KEEP_ALIVE_MS. */
  readonly keepAliveMs?: number;
}

interface Page {
  readonly res: ServerResponse;
  readonly remote: string;
}

interface Pending {
  readonly item: PlayRequest;
  readonly started: number;
  resolve(ack: PlayAck): void;
  reject(err: Error): void;
}

export class KioskDisplay implements DisplayDriver {
  readonly name = "display";
  readonly capabilities: readonly DriverCapability[];
  readonly #ackTimeoutMs: number;
  readonly #pageUrl: string;
  readonly #keepAliveMs: number;
  readonly #now: () => number;
  readonly #health: HealthState;
  readonly #pages = new Set<Page>();
  #current: PlayRequest | undefined;
  #pending: Pending | undefined;
  #keepAlive: NodeJS.Timeout | undefined;
  /** ms from play() to the first "showing" ack of the current item; a figure for logs and tests. */
  #showingMs: number | undefined;

  constructor(options: KioskOptions, private readonly ctx: DriverContext) {
    this.capabilities = [{ id: DISPLAY_CAPABILITY, inputs: [...(options.inputs ?? KIOSK_INPUTS)] }];
    this.#ackTimeoutMs = options.ackTimeoutMs ?? DEFAULT_ACK_TIMEOUT_MS;
    this.#pageUrl = options.pageUrl ?? "/display";
    this.#keepAliveMs = options.keepAliveMs ?? KEEP_ALIVE_MS;
    this.#now = ctx.now ?? Date.now;
    this.#health = new HealthState(this.#now);
  }

  /** Open kiosk pages (event streams). */
  ready(): boolean {
    return this.#health.get().state === "up" && this.#pages.size > 0;
  }

  get pages(): number {
    return this.#pages.size;
  }

  /** ms from the last play() to its first "showing" ack, once one came. */
  get showingMs(): number | undefined {
    return this.#showingMs;
  }

  start(): Promise<void> {
    if (this.#keepAlive === undefined) {
      this.#keepAlive = setInterval(() => this.#broadcast(": keep-alive\n\n"), this.#keepAliveMs);
      this.#keepAlive.unref();
    }
    this.#health.set("up");
    return Promise.resolve();
  }

  stop(): Promise<void> {
    clearInterval(this.#keepAlive);
    this.#keepAlive = undefined;
    this.#pending?.reject(new Error("the display driver stopped before the page played the film"));
    for (const page of this.#pages) page.res.end();
    this.#pages.clear();
    this.#health.set("stopped");
    return Promise.resolve();
  }

  health(): DriverHealth {
    return this.#health.get();
  }

  async play(request: PlayRequest, signal?: AbortSignal): Promise<PlayAck> {
    const item = admitPlay(request, signal, this.#health.get().state);
    if (this.#pages.size === 0) throw new Error(`no display page is open at ${this.#pageUrl}; open it in the TV's browser`);
    this.#pending?.reject(new Error(`replaced by a newer film (play_id ${item.play_id}) before it played`));
    this.#current = item;
    this.#showingMs = undefined;
    const started = this.#now();
    const pagesGot = this.#pages.size;
    this.#broadcast(playEvent(item));
    return await new Promise<PlayAck>((resolve, reject) => {
      const timer = setTimeout(() => {
        pending.reject(new Error(
          `no "playing" ack from the display page within ${this.#ackTimeoutMs} ms for "${item.title}" ` +
            `(${pagesGot} page(s) at ${this.#pageUrl} got it${this.#showingMs === undefined ? ", none showed it" : ", its title is up"})`,
        ));
      }, this.#ackTimeoutMs);
      const settle = (): void => {
        clearTimeout(timer);
        detach();
        if (this.#pending === pending) this.#pending = undefined;
      };
      const pending: Pending = {
        item,
        started,
        resolve: (ack) => { settle(); resolve(ack); },
        reject: (err) => { settle(); reject(err); },
      };
      const detach = onAbort(signal, (reason) => pending.reject(reason instanceof Error ? reason : new Error(String(reason))));
      this.#pending = pending;
    });
  }

  /** Serves /display, /display/events and /display/ack; false for any other path. */
  handle(req: IncomingMessage, res: ServerResponse, path: string): boolean {
    switch (path) {
      case "/display":
      case "/display/":
        if (allow(req, res, ["GET", "HEAD"])) this.#page(req, res);
        return true;
      case "/display/events":
        if (allow(req, res, ["GET"])) this.#events(req, res);
        return true;
      case "/display/ack":
        if (allow(req, res, ["POST"])) this.#ack(req, res).catch((err: unknown) => this.ctx.logger.error({ err }, "display ack failed"));
        return true;
      default:
        return false;
    }
  }

  #page(req: IncomingMessage, res: ServerResponse): void {
    res.writeHead(200, {
      "content-type": "text/html; charset=utf-8",
      "content-length": Buffer.byteLength(KIOSK_PAGE),
      "content-security-policy": KIOSK_CSP,
      "cache-control": "no-store",
      "x-content-type-options": "nosniff",
      "referrer-policy": "no-referrer",
    });
    res.end(req.method === "HEAD" ? undefined : KIOSK_PAGE);
  }

  #events(req: IncomingMessage, res: ServerResponse): void {
    if (this.#health.get().state !== "up") {
      sendError(res, 503, "the display driver is not started");
      return;
    }
    res.writeHead(200, {
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-store",
      "x-accel-buffering": "no",
    });
    res.write(`retry: ${SSE_RETRY_MS}\n\n`);
    const page: Page = { res, remote: req.socket.remoteAddress ?? "?" };
    this.#pages.add(page);
    this.ctx.logger.info({ remote: page.remote, pages: this.#pages.size }, "display page connected");
    res.once("close", () => {
      this.#pages.delete(page);
      this.ctx.logger.info({ remote: page.remote, pages: this.#pages.size }, "display page left");
    });
    if (this.#current !== undefined) res.write(playEvent(this.#current));
  }

  async #ack(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let ack: Ack;
    try {
      ack = await readAck(req);
    } catch (err) {
      if (!(err instanceof AckRejected)) throw err;
      sendError(res, err.status, err.message, err.status === 413 ? { connection: "close" } : {});
      return;
    }
    res.writeHead(204, { "cache-control": "no-store" });
    res.end();
    this.#onAck(ack, req.socket.remoteAddress ?? "?");
  }

  #onAck(ack: Ack, remote: string): void {
    const pending = this.#pending;
    if (pending === undefined || pending.item.play_id !== ack.play_id) {
      if (ack.state === "error") this.ctx.logger.warn({ play_id: ack.play_id, detail: ack.detail, remote }, "display page reports an error");
      return;
    }
    const ms = this.#now() - pending.started;
    this.ctx.logger.debug({ play_id: ack.play_id, state: ack.state, ms, remote }, "display ack");
    if (ack.state === "showing") {
      this.#showingMs ??= ms;
    } else if (ack.state === "playing") {
      pending.resolve({ ack_ms: ms, shown_by: `kiosk page at ${remote}` });
    } else {
      pending.reject(new Error(`the display page at ${remote} could not play ${pending.item.url}: ${ack.detail ?? "no detail"}`));
    }
  }

  #broadcast(chunk: string): void {
    for (const page of this.#pages) page.res.write(chunk);
  }
}

function playEvent(item: PlayRequest): string {
  const data = { play_id: item.play_id, url: item.url, title: item.title, ...(item.poster === undefined ? {} : { poster: item.poster }) };
  return `event: play\ndata: ${JSON.stringify(data)}\n\n`;
}

function allow(req: IncomingMessage, res: ServerResponse, methods: readonly string[]): boolean {
  if (methods.includes(req.method ?? "")) return true;
  sendError(res, 405, `${req.method ?? "?"} is not allowed here; allowed: ${methods.join(", ")}`, { allow: methods.join(", ") });
  return false;
}

const CODES = { 400: "E_BAD_REQUEST", 405: "E_METHOD_NOT_ALLOWED", 413: "E_PAYLOAD_TOO_LARGE", 503: "E_NODE_UNAVAILABLE" } as const;

/** The API's error shape, {error: {code, message}}, without importing the agent. */
function sendError(res: ServerResponse, status: keyof typeof CODES, message: string, headers: Record<string, string> = {}): void {
  const body = JSON.stringify({ error: { code: CODES[status], message } });
  res.writeHead(status, { "content-type": "application/json; charset=utf-8", "content-length": Buffer.byteLength(body), "cache-control": "no-store", ...headers });
  res.end(body);
}
