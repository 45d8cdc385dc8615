import { strict as assert } from "node:assert";
import { test } from "node:test";
import type { Envelope } from "../../abi/envelope.js";
import { createEnvelope } from "../core/envelope.js";
import type { DeadLetterInput, DeadReason } from "../outbox/dead-letters.js";
import { LocalBus } from "../bus/local-bus.js";
import { silentLogger } from "../core/logger.js";
import { MetricsRegistry } from "../core/metrics.js";
import { ApiServer } from "./server.js";
import { TestOutbox, apiOptions, auth, catalog, metricValue, postJson, startApi, waitFor } from "./test-fixture.js";

interface ErrorBody {
  error: { code: string; message: string; issues?: { pointer: string; message: string }[] };
}
interface Item {
  dlq_id: number;
  reason: string;
  origin: string;
  id: string | null;
  event_name: string | null;
  subject: string | null;
  source: string | null;
  attempts: number;
  last_error: string | null;
  dead_at: string;
}
interface Page {
  items: Item[];
  next_after: number | null;
}

const enc = new TextEncoder();

function notify(text: unknown, extra: { ttl_ms?: number; ts?: string } = {}): Envelope {
  const env = createEnvelope({ event_name: "ui.notify", version: 1, payload: { text }, source: "sensor@kitchen" });
  return { ...env, ...extra };
}

function deadOf(env: Envelope, reason: DeadReason, origin: "outbox" | "inbound" = "inbound"): DeadLetterInput {
  return {
    reason, origin, data: enc.encode(JSON.stringify(env)), id: env.id, eventName: env.event_name, source: env.source,
    subject: origin === "outbox" ? `uplink.${env.event_name}` : env.event_name, attempts: 2, lastError: `${reason}: it failed`,
  };
}

async function get(url: string): Promise<{ status: number; body: unknown }> {
  const res = await fetch(url, { headers: auth });
  return { status: res.status, body: await res.json() };
}

async function withDlq(t: Parameters<typeof startApi>[0]) {
  const outbox = new TestOutbox();
  const fixture = await startApi(t, { outbox });
  return { ...fixture, outbox, dlq: outbox.dlq };
}

test("dlq list: items without bytes, oldest first, filtered by reason, paged with after/next_after", async (t) => {
  const { url, dlq } = await withDlq(t);
  const envs = [notify("a"), notify("b"), notify("c"), notify("d")];
  dlq.add([deadOf(envs[0] as Envelope, "poison", "outbox"), deadOf(envs[1] as Envelope, "invalid"), deadOf(envs[2] as Envelope, "poison"), deadOf(envs[3] as Envelope, "expired")]);

  const all = await get(`${url}/api/dlq`);
  assert.equal(all.status, 200);
  const page = all.body as Page;
  assert.deepEqual(page.items.map((i) => i.dlq_id), [1, 2, 3, 4]);
  assert.equal(page.next_after, null);
  const first = page.items[0] as Item;
  assert.deepEqual(Object.keys(first).sort(), ["attempts", "dead_at", "dlq_id", "event_name", "id", "last_error", "origin", "reason", "source", "subject"]);
  assert.deepEqual({ ...first, dead_at: undefined }, {
    dlq_id: 1, reason: "poison", origin: "outbox", id: envs[0]?.id, event_name: "ui.notify", subject: "uplink.ui.notify",
    source: "sensor@kitchen", attempts: 2, last_error: "poison: it failed", dead_at: undefined,
  });
  assert.ok(Math.abs(Date.parse(first.dead_at) - Date.now()) < 60_000, first.dead_at);

  const poison = (await get(`${url}/api/dlq?reason=poison`)).body as Page;
  assert.deepEqual(poison.items.map((i) => i.dlq_id), [1, 3]);

  const p1 = (await get(`${url}/api/dlq?limit=2`)).body as Page;
  assert.deepEqual([p1.items.map((i) => i.dlq_id), p1.next_after], [[1, 2], 2]);
  const p2 = (await get(`${url}/api/dlq?limit=2&after=2`)).body as Page;
  assert.deepEqual([p2.items.map((i) => i.dlq_id), p2.next_after], [[3, 4], 4]);
  const p3 = (await get(`${url}/api/dlq?limit=2&after=4`)).body as Page;
  assert.deepEqual(p3, { items: [], next_after: null });
});

test("dlq list: bad query parameters are 400 E_BAD_REQUEST with a pointer", async (t) => {
  const { url } = await withDlq(t);
  for (const [query, pointer] of [["reason=lost", "/reason"], ["limit=0", "/limit"], ["limit=5000", "/limit"], ["after=-1", "/after"], ["after=x", "/after"], ["limit=1.5", "/limit"]]) {
    const res = await get(`${url}/api/dlq?${query}`);
    assert.equal(res.status, 400, query);
    const e = (res.body as ErrorBody).error;
    assert.equal(e.code, "E_BAD_REQUEST");
    assert.equal(e.issues?.[0]?.pointer, pointer, query);
  }
});

test("dlq show: the item with its envelope, or data_base64 when the bytes are not JSON; 404 and 400 otherwise", async (t) => {
  const { url, dlq, metrics } = await withDlq(t);
  const env = notify("shown");
  dlq.add([deadOf(env, "poison"), { reason: "invalid", origin: "inbound", data: new Uint8Array([0xff, 0x00, 0x7b]), subject: "sensors.x", lastError: "not JSON" }]);

  const one = await get(`${url}/api/dlq/1`);
  assert.equal(one.status, 200);
  const body = one.body as Item & { envelope: unknown };
  assert.equal(body.dlq_id, 1);
  assert.equal(body.reason, "poison");
  assert.deepEqual(body.envelope, env);

  const raw = (await get(`${url}/api/dlq/2`)).body as Item & { data_base64: string; envelope?: unknown };
  assert.equal(raw.envelope, undefined);
  assert.equal(raw.data_base64, Buffer.from([0xff, 0x00, 0x7b]).toString("base64"));
  assert.equal(raw.id, null);
  assert.equal(raw.event_name, null);

  const missing = await get(`${url}/api/dlq/99`);
  assert.equal(missing.status, 404);
  assert.equal((missing.body as ErrorBody).error.code, "E_NOT_FOUND");
  for (const bad of ["abc", "0", "-1", "1e3"]) {
    const res = await get(`${url}/api/dlq/${bad}`);
    assert.equal(res.status, 400, bad);
    assert.equal((res.body as ErrorBody).error.code, "E_BAD_REQUEST");
  }
  // One metrics series for the route, not one per id.
  assert.equal(metricValue(metrics.render(), 'adaos_http_requests_total{route="/api/dlq/{dlq_id}",status="400"}'), 4);
  const deeper = await get(`${url}/api/dlq/1/more`);
  assert.equal(deeper.status, 404);
  const wrongMethod = await fetch(`${url}/api/dlq/1`, { method: "POST", headers: auth });
  assert.equal(wrongMethod.status, 405);
  assert.equal(wrongMethod.headers.get("allow"), "GET");
  await wrongMethod.body?.cancel();
});

test("dlq replay: inbound goes to the bus, outbox origin is re-enqueued with its subject; both leave the DLQ", async (t) => {
  const { url, dlq, bus, outbox } = await withDlq(t);
  const got: Envelope[] = [];
  bus.subscribe("ui.>", (e) => void got.push(e));
  const inbound = notify("again");
  const outgoing = notify("up");
  dlq.add([deadOf(inbound, "poison", "inbound"), deadOf(outgoing, "overflow", "outbox"), deadOf(notify("stay"), "expired")]);

  const res = await postJson(`${url}/api/dlq/replay`, { ids: [1, 2] });
  assert.equal(res.status, 200);
  assert.deepEqual(res.body, { replayed: 2, failed: [], failed_total: 0 });
  await waitFor("delivery", () => got.length === 1);
  assert.deepEqual(got[0], inbound);
  assert.deepEqual(outbox.enqueued, [{ subject: "uplink.ui.notify", envelope: outgoing }]);
  assert.deepEqual(dlq.list().map((e) => e.dlqId), [3]);
});

test("dlq replay: invalid and expired entries stay, with the code and the JSON pointer; unknown ids are reported", async (t) => {
  const { url, dlq, bus } = await withDlq(t);
  const got: Envelope[] = [];
  bus.subscribe("ui.>", (e) => void got.push(e));
  const expired = notify("late", { ts: new Date(Date.now() - 60_000).toISOString(), ttl_ms: 1000 });
  dlq.add([deadOf(notify(5), "invalid"), deadOf(expired, "expired", "outbox"), deadOf(notify("fine"), "invalid")]);

  const res = await postJson(`${url}/api/dlq/replay`, { ids: [1, 2, 3, 42] });
  assert.equal(res.status, 200);
  const body = res.body as { replayed: number; failed: { dlq_id: number; code: string; message: string; issues?: { pointer: string }[] }[]; failed_total: number };
  assert.equal(body.replayed, 1);
  assert.equal(body.failed_total, 3);
  const byId = new Map(body.failed.map((f) => [f.dlq_id, f]));
  assert.equal(byId.get(1)?.code, "E_PAYLOAD_INVALID");
  assert.match(byId.get(1)?.message ?? "", /\/payload\/text must be string/);
  assert.equal(byId.get(1)?.issues?.[0]?.pointer, "/payload/text");
  assert.equal(byId.get(2)?.code, "E_ENVELOPE_EXPIRED");
  assert.equal(byId.get(42)?.code, "E_NOT_FOUND");
  assert.deepEqual(dlq.list().map((e) => e.dlqId), [1, 2], "the failed ones stay");
  await waitFor("the valid one", () => got.length === 1);
});

test("dlq replay by reason and all: only what was selected; a selection must be exactly one of ids, reason, all", async (t) => {
  const { url, dlq } = await withDlq(t);
  dlq.add([deadOf(notify("a"), "poison"), deadOf(notify("b"), "overflow"), deadOf(notify("c"), "poison"), deadOf(notify(1), "overflow")]);
  assert.deepEqual((await postJson(`${url}/api/dlq/replay`, { reason: "poison" })).body, { replayed: 2, failed: [], failed_total: 0 });
  assert.deepEqual(dlq.list().map((e) => e.dlqId), [2, 4]);
  const all = (await postJson(`${url}/api/dlq/replay`, { all: true })).body as { replayed: number; failed_total: number };
  assert.deepEqual([all.replayed, all.failed_total], [1, 1]);
  assert.deepEqual(dlq.list().map((e) => e.dlqId), [4]);

  for (const [body, pointer] of [
    [{}, "/"], [{ ids: [1], all: true }, "/"], [{ all: false }, "/all"], [{ ids: [] }, "/ids"], [{ ids: ["1"] }, "/ids/0"],
    [{ ids: [1, 0] }, "/ids/1"], [{ reason: "lost" }, "/reason"], [{ everything: true }, "/everything"],
  ] as const) {
    const res = await postJson(`${url}/api/dlq/replay`, body);
    assert.equal(res.status, 400, JSON.stringify(body));
    const e = (res.body as ErrorBody).error;
    assert.equal(e.code, "E_BAD_REQUEST");
    assert.equal(e.issues?.[0]?.pointer, pointer, JSON.stringify(body));
  }
  const malformed = await fetch(`${url}/api/dlq/replay`, { method: "POST", headers: { ...auth, "content-type": "application/json" }, body: "{ids:" });
  assert.equal(malformed.status, 400);
  assert.equal(((await malformed.json()) as ErrorBody).error.code, "E_BAD_REQUEST");
});

test("dlq purge: by ids, by reason, all; an empty body is refused (purging everything needs all: true)", async (t) => {
  const { url, dlq } = await withDlq(t);
  dlq.add([deadOf(notify("a"), "poison"), deadOf(notify("b"), "expired"), deadOf(notify("c"), "expired"), deadOf(notify("d"), "invalid"), deadOf(notify("e"), "overflow")]);

  const empty = await postJson(`${url}/api/dlq/purge`, {});
  assert.equal(empty.status, 400);
  assert.match((empty.body as ErrorBody).error.message, /all: true/);
  const noBody = await fetch(`${url}/api/dlq/purge`, { method: "POST", headers: auth });
  assert.equal(noBody.status, 400);
  await noBody.body?.cancel();
  assert.equal(dlq.count().total, 5, "nothing purged by a refused request");

  assert.deepEqual((await postJson(`${url}/api/dlq/purge`, { ids: [1, 99] })).body, { purged: 1 });
  assert.deepEqual((await postJson(`${url}/api/dlq/purge`, { reason: "expired" })).body, { purged: 2 });
  assert.deepEqual(dlq.list().map((e) => e.dlqId), [4, 5]);
  assert.deepEqual((await postJson(`${url}/api/dlq/purge`, { all: true })).body, { purged: 2 });
  assert.equal(dlq.count().total, 0);
});

test("outbox stats: depth, bytes, counters, the DLQ by reason, and the relay's status", async (t) => {
  const outbox = new TestOutbox();
  outbox.stats = () => ({ depth: 12, bytes: 3 * 1024 * 1024, inFlight: 4, oldestAgeMs: 192_345, added: 100, sent: 88, expired: 1, overflowed: 2, poisoned: 3, retried: 5 });
  outbox.dlq.add([deadOf(notify("a"), "poison"), deadOf(notify("b"), "poison"), deadOf(notify("c"), "expired")]);
  const { url } = await startApi(t, { outbox, relayStatus: () => ({ state: "backoff", last_error: "no route" }) });
  const res = await get(`${url}/api/outbox/stats`);
  assert.equal(res.status, 200);
  assert.deepEqual(res.body, {
    depth: 12, bytes: 3 * 1024 * 1024, in_flight: 4, oldest_age_s: 192.345, added: 100, sent: 88, expired: 1, overflowed: 2, poisoned: 3, retried: 5,
    dlq: { total: 3, by_reason: { poison: 2, expired: 1, invalid: 0, overflow: 0 } },
    relay: { state: "backoff", last_error: "no route" },
  });
});

test("outbox stats: no relay, no relay key; a relay status that throws is reported, not a 500", async (t) => {
  const outbox = new TestOutbox();
  const plain = await startApi(t, { outbox });
  assert.equal("relay" in ((await get(`${plain.url}/api/outbox/stats`)).body as object), false);
  const broken = await startApi(t, { outbox, relayStatus: () => { throw new Error("relay gone"); } });
  const res = await get(`${broken.url}/api/outbox/stats`);
  assert.equal(res.status, 200);
  assert.deepEqual((res.body as { relay: unknown }).relay, { error: "relay status failed: relay gone" });
});

test("without an outbox every route answers 404 saying so; without a token 401", async (t) => {
  const { url } = await startApi(t);
  const checks: [string, string, unknown?][] = [
    ["GET", "/api/dlq"], ["GET", "/api/dlq/1"], ["POST", "/api/dlq/replay", { all: true }], ["POST", "/api/dlq/purge", { all: true }], ["GET", "/api/outbox/stats"],
  ];
  for (const [method, path, body] of checks) {
    const init = { method, ...(body === undefined ? {} : { body: JSON.stringify(body) }) };
    const res = await fetch(url + path, { ...init, headers: { ...auth, "content-type": "application/json" } });
    assert.equal(res.status, 404, `${method} ${path}`);
    const e = ((await res.json()) as ErrorBody).error;
    assert.equal(e.code, "E_NOT_FOUND");
    assert.match(e.message, /this agent has no outbox/);
    const anonymous = await fetch(url + path, init);
    assert.equal(anonymous.status, 401, `${method} ${path} without a token`);
    assert.equal(((await anonymous.json()) as ErrorBody).error.code, "E_UNAUTHORIZED");
  }
});

test("a DLQ without the catalog replay validates with is refused at start", async () => {
  const metrics = new MetricsRegistry();
  const bus = new LocalBus({ catalog, logger: silentLogger(), metrics, source: "agent://hub/x" });
  const api = new ApiServer(apiOptions(bus, metrics, { outbox: new TestOutbox() }));
  await assert.rejects(api.start(new AbortController().signal), /dead-letter queue without the event catalog/);
  assert.throws(() => api.url, /not listening/);
});
