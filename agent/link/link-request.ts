/**
 * A request across a failover: sent on the active link once it is up; when that link is retired
 * (the failover switched) before the reply, the same envelope — same id, so the responder's dedup
 * sees a redelivery, not a new request — is sent again on the new link, all within the caller's
 * one timeout. The caller gets one reply, or one TimeoutError naming the links tried.
 *
 * Retries are not capped by count: each one needs a switch, and switches are paced by the grace
 * and healthy periods, so the deadline is what bounds them.
 */
import type { Envelope } from "../../abi/envelope.js";
import type { Clock } from "../core/clock.js";
import { TransportClosedError, TimeoutError } from "../core/errors.js";
import type { Counter } from "../core/metrics.js";
import type { Message } from "../transport/transport.js";
import type { Link } from "./link.js";

export interface RequestRoute {
  readonly clock: Clock;
  /** The active link once it is up, or undefined at the deadline; rejects with TransportClosedError on close. */
  upLink(deadline: number): Promise<Link | undefined>;
  /** A link failed a request with TransportClosedError although nobody retired it: its adapter is gone. */
  lost(link: Link): void;
  isClosing(): boolean;
  /** adaos_link_request_retries_total, by transport of the new attempt. */
  readonly retries: Counter;
}

type Outcome = { readonly reply: Message } | { readonly error: Error } | { readonly retired: true };

export async function requestOverLinks(route: RequestRoute, subject: string, envelope: Envelope, timeoutMs: number): Promise<Message> {
  const deadline = route.clock.now() + timeoutMs;
  const tried: string[] = [];
  const timeout = (cause?: Error): TimeoutError => {
    const over = tried.length === 0 ? "no link to the hub was up" : `tried ${tried.join(", then ")}`;
    return new TimeoutError(`no reply to ${envelope.event_name} (${envelope.id}) on ${subject} within ${timeoutMs} ms (${over})`, cause === undefined ? {} : { cause });
  };
  for (;;) {
    const link = await route.upLink(deadline);
    const left = deadline - route.clock.now();
    if (link === undefined || left <= 0) throw timeout();
    if (tried.length > 0) route.retries.inc({ transport: link.candidate.transport });
    tried.push(link.label);
    const attempt = link.transport.request(subject, envelope, { timeoutMs: left });
    const outcome: Outcome = await Promise.race([
      attempt.then((reply) => ({ reply }), (error: unknown) => ({ error: error instanceof Error ? error : new Error(String(error)) })),
      link.retired.then(() => ({ retired: true as const })),
    ]);
    if ("reply" in outcome) return outcome.reply;
    if (route.isClosing()) throw new TransportClosedError(`the link to the hub closed before the reply to ${envelope.event_name} (${envelope.id})`);
    if (link.isRetired) continue;
    const { error } = outcome as { error: Error };
    if (!(error instanceof TransportClosedError)) throw error instanceof TimeoutError ? timeout(error) : error;
    route.lost(link);
  }
}
