/**
 * Queue groups above an MQTT broker that has no shared subscriptions (aedes 1.x: `$share/…` is a
 * plain topic there; mqtt.test.ts proves it). Every member of a group subscribes to the topic
 * normally, so every member receives every message, and the members agree on one owner per
 * message without talking about the message:
 *
 * - Membership. Each connection that is in any group keeps one retained record at
 *   `$adaos/members/<clientId>`: `{"v": n, "groups": [[queue, pattern], …]}`, QoS 1. Its MQTT will
 *   (set at connect) is an empty retained message on the same topic, so the broker erases the
 *   record when the connection dies; close() erases it explicitly (a clean DISCONNECT discards the
 *   will [MQTT-3.14.4-3]). `$` topics are never produced by subjects (abi/subjects.md) and are not
 *   matched by `#`/`+` at the first level [MQTT-4.7.2-1], so third-party subscribers do not see them.
 * - Views change only through the broker. A member counts itself (and anyone else) in a group
 *   only once the broker has delivered that member's record to it, its own included. The broker
 *   forwards records and messages to every subscriber in the order it processed them, so for any
 *   message every member decides with the same view.
 * - Election. Owners are chosen by rendezvous hashing: among the members whose groups include
 *   this queue with a pattern matching the subject (NATS groups by queue name the same way), the
 *   one with the highest hash(message bytes, member id) takes it. Joins and leaves move only the
 *   share of the member that came or went.
 *
 * Limits, stated: a member that dies owns its share until the broker fires its will (at once on a
 * closed socket, after 1.5 × keepalive on a silent one), and those messages are lost, as they are
 * on NATS core for a member that dies with messages in flight. When a joining member's own record
 * comes back before the retained records of the others, it may for a moment also take messages
 * that another member takes: a duplicate, never a loss. Each member receives every message of the
 * group (N× the broker's fan-out), which is fine for the few workers of a home subnet.
 */
import type { Logger } from "../core/logger.js";
import { matches, patternTokens } from "../bus/subject.js";

export const PRESENCE_PREFIX = "$adaos/members/";
export const PRESENCE_FILTER = `${PRESENCE_PREFIX}+`;

export function presenceTopic(memberId: string): string {
  return PRESENCE_PREFIX + memberId;
}

/** What the election needs from the MQTT client. */
export interface GroupLink {
  /** Publish a retained QoS 1 message; resolves when the broker has it. */
  publishRetained(topic: string, payload: string): Promise<void>;
  /** Subscribe at QoS 1; resolves on SUBACK. */
  subscribe(filter: string): Promise<void>;
}

interface Pair {
  readonly queue: string;
  readonly tokens: readonly string[];
}

interface Waiter {
  readonly version: number;
  readonly resolve: () => void;
}

export class GroupElection {
  /** Local subscriptions per `queue\npattern`. */
  readonly #mine = new Map<string, number>();
  /** Every member's groups, as the broker last delivered its record. */
  readonly #views = new Map<string, readonly Pair[]>();
  readonly #idHashes = new Map<string, number>();
  #waiters: Waiter[] = [];
  #version = 0;
  #presence: Promise<void> | undefined;
  #announced = false;

  constructor(private readonly memberId: string, private readonly link: GroupLink, private readonly logger: Logger) {}

  /** Count a local subscription in; resolves once this member takes part in the group's elections. */
  async join(queue: string, pattern: string): Promise<void> {
    const key = `${queue}\n${pattern}`;
    this.#mine.set(key, (this.#mine.get(key) ?? 0) + 1);
    this.#presence ??= this.link.subscribe(PRESENCE_FILTER);
    await this.#presence;
    await this.#announce();
  }

  /** Count a local subscription out; the record is updated asynchronously. */
  leave(queue: string, pattern: string): void {
    const key = `${queue}\n${pattern}`;
    const n = (this.#mine.get(key) ?? 0) - 1;
    if (n > 0) return void this.#mine.set(key, n);
    this.#mine.delete(key);
    this.#announce().catch((err: unknown) => this.logger.warn({ err }, "could not update the queue-group record"));
  }

  /** After every (re)connect: forget the views (the retained records come again) and re-announce. */
  onConnect(): void {
    this.#views.clear();
    if (this.#mine.size === 0) return;
    this.#announce().catch((err: unknown) => this.logger.warn({ err }, "could not re-announce queue groups after reconnecting"));
  }

  /** On close: erase our record (a clean disconnect does not fire the will) and release waiters. */
  async withdraw(): Promise<void> {
    this.#release(Infinity);
    if (this.#announced) await this.link.publishRetained(presenceTopic(this.memberId), "");
  }

  /** A record arrived on PRESENCE_FILTER. Malformed records are ignored (logged). */
  onPresence(topic: string, payload: Uint8Array): void {
    const id = topic.slice(PRESENCE_PREFIX.length);
    if (payload.length === 0) {
      this.#views.delete(id);
      this.#idHashes.delete(id);
      if (id === this.memberId) this.#release(this.#version);
      return;
    }
    try {
      const record = JSON.parse(Buffer.from(payload).toString("utf8")) as { v?: unknown; groups?: unknown };
      if (typeof record.v !== "number" || !Array.isArray(record.groups)) throw new Error("expected {v: number, groups: [[queue, pattern], …]}");
      const pairs = (record.groups as unknown[]).map((g) => {
        if (!Array.isArray(g) || typeof g[0] !== "string" || typeof g[1] !== "string") throw new Error("a group is not [queue, pattern]");
        return { queue: g[0], tokens: patternTokens(g[1]) };
      });
      this.#views.set(id, pairs);
      if (id === this.memberId) this.#release(record.v);
    } catch (err) {
      this.logger.warn({ err, topic }, "ignored a malformed queue-group record");
    }
  }

  /** Whether this member takes the message (of these bytes, on this subject) for `queue`. */
  owns(queue: string, subject: readonly string[], payload: Uint8Array): boolean {
    let best: string | undefined;
    let bestScore = -1;
    let h: number | undefined;
    for (const [id, pairs] of this.#views) {
      if (!pairs.some((p) => p.queue === queue && matches(p.tokens, subject))) continue;
      h ??= fnv1a(payload);
      const score = fmix32(h ^ this.#idHash(id));
      if (score > bestScore || (score === bestScore && best !== undefined && id < best)) {
        best = id;
        bestScore = score;
      }
    }
    return best === this.memberId;
  }

  async #announce(): Promise<void> {
    const version = ++this.#version;
    const groups = [...this.#mine.keys()].map((k) => k.split("\n"));
    const echoed = new Promise<void>((resolve) => this.#waiters.push({ version, resolve }));
    this.#announced = true;
    await this.link.publishRetained(presenceTopic(this.memberId), groups.length === 0 ? "" : JSON.stringify({ v: version, groups }));
    await echoed;
  }

  #release(upTo: number): void {
    const due = this.#waiters.filter((w) => w.version <= upTo);
    this.#waiters = this.#waiters.filter((w) => w.version > upTo);
    for (const w of due) w.resolve();
  }

  #idHash(id: string): number {
    let h = this.#idHashes.get(id);
    if (h === undefined) {
      h = fnv1a(Buffer.from(id, "utf8"));
      this.#idHashes.set(id, h);
    }
    return h;
  }
}

/** FNV-1a, 32 bit: a fast, well-spread hash of the message bytes. */
export function fnv1a(bytes: Uint8Array): number {
  let h = 0x811c9dc5;
  for (const b of bytes) h = Math.imul(h ^ b, 0x01000193);
  return h >>> 0;
}

/** MurmurHash3's finalizer: mixes (message hash ^ member hash) so every bit counts. */
function fmix32(x: number): number {
  let h = x >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}
