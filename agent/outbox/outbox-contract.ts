/**
 * The one contract every outbox passes (model: aedes-persistence abstract.js). An adapter's test
 * file calls outboxContract() with a factory for a fresh, empty outbox per test; the factory
 * cleans up after the test itself. Time is a ManualClock, so TTLs and ages are tested without
 * sleeping. The dead-letter queue is tested through `outbox.dlq`, the way the node reaches it.
 */
import { strict as assert } from "node:assert";
import { suite, test, type TestContext } from "node:test";
import { setImmediate as nextTurn } from "node:timers/promises";
import type { Envelope, Priority } from "../../abi/envelope.js";
import { ManualClock } from "../core/clock.js";
import { createEnvelope } from "../core/envelope.js";
import { StorageError } from "../core/errors.js";
import type { DeadLetterInput } from "./dead-letters.js";
import type { Outbox, OutboxLimits } from "./outbox.js";

export interface OutboxContractOptions {
  readonly limits: OutboxLimits;
  readonly clock: ManualClock;
  readonly dlqMaxRows: number;
}

/** A fresh, empty outbox (with an empty dlq) for one test. */
export type MakeOutbox = (t: TestContext, opts: OutboxContractOptions) => Promise<Outbox> | Outbox;

const HOUR_MS = 3_600_000;
const ROOMY: OutboxLimits = { maxRows: 100_000, maxBytes: 2 ** 30, ttlMs: HOUR_MS };
const SUBJECT = "ada.root.uplink.hub1.telemetry.reading";

interface Spec {
  readonly priority?: Priority;
  readonly source?: string;
  readonly ttl_ms?: number;
  /** Payload padding, to give envelopes weight. */
  readonly pad?: number;
}

/** Envelope number `n` (payload.n), stamped by the clock. */
function envelope(clock: ManualClock, n: number, spec: Spec = {}): Envelope {
  return createEnvelope(
    {
      event_name: "telemetry.reading",
      version: 1,
      source: spec.source ?? "agent://hub/a",
      priority: spec.priority ?? 3,
      ...(spec.ttl_ms === undefined ? {} : { ttl_ms: spec.ttl_ms }),
      payload: spec.pad === undefined ? { n } : { n, pad: "x".repeat(spec.pad) },
    },
    clock,
  );
}

const json = (data: Uint8Array): string => Buffer.from(data).toString("utf8");
const nOf = (x: { readonly data: Uint8Array }): number => (JSON.parse(json(x.data)) as Envelope<{ n: number }>).payload.n;
const ns = (xs: readonly { readonly data: Uint8Array }[]): number[] => xs.map(nOf);
const size = (e: Envelope): number => Buffer.byteLength(JSON.stringify(e));

export function outboxContract(name: string, make: MakeOutbox): void {
  const open = async (t: TestContext, limits: Partial<OutboxLimits> = {}, dlqMaxRows = 1000) => {
    const clock = new ManualClock(Date.UTC(2026, 5, 1));
    const outbox = await make(t, { limits: { ...ROOMY, ...limits }, clock, dlqMaxRows });
    /** Enqueue in one tick, in order; resolves when all are stored. */
    const put = (envs: readonly Envelope[]) => Promise.all(envs.map((e) => outbox.enqueue(SUBJECT, e)));
    return { outbox, clock, put, dlq: outbox.dlq };
  };

  suite(`outbox contract: ${name}`, () => {
    test("an envelope is handed out as it was stored, and sent() empties the outbox", async (t) => {
      const { outbox, clock, put } = await open(t);
      const e = envelope(clock, 1, { priority: 2, source: "agent://member/m1" });
      assert.deepEqual(await put([e]), [{ duplicate: false }]);
      const [entry, ...rest] = outbox.next(10);
      assert.deepEqual(rest, []);
      assert.ok(entry !== undefined);
      assert.equal(json(entry.data), JSON.stringify(e), "the data is exactly the envelope JSON");
      assert.deepEqual(
        { id: entry.id, subject: entry.subject, priority: entry.priority, source: entry.source, enqueuedAt: entry.enqueuedAt, expiresAt: entry.expiresAt, attempts: entry.attempts },
        { id: e.id, subject: SUBJECT, priority: 2, source: "agent://member/m1", enqueuedAt: clock.now(), expiresAt: clock.now() + HOUR_MS, attempts: 0 },
      );
      outbox.sent([entry.id, "no-such-id"]);
      assert.deepEqual(outbox.next(10), []);
      const s = outbox.stats();
      assert.deepEqual([s.depth, s.bytes, s.inFlight, s.added, s.sent], [0, 0, 0, 1, 1]);
    });

    test("an id already waiting is not stored twice, in one tick or later; once sent it may come again", async (t) => {
      const { outbox, clock, put } = await open(t);
      const e = envelope(clock, 1);
      assert.deepEqual(await put([e, e]), [{ duplicate: false }, { duplicate: true }]);
      assert.deepEqual(await put([e]), [{ duplicate: true }]);
      assert.equal(outbox.stats().depth, 1);
      const handed = outbox.next(10);
      assert.deepEqual(await put([e]), [{ duplicate: true }], "in flight is still waiting");
      outbox.sent(handed.map((x) => x.id));
      assert.deepEqual(await put([e]), [{ duplicate: false }]);
      assert.equal(outbox.stats().added, 2);
    });

    test("drain order: highest priority first, FIFO within a priority, so each source keeps its order", async (t) => {
      const { outbox, clock, put } = await open(t);
      const plan: [Priority, string][] = [[3, "a"], [5, "b"], [1, "a"], [3, "b"], [5, "a"], [1, "b"], [3, "a"], [0, "a"]];
      await put(plan.map(([priority, source], n) => envelope(clock, n, { priority, source: `agent://hub/${source}` })));
      const first = outbox.next(2);
      assert.deepEqual(ns(first), [7, 2]);
      await put([envelope(clock, 8, { priority: 0 })]);
      const rest = outbox.next(100);
      assert.deepEqual(ns(rest), [8, 5, 0, 3, 6, 1, 4], "a newer higher-priority entry goes before older lower ones");
      const all = [...first, ...rest];
      for (const source of ["agent://hub/a", "agent://hub/b"]) {
        for (const p of [0, 1, 3, 5]) {
          const mine = ns(all.filter((x) => x.source === source && x.priority === p));
          assert.deepEqual(mine, [...mine].sort((x, y) => x - y), `${source} priority ${p} in order`);
        }
      }
    });

    test("entries in flight are not handed out twice", async (t) => {
      const { outbox, clock, put } = await open(t);
      await put([0, 1, 2, 3, 4].map((n) => envelope(clock, n)));
      const a = outbox.next(2);
      assert.deepEqual([ns(a), ns(outbox.next(2)), ns(outbox.next(10)), ns(outbox.next(10))], [[0, 1], [2, 3], [4], []]);
      assert.equal(outbox.stats().inFlight, 5);
      outbox.sent(a.map((x) => x.id));
      assert.deepEqual([outbox.stats().inFlight, outbox.stats().depth], [3, 3]);
      assert.deepEqual(outbox.next(10), [], "the rest are still in flight");
    });

    test("retry() puts entries back in their place with attempts + 1", async (t) => {
      const { outbox, clock, put } = await open(t);
      await put([0, 1, 2, 3].map((n) => envelope(clock, n)));
      const handed = outbox.next(4);
      const idOf = (n: number): string => handed.find((x) => nOf(x) === n)?.id ?? "";
      outbox.retry([idOf(2), idOf(0)], "timeout");
      assert.deepEqual([outbox.stats().retried, outbox.stats().inFlight], [2, 2]);
      const again = outbox.next(10);
      assert.deepEqual([ns(again), again.map((x) => x.attempts)], [[0, 2], [1, 1]]);
      outbox.retry([idOf(0)], "no route");
      assert.deepEqual(outbox.next(10).map((x) => [nOf(x), x.attempts]), [[0, 2]]);
    });

    test("poison() moves entries to the DLQ with reason, attempts and error; the data is the envelope JSON", async (t) => {
      const { outbox, clock, put, dlq } = await open(t);
      const [e, other] = [envelope(clock, 1, { source: "agent://member/m2" }), envelope(clock, 2)];
      await put([e, other]);
      outbox.retry(outbox.next(1).map((x) => x.id), "timeout");
      clock.advance(500);
      outbox.poison(outbox.next(1).map((x) => x.id), "message too large for the stream");
      const [dead, ...more] = dlq.list();
      assert.deepEqual(more, []);
      assert.ok(dead !== undefined);
      assert.deepEqual(
        { ...dead, data: json(dead.data), dlqId: typeof dead.dlqId },
        {
          dlqId: "number", reason: "poison", origin: "outbox", id: e.id, eventName: "telemetry.reading", subject: SUBJECT,
          source: "agent://member/m2", attempts: 2, lastError: "message too large for the stream", deadAt: clock.now(), data: JSON.stringify(e),
        },
      );
      const s = outbox.stats();
      assert.deepEqual([s.depth, s.bytes, s.inFlight, s.poisoned], [1, size(other), 0, 1]);
      assert.deepEqual(ns(outbox.next(10)), [2]);
    });

    test("TTL: sweep() moves entries past the outbox TTL to the DLQ as expired, never one in flight", async (t) => {
      const { outbox, clock, put, dlq } = await open(t, { ttlMs: 10_000 });
      await put([envelope(clock, 0)]);
      clock.advance(4000);
      await put([envelope(clock, 1)]);
      clock.advance(6000);
      const handed = outbox.next(10);
      assert.deepEqual(ns(handed), [1], "an expired entry is not handed out");
      assert.equal(outbox.sweep(), 1);
      assert.deepEqual(dlq.list().map((d) => [nOf(d), d.reason, d.origin, d.attempts]), [[0, "expired", "outbox", 0]]);
      assert.match(dlq.list()[0]?.lastError ?? "", /expired/);
      clock.advance(4000);
      assert.equal(outbox.sweep(), 0, "entry 1 expired in flight: it stays until the relay settles it");
      outbox.retry(handed.map((x) => x.id), "link down");
      assert.deepEqual(outbox.next(10), [], "expired, so not handed out again");
      assert.equal(outbox.sweep(), 1);
      const last = dlq.list({ reason: "expired" })[1];
      assert.deepEqual([last && nOf(last), last?.attempts], [1, 1]);
      assert.match(last?.lastError ?? "", /expired.*link down/, "the last send error is kept");
      const s = outbox.stats();
      assert.deepEqual([s.expired, s.depth, s.bytes], [2, 0, 0]);
    });

    test("an envelope's own ttl_ms (from its ts) ends its life before the outbox TTL; a longer one does not extend it", async (t) => {
      const { outbox, clock, put, dlq } = await open(t, { ttlMs: 60_000 });
      const t0 = clock.now();
      const short = envelope(clock, 0, { ttl_ms: 1000 });
      clock.advance(400);
      await put([short, envelope(clock, 1), envelope(clock, 2, { ttl_ms: 10 * 60_000 })]);
      clock.advance(599);
      const before = outbox.next(10);
      assert.deepEqual(before.map((x) => [nOf(x), x.expiresAt]), [[0, t0 + 1000], [1, t0 + 400 + 60_000], [2, t0 + 400 + 60_000]]);
      outbox.retry(before.map((x) => x.id), "link down");
      clock.advance(1);
      assert.deepEqual(ns(outbox.next(10)), [1, 2]);
      assert.equal(outbox.sweep(), 1);
      assert.deepEqual(dlq.list({ reason: "expired" }).map(nOf), [0]);
    });

    test("overflow by rows: the lowest priority, oldest first, go to the DLQ as overflow", async (t) => {
      const { outbox, clock, put, dlq } = await open(t, { maxRows: 5 });
      const plan: Priority[] = [3, 3, 3, 5, 5, 1, 5, 0, 3];
      for (const [n, priority] of plan.entries()) await put([envelope(clock, n, { priority })]);
      assert.deepEqual(dlq.list().map((d) => [nOf(d), d.reason, d.origin]), [[3, "overflow", "outbox"], [4, "overflow", "outbox"], [6, "overflow", "outbox"], [0, "overflow", "outbox"]]);
      assert.match(dlq.list()[0]?.lastError ?? "", /^outbox full \(5 rows \//);
      assert.deepEqual(ns(outbox.next(10)), [7, 5, 1, 2, 8]);
      assert.deepEqual([outbox.stats().depth, outbox.stats().overflowed, outbox.stats().added], [5, 4, 9]);
    });

    test("overflow in one tick picks the same entries as one by one", async (t) => {
      const { outbox, clock, put, dlq } = await open(t, { maxRows: 5 });
      const plan: Priority[] = [3, 3, 3, 5, 5, 1, 5, 0, 3];
      const results = await put(plan.map((priority, n) => envelope(clock, n, { priority })));
      assert.ok(results.every((r) => !r.duplicate), "each was stored, some straight into the DLQ");
      assert.deepEqual(dlq.list().map(nOf), [3, 4, 6, 0]);
      assert.deepEqual(ns(outbox.next(10)), [7, 5, 1, 2, 8]);
    });

    test("overflow never moves an entry in flight", async (t) => {
      const { outbox, clock, put, dlq } = await open(t, { maxRows: 3 });
      await put([0, 1, 2].map((n) => envelope(clock, n, { priority: 5 })));
      const handed = outbox.next(2);
      await put([envelope(clock, 3, { priority: 5 })]);
      await put([envelope(clock, 4, { priority: 0 })]);
      assert.deepEqual(dlq.list().map(nOf), [2, 3]);
      outbox.sent(handed.map((x) => x.id));
      assert.deepEqual(ns(outbox.next(10)), [4]);
    });

    test("overflow by bytes, and an envelope larger than the whole limit goes straight to the DLQ", async (t) => {
      const { outbox, clock, put, dlq } = await open(t, { maxBytes: 4000 });
      const envs = [0, 1, 2, 3].map((n) => envelope(clock, n, { pad: 1000 }));
      const one = size(envs[0] as Envelope);
      assert.ok(3 * one <= 4000 && 4 * one > 4000, `three of ${one} bytes fit, four do not`);
      for (const e of envs) await put([e]);
      assert.deepEqual(dlq.list().map((d) => [nOf(d), d.reason]), [[0, "overflow"]]);
      assert.deepEqual([outbox.stats().bytes, outbox.stats().overflowed], [3 * one, 1]);
      assert.deepEqual(await put([envelope(clock, 9, { priority: 5, pad: 5000 })]), [{ duplicate: false }]);
      assert.deepEqual(dlq.list().map(nOf), [0, 9]);
      assert.deepEqual(ns(outbox.next(10)), [1, 2, 3]);
    });

    test("stats(): depth, bytes, in flight, age of the oldest and the counters", async (t) => {
      const { outbox, clock, put } = await open(t);
      assert.deepEqual(outbox.stats(), { depth: 0, bytes: 0, inFlight: 0, oldestAgeMs: 0, added: 0, sent: 0, expired: 0, overflowed: 0, poisoned: 0, retried: 0 });
      const envs = [0, 1, 2].map((n) => envelope(clock, n));
      await put(envs);
      clock.advance(1500);
      const late = envelope(clock, 3);
      await put([late]);
      clock.advance(500);
      const [a, b] = outbox.next(2);
      assert.deepEqual(outbox.stats(), {
        depth: 4, bytes: [...envs, late].reduce((sum, e) => sum + size(e), 0), inFlight: 2, oldestAgeMs: 2000,
        added: 4, sent: 0, expired: 0, overflowed: 0, poisoned: 0, retried: 0,
      });
      outbox.sent([a?.id ?? ""]);
      outbox.retry([b?.id ?? ""], "timeout");
      const s = outbox.stats();
      assert.deepEqual([s.depth, s.inFlight, s.oldestAgeMs, s.sent, s.retried], [3, 0, 2000, 1, 1]);
      outbox.sent(outbox.next(10).map((x) => x.id));
      assert.deepEqual([outbox.stats().depth, outbox.stats().bytes, outbox.stats().oldestAgeMs], [0, 0, 0]);
    });

    test("changed() resolves once something is enqueued after the call, not before", async (t) => {
      const { outbox, clock, put } = await open(t);
      let woke = false;
      const changed = outbox.changed().then(() => (woke = true));
      await nextTurn();
      await nextTurn();
      assert.equal(woke, false);
      await put([envelope(clock, 1)]);
      await changed;
      assert.equal(woke, true);
    });

    test("close() commits what is staged; after it enqueue rejects with StorageError and changed() resolves", async (t) => {
      const { outbox, clock } = await open(t);
      const staged = outbox.enqueue(SUBJECT, envelope(clock, 1));
      const waiting = outbox.changed();
      await outbox.close();
      assert.deepEqual(await staged, { duplicate: false });
      await waiting;
      await assert.rejects(outbox.enqueue(SUBJECT, envelope(clock, 2)), StorageError);
      await outbox.changed();
      await outbox.close();
    });
  });

  suite(`dead-letter contract: ${name}`, () => {
    const inbound = (n: number, extra: Partial<DeadLetterInput> = {}): DeadLetterInput => ({
      reason: "invalid", origin: "inbound", data: Buffer.from(`not json ${n}`), ...extra,
    });

    test("add() keeps entries oldest first with what is known, null for what is not", async (t) => {
      const { clock, dlq } = await open(t);
      dlq.add([inbound(0)]);
      clock.advance(10);
      dlq.add([
        inbound(1, { reason: "poison", origin: "outbox", id: "e1", eventName: "telemetry.reading", subject: "s.1", source: "agent://hub/a", attempts: 3, lastError: "boom" }),
        inbound(2, { reason: "expired" }),
      ]);
      const all = dlq.list();
      assert.deepEqual(all.map((d) => json(d.data)), ["not json 0", "not json 1", "not json 2"]);
      assert.ok(all.every((d, i) => i === 0 || d.dlqId > (all[i - 1]?.dlqId ?? Infinity)), "dlqIds grow");
      const [first, second] = all;
      assert.deepEqual(
        [first?.reason, first?.origin, first?.id, first?.eventName, first?.subject, first?.source, first?.attempts, first?.lastError, first?.deadAt],
        ["invalid", "inbound", null, null, null, null, 0, null, clock.now() - 10],
      );
      assert.deepEqual(
        [second?.reason, second?.origin, second?.id, second?.eventName, second?.subject, second?.source, second?.attempts, second?.lastError, second?.deadAt],
        ["poison", "outbox", "e1", "telemetry.reading", "s.1", "agent://hub/a", 3, "boom", clock.now()],
      );
      assert.deepEqual(dlq.get(second?.dlqId ?? 0), second);
      assert.equal(dlq.get(123_456), undefined);
      dlq.add([]);
      assert.equal(dlq.count().total, 3);
    });

    test("list(): filter by reason, page with after and limit", async (t) => {
      const { dlq } = await open(t);
      const reasons = ["invalid", "poison", "invalid", "expired", "invalid", "overflow", "invalid"] as const;
      dlq.add(reasons.map((reason, n) => inbound(n, { reason })));
      const text = (xs: readonly { readonly data: Uint8Array }[]): string[] => xs.map((x) => json(x.data));
      assert.deepEqual(text(dlq.list({ reason: "invalid" })), ["not json 0", "not json 2", "not json 4", "not json 6"]);
      const pages: string[][] = [];
      for (let after = 0; ; ) {
        const page = dlq.list({ reason: "invalid", after, limit: 3 });
        if (page.length === 0) break;
        pages.push(text(page));
        after = page[page.length - 1]?.dlqId ?? Infinity;
      }
      assert.deepEqual(pages, [["not json 0", "not json 2", "not json 4"], ["not json 6"]]);
      assert.deepEqual(text(dlq.list({ limit: 2 })), ["not json 0", "not json 1"]);
      assert.deepEqual(text(dlq.list({ after: dlq.list()[4]?.dlqId ?? 0 })), ["not json 5", "not json 6"]);
    });

    test("count(), remove() and purge() all or by reason", async (t) => {
      const { dlq } = await open(t);
      const reasons = ["invalid", "poison", "expired", "expired", "overflow", "invalid"] as const;
      dlq.add(reasons.map((reason, n) => inbound(n, { reason })));
      assert.deepEqual(dlq.count(), { total: 6, byReason: { poison: 1, expired: 2, invalid: 2, overflow: 1 } });
      const ids = dlq.list().map((d) => d.dlqId);
      assert.equal(dlq.remove([ids[0] ?? 0, ids[1] ?? 0, 999_999]), 2);
      assert.equal(dlq.remove([]), 0);
      assert.equal(dlq.get(ids[0] ?? 0), undefined);
      assert.equal(dlq.purge({ reason: "expired" }), 2);
      assert.deepEqual(dlq.count(), { total: 2, byReason: { poison: 0, expired: 0, invalid: 1, overflow: 1 } });
      assert.equal(dlq.purge(), 2);
      assert.deepEqual(dlq.count(), { total: 0, byReason: { poison: 0, expired: 0, invalid: 0, overflow: 0 } });
    });

    test("beyond maxRows the oldest are deleted, whether added or moved from the outbox", async (t) => {
      const { outbox, clock, put, dlq } = await open(t, {}, 3);
      dlq.add([inbound(0), inbound(1)]);
      dlq.add([inbound(2), inbound(3)]);
      assert.deepEqual(dlq.list().map((d) => json(d.data)), ["not json 1", "not json 2", "not json 3"]);
      await put([envelope(clock, 7), envelope(clock, 8)]);
      outbox.poison(outbox.next(10).map((x) => x.id), "refused");
      assert.deepEqual(dlq.list().map((d) => d.reason), ["invalid", "poison", "poison"]);
      assert.deepEqual(dlq.count().total, 3);
    });
  });
}
