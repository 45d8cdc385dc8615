import { strict as assert } from "node:assert";
import { connect } from "node:net";
import { test } from "node:test";
import type { Envelope } from "../../abi/envelope.js";
import { ManualClock } from "../core/clock.js";
import { createEnvelope } from "../core/envelope.js";
import { SseClient, auth, busSubscriptions, metricValue, postJson, startApi, waitFor } from "./test-fixture.js";

interface ErrorBody {
  error: { code: string; message: string; issues?: { pointer: string; message: string }[] };
}

test("publish: the short form becomes an envelope with the API's source and tenant; 202 accepted", async (t) => {
  const { url, bus } = await startApi(t);
  const got: Envelope[] = [];
  bus.subscribe("ui.>", (e) => void got.push(e));
  const res = await postJson(`${url}/api/events/publish`, { event_name: "ui.notify", version: 1, payload: { text: "hello" }, priority: 1, headers: { idempotency_key: "k1" } });
  assert.equal(res.status, 202);
  const body = res.body as { id: string; status: string; matched: number };
  assert.equal(body.status, "accepted");
  assert.equal(body.matched, 1);
  await waitFor("delivery", () => got.length === 1);
  const env = got[0] as Envelope;
  assert.equal(env.id, body.id);
  assert.equal(env.event_name, "ui.notify");
  assert.equal(env.kind, "event");
  assert.equal(env.source, "api@hub-test");
  assert.equal(env.tenant, "home");
  assert.equal(env.priority, 1);
  assert.equal(env.correlation_id, env.id);
  assert.deepEqual(env.headers, { idempotency_key: "k1" });
  assert.deepEqual(env.payload, { text: "hello" });
});

test("publish: a full envelope passes through as sent; the same id again is 200 duplicate", async (t) => {
  const { url, bus } = await startApi(t);
  const got: Envelope[] = [];
  bus.subscribe("test.pinged", (e) => void got.push(e));
  const sent = createEnvelope({ event_name: "test.pinged", version: 1, payload: { n: 7 }, source: "sensor@kitchen", tenant: "other" });
  const first = await postJson(`${url}/api/events/publish`, sent);
  assert.equal(first.status, 202);
  assert.deepEqual(first.body, { id: sent.id, status: "accepted", matched: 1 });
  const again = await postJson(`${url}/api/events/publish`, sent);
  assert.equal(again.status, 200);
  assert.deepEqual(again.body, { id: sent.id, status: "duplicate" });
  await waitFor("delivery", () => got.length === 1);
  assert.deepEqual(got[0], sent);
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(got.length, 1, "the duplicate was not delivered");
});

test("publish: a JSON array is a batch published in order, one result per item; a bad item does not stop the rest", async (t) => {
  const { url, bus } = await startApi(t);
  const got: number[] = [];
  bus.subscribe("test.pinged", (e) => void got.push((e.payload as { n: number }).n));
  const dup = createEnvelope({ event_name: "test.pinged", version: 1, payload: { n: 2 }, source: "s@x" });
  const res = await postJson(`${url}/api/events/publish`, [
    { event_name: "test.pinged", payload: { n: 1 } },
    dup,
    { event_name: "test.pinged", payload: { n: "three" } },
    dup,
    7,
    { event_name: "test.pinged", payload: { n: 4 } },
  ]);
  assert.equal(res.status, 200);
  const results = (res.body as { results: { status: string; id?: string; error?: { code: string } }[] }).results;
  assert.deepEqual(results.map((r) => r.status), ["accepted", "accepted", "rejected", "duplicate", "rejected", "accepted"]);
  assert.deepEqual(results.map((r) => r.error?.code), [undefined, undefined, "E_PAYLOAD_INVALID", undefined, "E_BAD_REQUEST", undefined]);
  assert.equal(results[1]?.id, dup.id);
  await waitFor("delivery", () => got.length === 3);
  assert.deepEqual(got, [1, 2, 4]);
  const scalar = await postJson(`${url}/api/events/publish`, "hello");
  assert.equal(scalar.status, 400);
});

test("publish: invalid events are 400 with the catalog code and JSON pointers", async (t) => {
  const { url } = await startApi(t);
  const publish = async (body: unknown) => {
    const res = await postJson(`${url}/api/events/publish`, body);
    assert.equal(res.status, 400, JSON.stringify(body));
    return (res.body as ErrorBody).error;
  };
  const payload = await publish({ event_name: "ui.notify", version: 1, payload: { text: 5 } });
  assert.equal(payload.code, "E_PAYLOAD_INVALID");
  assert.deepEqual(payload.issues, [{ pointer: "/payload/text", message: "must be string" }]);

  const missing = await publish({ event_name: "ui.notify", payload: {} });
  assert.equal(missing.code, "E_PAYLOAD_INVALID");
  assert.deepEqual(missing.issues, [{ pointer: "/payload/text", message: "is required" }]);

  const unknown = await publish({ event_name: "ui.nothing", payload: {} });
  assert.equal(unknown.code, "E_EVENT_UNKNOWN");
  assert.equal(unknown.issues?.[0]?.pointer, "/event_name");

  const priority = await publish({ event_name: "ui.notify", payload: { text: "x" }, priority: 9 });
  assert.equal(priority.code, "E_ENVELOPE_INVALID");
  assert.equal(priority.issues?.[0]?.pointer, "/priority");

  const kind = await publish({ event_name: "test.do", payload: {} });
  assert.equal(kind.code, "E_ENVELOPE_INVALID");
  assert.equal(kind.issues?.[0]?.pointer, "/kind");

  const shape = await publish({ event_name: 3, payload: [], source: "me", "a/b": 1 });
  assert.equal(shape.code, "E_BAD_REQUEST");
  assert.deepEqual(shape.issues?.map((i) => i.pointer), ["/source", "/a~1b", "/event_name", "/payload"]);

  const full = await publish({ ...createEnvelope({ event_name: "ui.notify", version: 1, payload: { text: "x" }, source: "s" }), id: "nope" });
  assert.equal(full.code, "E_ENVELOPE_INVALID");
  assert.equal(full.issues?.[0]?.pointer, "/id");
});

test("stream: SSE headers, a connected comment, and only envelopes matching the pattern", async (t) => {
  const { url } = await startApi(t);
  const ui = await SseClient.open(`${url}/api/events/stream?pattern=${encodeURIComponent("ui.>")}`);
  const all = await SseClient.open(`${url}/api/events/stream`);
  t.after(() => {
    ui.close();
    all.close();
  });
  const res = ui.response;
  assert.equal(res?.statusCode, 200);
  assert.equal(res?.headers["content-type"], "text/event-stream; charset=utf-8");
  assert.equal(res?.headers["cache-control"], "no-cache");
  assert.equal(res?.headers["x-accel-buffering"], "no");
  await waitFor("the connected comments", () => ui.comments.includes("connected") && all.comments.includes("connected"));

  const a = await postJson(`${url}/api/events/publish`, { event_name: "test.pinged", payload: { n: 1 } });
  const b = await postJson(`${url}/api/events/publish`, { event_name: "ui.notify", payload: { text: "hi" } });
  assert.deepEqual([a.status, b.status], [202, 202]);
  await waitFor("both events on the catch-all stream", () => all.events.length === 2);
  await waitFor("the ui event", () => ui.events.length === 1);

  const ev = ui.events[0];
  assert.equal(ev?.event, "ui.notify");
  assert.equal(ev.id, (b.body as { id: string }).id);
  const env = JSON.parse(ev.data) as Envelope;
  assert.equal(env.id, ev.id);
  assert.deepEqual(env.payload, { text: "hi" });
  assert.deepEqual(all.events.map((e) => e.event), ["test.pinged", "ui.notify"]);
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(ui.events.length, 1, "test.pinged did not reach the ui.> stream");
});

test("stream: an invalid pattern is 400 E_SUBJECT_INVALID before any stream starts", async (t) => {
  const { url, api } = await startApi(t);
  for (const pattern of ["ui.>.x", "", "ui..x", "a b"]) {
    const res = await fetch(`${url}/api/events/stream?pattern=${encodeURIComponent(pattern)}`, { headers: auth });
    assert.equal(res.status, 400, pattern);
    assert.match(res.headers.get("content-type") ?? "", /^application\/json/);
    assert.equal(((await res.json()) as ErrorBody).error.code, "E_SUBJECT_INVALID");
  }
  assert.equal(api.streams, 0);
});

test("stream: a client that disconnects leaves no subscription behind", async (t) => {
  const { url, api, metrics } = await startApi(t);
  const before = busSubscriptions(metrics);
  const clients = await Promise.all([1, 2, 3].map(() => SseClient.open(`${url}/api/events/stream?pattern=ui.*`)));
  await waitFor("three streams", () => api.streams === 3);
  assert.equal(busSubscriptions(metrics), before + 3);
  assert.equal(metricValue(metrics.render(), "adaos_sse_clients"), 3);
  for (const c of clients) c.close();
  await waitFor("the subscriptions to go", () => busSubscriptions(metrics) === before);
  assert.equal(api.streams, 0);
  assert.equal(metricValue(metrics.render(), "adaos_sse_clients"), 0);
  // Publishing after the clients left reaches nobody and harms nothing.
  const res = await postJson(`${url}/api/events/publish`, { event_name: "ui.notify", payload: { text: "anyone?" } });
  assert.deepEqual(res.body, { id: (res.body as { id: string }).id, status: "accepted", matched: 0 });
});

test("stream: heartbeat comments follow the (injected) clock", async (t) => {
  const clock = new ManualClock();
  const { url } = await startApi(t, { clock, sseHeartbeatMs: 1000 });
  const client = await SseClient.open(`${url}/api/events/stream`);
  t.after(() => client.close());
  await waitFor("connected", () => client.comments.includes("connected"));
  clock.advance(999);
  await new Promise((r) => setTimeout(r, 20));
  assert.deepEqual(client.comments, ["connected"]);
  clock.advance(1);
  await waitFor("a heartbeat", () => client.comments.length === 2);
  clock.advance(2000);
  await waitFor("two more", () => client.comments.length === 4);
  assert.deepEqual(client.comments, ["connected", "heartbeat", "heartbeat", "heartbeat"]);
});

test("stream: a client that stops reading has events dropped and counted, memory stays bounded", async (t) => {
  const bound = 64 * 1024;
  const { url, api, metrics, bus } = await startApi(t, { sseMaxBufferBytes: bound, maxBodyBytes: 1 << 20 });
  const { port } = new URL(url);
  // A raw socket that sends the request and then never reads.
  const socket = connect(Number(port), "127.0.0.1");
  t.after(() => socket.destroy());
  socket.write(`GET /api/events/stream?pattern=test.pinged HTTP/1.1\r\nhost: x\r\nx-adaos-token: ${auth["x-adaos-token"]}\r\n\r\n`);
  socket.pause();
  await waitFor("the stream", () => api.streams === 1);

  const pad = "p".repeat(16 * 1024);
  const value = (name: string) => metricValue(metrics.render(), name) ?? 0;
  const burst = async (n: number): Promise<void> => {
    for (let i = 0; i < n; i++) bus.publish(createEnvelope({ event_name: "test.pinged", version: 1, payload: { n: i, pad }, source: "t@x" }));
    await waitFor("the burst to be handled", () => value("adaos_bus_pending") === 0);
  };
  // The kernel's socket buffers take some megabytes first. Once they are full, a whole burst is
  // dropped: nothing more is queued in the agent for this client.
  let rounds = 0;
  for (;;) {
    const sentBefore = value("adaos_sse_sent_total");
    const droppedBefore = value("adaos_sse_dropped_total");
    await burst(50);
    if (value("adaos_sse_sent_total") === sentBefore) {
      assert.equal(value("adaos_sse_dropped_total"), droppedBefore + 50);
      break;
    }
    assert.ok(++rounds < 200, "the slow client never had events dropped");
  }
  assert.ok(value("adaos_sse_sent_total") > 0, "events were written until the bound was hit");
  assert.equal(api.streams, 1, "the slow client is still connected");

  // When the client reads again, events come with notes of how many it missed since the last
  // one it got; once it has caught up, the notes add up to every drop.
  let carry = "";
  let noted = 0;
  socket.setEncoding("utf8");
  socket.on("data", (text: string) => {
    const seen = carry + text;
    for (const m of seen.matchAll(/: dropped (\d+)\n\n/g)) {
      if (m.index + m[0].length > carry.length) noted += Number(m[1]);
    }
    carry = seen.slice(-40);
  });
  socket.resume();
  for (let i = 0; i < 500 && noted !== value("adaos_sse_dropped_total"); i++) {
    bus.publish(createEnvelope({ event_name: "test.pinged", version: 1, payload: { n: -1 }, source: "t@x" }));
    await new Promise((r) => setTimeout(r, 10));
  }
  assert.equal(noted, value("adaos_sse_dropped_total"));
});
