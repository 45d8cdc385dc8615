/** Traffic across a failover: requests in flight during a switch, the publish buffer's bound, close. */
import { strict as assert } from "node:assert";
import { test } from "node:test";
import type { Envelope } from "../../abi/envelope.js";
import { TransportClosedError, PayloadTooLargeError, SubjectInvalidError, TimeoutError } from "../core/errors.js";
import { echo, echoReply, ping } from "../transport/contract-support.js";
import { advance, settle, setup } from "./failover-fixture.js";
import type { DropReason } from "./publish-buffer.js";
import { DEFAULT_TIMING } from "./timing.js";

const T = DEFAULT_TIMING;
const n = (e: Envelope): number => (e.payload as { n: number }).n;

test("a request in flight during a switch is sent again on the new link: one reply, the same envelope id", async () => {
  const s = setup();
  await s.connect();
  s.mqtt.responder = echoReply; // the NATS side never answers: the request is in flight when NATS dies
  const request = echo(1);
  let replies = 0;
  const pending = s.tr.request("svc.echo", request, { timeoutMs: 10_000 }).then((m) => (replies++, m));
  await settle();
  s.nats.down();
  await advance(s.clock, T.downGraceMs + 100);
  const reply = await pending;
  assert.equal(reply.envelope.causation_id, request.id);
  assert.deepEqual(s.nats.requests.map((e) => e.id), [request.id]);
  assert.deepEqual(s.mqtt.requests.map((e) => e.id), [request.id], "retried once, with the same id (dedup downstream sees a redelivery)");
  assert.equal(s.metrics.counter("adaos_link_request_retries_total", "").get({ transport: "mqtt" }), 1);
  await advance(s.clock, 20_000);
  assert.equal(replies, 1);
  await s.tr.close();
});

test("a request made while no link is up waits for one within its timeout", async () => {
  const s = setup();
  await s.connect();
  s.mqtt.responder = echoReply;
  s.nats.down();
  await settle();
  const request = echo(2);
  const pending = s.tr.request("svc.echo", request, { timeoutMs: 5000 });
  await advance(s.clock, T.downGraceMs + 100);
  assert.equal((await pending).envelope.causation_id, request.id);
  assert.deepEqual(s.nats.requests, [], "never sent on the link that was down");
  await s.tr.close();
});

test("with no link up until the deadline, the caller gets one TimeoutError", async () => {
  const s = setup();
  await s.connect();
  s.mqtt.reachable = false;
  s.nats.down();
  await settle();
  const t0 = s.clock.now();
  let settled = 0;
  const pending = s.tr.request("svc.echo", echo(3), { timeoutMs: 3000 }).finally(() => settled++);
  const rejected = assert.rejects(pending, (err: Error) => err instanceof TimeoutError && /no link to the hub was up/.test(err.message));
  await advance(s.clock, 2900);
  assert.equal(settled, 0, "not before its timeout");
  await advance(s.clock, 200);
  await rejected;
  assert.ok(s.clock.now() - t0 >= 3000);
  assert.equal(settled, 1);
  await s.tr.close();
});

test("a request nobody answers times out with the links it tried named", async () => {
  const s = setup();
  await s.connect();
  const pending = assert.rejects(s.tr.request("svc.silent", echo(4), { timeoutMs: 1000 }), (err: Error) => err instanceof TimeoutError && /nats:\/\/hub:4222/.test(err.message));
  await advance(s.clock, 1100);
  await pending;
  await s.tr.close();
});

test("the publish buffer is bounded: overflow evicts the lowest priority, oldest first, and reports every drop", async () => {
  const dropped: [number, DropReason][] = [];
  const s = setup({ buffer: { maxMessages: 3 }, onDrop: (_s, e, reason) => void dropped.push([n(e), reason]) });
  await s.connect();
  s.nats.down();
  await settle();
  const withPriority = (i: number, priority: Envelope["priority"]): Envelope => ({ ...ping(i), priority });
  s.tr.publish("ev.a", withPriority(1, 3));
  s.tr.publish("ev.a", withPriority(2, 5));
  s.tr.publish("ev.a", withPriority(3, 1));
  s.tr.publish("ev.a", withPriority(4, 3));
  s.tr.publish("ev.a", withPriority(5, 3));
  assert.deepEqual(dropped, [[2, "overflow"], [1, "overflow"]]);
  assert.equal(s.metrics.counter("adaos_link_buffer_dropped_total", "").get({ reason: "overflow" }), 2);
  s.nats.up();
  await settle();
  assert.deepEqual(s.nats.published.map((p) => n(p.envelope)), [3, 4, 5], "the rest, in order, on the link reconnected in place");
  await s.tr.close();
});

test("publishes refused at once even while buffering: bad subjects, oversized envelopes, after close", async () => {
  const s = setup({ maxMessageBytes: 2048 });
  await s.connect();
  s.nats.down();
  await settle();
  assert.throws(() => s.tr.publish("a..b", ping(1)), SubjectInvalidError);
  assert.throws(() => s.tr.publish("a.b", ping(1, "x".repeat(4096))), PayloadTooLargeError);
  await s.tr.close();
  assert.throws(() => s.tr.publish("a.b", ping(1)), TransportClosedError);
});

test("close(): buffered publishes are reported as dropped, pending requests fail with TransportClosedError, feeds end", async () => {
  const dropped: DropReason[] = [];
  const s = setup({ onDrop: (_s, _e, reason) => void dropped.push(reason) });
  await s.connect();
  const inFlight = assert.rejects(s.tr.request("svc.silent", echo(5), { timeoutMs: 60_000 }), TransportClosedError);
  await settle();
  s.nats.down();
  await settle();
  s.tr.publish("ev.a", ping(1));
  const waiting = assert.rejects(s.tr.request("svc.echo", echo(6), { timeoutMs: 60_000 }), TransportClosedError);
  await s.tr.close();
  await inFlight;
  await waiting;
  assert.deepEqual(dropped, ["closed"]);
  assert.equal(await s.tr.closed(), undefined);
  await settle();
  assert.equal(s.statuses.at(-1), "closed");
  assert.equal(s.nats.live.length + s.mqtt.live.length, 0, "every adapter closed");
  await s.tr.close();
});

test("unsubscribe stops delivery at once, on the active link and after a switch", async () => {
  const s = setup();
  await s.connect();
  const got: number[] = [];
  const sub = await s.tr.subscribe("ev.>", (m) => void got.push(n(m.envelope)));
  s.nats.deliver("ev.a", ping(1));
  sub.unsubscribe();
  s.nats.deliver("ev.a", ping(2));
  s.nats.down();
  await advance(s.clock, T.downGraceMs + 100);
  s.mqtt.deliver("ev.a", ping(3));
  await settle();
  assert.deepEqual(got, [1]);
  assert.equal(s.mqtt.live[0]?.subs.length, 0, "not replayed");
  await s.tr.close();
});
