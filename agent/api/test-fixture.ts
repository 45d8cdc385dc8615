/**
 * Test fixture for the API and the commands that use it: a real LocalBus over a MemoryCatalog
 * and an ApiServer on a free port, stopped in t.after; plus small readers for metrics and SSE,
 * and a small in-memory outbox with its dead-letter queue for the /api/dlq and /api/outbox tests.
 */
import { Agent, request, type IncomingMessage } from "node:http";
import type { TestContext } from "node:test";
import type { Envelope } from "../../abi/envelope.js";
import { LocalBus } from "../bus/local-bus.js";
import { silentLogger } from "../core/logger.js";
import { MetricsRegistry, registerProcessMetrics } from "../core/metrics.js";
import { MemoryCatalog, entry } from "../registry/memory-catalog.js";
import { SseParser, type SseMessage } from "../cli/api-client.js";
import { systemClock } from "../core/clock.js";
import { MemoryDeadLetters } from "../outbox/memory-dead-letters.js";
import type { Outbox, OutboxEntry, OutboxStats } from "../outbox/outbox.js";
import { ApiServer, type ApiServerOptions } from "./server.js";

export const TOKEN = "test-token-0123456789abcdef";
export const NODE_ID = "hub-test";

export const catalog = new MemoryCatalog([
  {
    entry: entry("ui.notify"),
    schema: { type: "object", properties: { text: { type: "string", minLength: 1 } }, required: ["text"], additionalProperties: false },
  },
  { entry: entry("test.pinged"), schema: { type: "object", properties: { n: { type: "integer" }, pad: { type: "string" } }, required: ["n"] } },
  { entry: entry("test.do", "command"), schema: { type: "object" } },
]);

export interface Fixture {
  readonly api: ApiServer;
  readonly bus: LocalBus;
  readonly metrics: MetricsRegistry;
  readonly url: string;
  /** Flip readiness from the test. */
  readonly state: { ready: boolean };
}

/** Options for an ApiServer on a free loopback port with the test token. */
export function apiOptions(bus: LocalBus, metrics: MetricsRegistry, extra: Partial<ApiServerOptions> = {}): ApiServerOptions {
  return {
    host: "127.0.0.1",
    port: 0,
    token: TOKEN,
    maxBodyBytes: 4096,
    sseHeartbeatMs: 15_000,
    bus,
    metrics,
    logger: silentLogger(),
    source: `api@${NODE_ID}`,
    tenant: "default",
    readiness: () => ({ ready: true, info: {} }),
    ...extra,
  };
}

export async function startApi(t: TestContext, extra: Partial<ApiServerOptions> = {}): Promise<Fixture> {
  const metrics = new MetricsRegistry();
  registerProcessMetrics(metrics, Date.now());
  const bus = new LocalBus({ catalog, logger: silentLogger(), metrics, source: `agent://hub/${NODE_ID}` });
  const state = { ready: true };
  const api = new ApiServer(
    apiOptions(bus, metrics, {
      tenant: "home",
      // Replay of dead letters validates with it (used only when a test gives an outbox or DLQ).
      catalog,
      readiness: () => ({ ready: state.ready, info: { node_id: NODE_ID, role: "hub", uptime_s: 1 } }),
      ...extra,
    }),
  );
  await api.start(new AbortController().signal);
  t.after(async () => {
    await api.stop();
    await bus.stop();
  });
  return { api, bus, metrics, url: api.url, state };
}

/** The value of one series in a Prometheus text body (labels written exactly as rendered). */
export function metricValue(text: string, series: string): number | undefined {
  for (const line of text.split("\n")) {
    if (line.startsWith(series + " ")) return Number(line.slice(series.length + 1));
  }
  return undefined;
}

export function busSubscriptions(metrics: MetricsRegistry): number {
  return metricValue(metrics.render(), "adaos_bus_subscriptions") ?? NaN;
}

export async function waitFor(what: string, cond: () => boolean, timeoutMs = 3000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

export const auth = { "x-adaos-token": TOKEN };

/** POST JSON with the token; returns status and parsed body. */
export async function postJson(url: string, body: unknown, headers: Record<string, string> = auth): Promise<{ status: number; body: unknown }> {
  const res = await fetch(url, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify(body) });
  return { status: res.status, body: await res.json() };
}

/** Any method, JSON or raw string body, with the token by default; returns status and parsed body. */
export async function call(url: string, method: string, body?: unknown, headers: Record<string, string> = auth): Promise<{ status: number; body: unknown }> {
  const init = body === undefined ? {} : { body: typeof body === "string" ? body : JSON.stringify(body) };
  const res = await fetch(url, { method, headers: { "content-type": "application/json", ...headers }, ...init });
  return { status: res.status, body: await res.json() };
}

export interface ErrorBody {
  error: { code: string; message: string; issues?: { pointer: string; message: string }[] };
}

/** The `error` object of an error answer. */
export function errorOf(res: { body: unknown }): ErrorBody["error"] {
  return (res.body as ErrorBody).error;
}

/**
 * A raw SSE client (node:http, so the test controls the socket): collects parsed messages. It
 * asks for keep-alive, like browsers and fetch do, so the server must close the connection itself.
 */
export class SseClient {
  readonly messages: SseMessage[] = [];
  response: IncomingMessage | undefined;
  ended = false;
  readonly #req;
  readonly #agent: Agent;

  private constructor(url: string, headers: Record<string, string>) {
    this.#agent = new Agent({ keepAlive: true, maxSockets: 1 });
    this.#req = request(url, { headers: { accept: "text/event-stream", ...headers }, agent: this.#agent });
  }

  static open(url: string, headers: Record<string, string> = auth): Promise<SseClient> {
    const client = new SseClient(url, headers);
    return new Promise((resolve, reject) => {
      client.#req.once("error", reject);
      client.#req.once("response", (res) => {
        client.response = res;
        const parser = new SseParser();
        res.setEncoding("utf8");
        res.on("data", (text: string) => client.messages.push(...parser.push(text)));
        res.on("end", () => (client.ended = true));
        res.on("error", () => (client.ended = true));
        resolve(client);
      });
      client.#req.end();
    });
  }

  get events(): Extract<SseMessage, { type: "event" }>[] {
    return this.messages.filter((m) => m.type === "event");
  }

  get comments(): string[] {
    return this.messages.flatMap((m) => (m.type === "comment" ? [m.text] : []));
  }

  close(): void {
    this.#req.destroy();
    this.#agent.destroy();
  }
}

/**
 * An outbox that records enqueues and reports the stats a test sets, with a MemoryDeadLetters.
 * (Until memory-outbox.ts lands; the API tests need only enqueue, stats and dlq.)
 */
export class TestOutbox implements Outbox {
  readonly dlq = new MemoryDeadLetters({ maxRows: 100_000, clock: systemClock });
  readonly enqueued: { subject: string; envelope: Envelope }[] = [];
  stats: () => OutboxStats = () => ({ depth: 0, bytes: 0, inFlight: 0, oldestAgeMs: 0, added: 0, sent: 0, expired: 0, overflowed: 0, poisoned: 0, retried: 0 });

  enqueue(subject: string, envelope: Envelope): Promise<{ readonly duplicate: boolean }> {
    const duplicate = this.enqueued.some((e) => e.envelope.id === envelope.id);
    if (!duplicate) this.enqueued.push({ subject, envelope });
    return Promise.resolve({ duplicate });
  }

  next(): OutboxEntry[] {
    return [];
  }

  sent(): void {}
  retry(): void {}
  poison(): void {}

  sweep(): number {
    return 0;
  }

  changed(): Promise<void> {
    return new Promise(() => {});
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
