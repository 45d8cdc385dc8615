import { strict as assert } from "node:assert";
import { test } from "node:test";
import { ManualClock } from "./clock.js";
import { createEnvelope, deriveEnvelope, expiresAt, isExpired } from "./envelope.js";
import { uuidv7, uuidv7Time } from "./ids.js";

test("uuidv7 ids are well-formed, carry their time and strictly increase", () => {
  const t = Date.UTC(2026, 10, 22, 5, 0, 0);
  const ids = Array.from({ length: 5000 }, () => uuidv7(t));
  for (const id of ids.slice(0, 10)) assert.match(id, /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  assert.equal(uuidv7Time(ids[0] ?? ""), t);
  for (let i = 1; i < ids.length; i++) assert.ok((ids[i - 1] ?? "") < (ids[i] ?? ""), `ids sort in creation order at ${i}`);
  assert.equal(new Set(ids).size, ids.length);
  assert.ok(uuidv7(t - 1000) > (ids.at(-1) ?? ""), "a clock step back does not break monotonicity");
});

test("a root envelope is its own trace and gets the v1 defaults", () => {
  const clock = new ManualClock(Date.UTC(2026, 0, 1));
  const e = createEnvelope({ event_name: "ui.notify", version: 1, payload: { text: "hi" }, source: "agent://hub/h1" }, clock);
  assert.equal(e.correlation_id, e.id);
  assert.equal(e.ts, "2026-01-01T00:00:00.000Z");
  assert.equal(e.kind, "event");
  assert.equal(e.priority, 3);
  assert.equal(e.tenant, "default");
  assert.deepEqual(e.headers, {});
  assert.equal("causation_id" in e, false);
  assert.equal("ttl_ms" in e, false);
});

test("a derived envelope inherits correlation, tenant, session and priority, and points at its cause", () => {
  const cause = createEnvelope({ event_name: "voice.input", version: 1, payload: {}, source: "mic@h1", tenant: "home", session_id: "s1", priority: 1 });
  const child = deriveEnvelope(cause, { event_name: "nlp.intent.detected", version: 1, payload: {}, source: "nlp@h1" });
  assert.equal(child.correlation_id, cause.correlation_id);
  assert.equal(child.causation_id, cause.id);
  assert.equal(child.tenant, "home");
  assert.equal(child.session_id, "s1");
  assert.equal(child.priority, 1);
  const grandchild = deriveEnvelope(child, { event_name: "ui.say", version: 1, payload: {}, source: "x", priority: 4 });
  assert.equal(grandchild.correlation_id, cause.id, "the trace id survives any depth");
  assert.equal(grandchild.priority, 4, "priority can be overridden");
});

test("expiry follows ts + ttl_ms", () => {
  const clock = new ManualClock();
  const e = createEnvelope({ event_name: "a.b", version: 1, payload: {}, source: "s", ttl_ms: 1000 }, clock);
  assert.equal(expiresAt(e), clock.now() + 1000);
  assert.equal(isExpired(e, clock.now() + 999), false);
  assert.equal(isExpired(e, clock.now() + 1000), true);
  assert.equal(isExpired(createEnvelope({ event_name: "a.b", version: 1, payload: {}, source: "s" }), Number.MAX_SAFE_INTEGER), false);
});
