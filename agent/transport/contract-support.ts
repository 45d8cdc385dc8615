/** Test support for the transport contract: the events it sends, envelopes, collectors, status waits. */
import type { Envelope } from "../../abi/envelope.js";
import { createEnvelope, deriveEnvelope } from "../core/envelope.js";
import { MemoryCatalog, entry } from "../registry/memory-catalog.js";
import type { LinkStatus, Message } from "./transport.js";

const N_SCHEMA = {
  type: "object",
  required: ["n"],
  properties: { n: { type: "integer" }, pad: { type: "string" } },
  additionalProperties: false,
};

let catalog: MemoryCatalog | undefined;

/** test.ping (event), test.echo (command) and test.echo.result (its reply), payload {n, pad?}. */
export function contractCatalog(): MemoryCatalog {
  catalog ??= new MemoryCatalog([
    { entry: entry("test.ping"), schema: N_SCHEMA },
    { entry: entry("test.echo", "command", { reply: "test.echo.result@1" }), schema: N_SCHEMA },
    { entry: entry("test.echo.result", "reply"), schema: N_SCHEMA },
  ]);
  return catalog;
}

export function ping(n: number, pad?: string): Envelope {
  return createEnvelope({ event_name: "test.ping", version: 1, source: "agent://member/contract", payload: pad === undefined ? { n } : { n, pad } });
}

export function echo(n: number): Envelope {
  return createEnvelope({ event_name: "test.echo", version: 1, kind: "command", source: "agent://member/contract", payload: { n } });
}

export function echoReply(request: Envelope): Envelope {
  return deriveEnvelope(request, {
    event_name: "test.echo.result",
    version: 1,
    kind: "reply",
    source: "agent://member/responder",
    payload: { n: (request.payload as { n: number }).n },
  });
}

export function nOf(message: Message): number {
  return (message.envelope.payload as { n: number }).n;
}

export interface Collector {
  readonly handler: (message: Message) => void;
  readonly messages: Message[];
  /** Resolves when a message with payload n arrives (or has arrived); rejects after `ms`. */
  until(n: number, ms?: number): Promise<void>;
  ns(): number[];
}

/** Deliveries through a broker on loopback take well under a second; 5 s means they will not come. */
export const DELIVERY_TIMEOUT_MS = 5000;

export function collector(): Collector {
  const messages: Message[] = [];
  const waiters = new Map<number, () => void>();
  return {
    messages,
    handler: (m) => {
      messages.push(m);
      waiters.get(nOf(m))?.();
    },
    until: (n, ms = DELIVERY_TIMEOUT_MS) => {
      if (messages.some((m) => nOf(m) === n)) return Promise.resolve();
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`message n=${n} not delivered within ${ms} ms (got ${messages.map(nOf).join(",")})`)), ms);
        waiters.set(n, () => {
          clearTimeout(timer);
          resolve();
        });
      });
    },
    ns: () => messages.map(nOf),
  };
}

/** Read statuses until one of `type` arrives; returns it and everything seen on the way. */
export async function nextStatus(it: AsyncIterator<LinkStatus>, type: LinkStatus["type"], ms: number): Promise<LinkStatus[]> {
  const seen: LinkStatus[] = [];
  const deadline = Date.now() + ms;
  for (;;) {
    const left = deadline - Date.now();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<"timeout">((resolve) => (timer = setTimeout(() => resolve("timeout"), Math.max(0, left))));
    const r = await Promise.race([it.next(), timeout]);
    clearTimeout(timer);
    if (r === "timeout") throw new Error(`no "${type}" status within ${ms} ms (saw ${JSON.stringify(seen)})`);
    if (r.done === true) throw new Error(`status iteration ended before "${type}" (saw ${JSON.stringify(seen)})`);
    seen.push(r.value);
    if (r.value.type === type) return seen;
  }
}
