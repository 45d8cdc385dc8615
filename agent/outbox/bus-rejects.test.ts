import { strict as assert } from "node:assert";
import { test } from "node:test";
import { LocalBus } from "../bus/local-bus.js";
import { ManualClock } from "../core/clock.js";
import { createEnvelope } from "../core/envelope.js";
import { EnvelopeExpiredError } from "../core/errors.js";
import { silentLogger } from "../core/logger.js";
import { MetricsRegistry } from "../core/metrics.js";
import { precompiledCatalog } from "../registry/precompiled.js";
import { busRejectsToDlq } from "./bus-rejects.js";
import { MemoryDeadLetters } from "./memory-dead-letters.js";

test("an expired envelope is kept in the DLQ once — refused at publish, or expired while two subscribers waited", async () => {
  const clock = new ManualClock(Date.parse("2026-11-22T10:00:00Z"));
  const dlq = new MemoryDeadLetters({ maxRows: 100, clock });
  const bus = new LocalBus({ catalog: precompiledCatalog(), logger: silentLogger(), metrics: new MetricsRegistry(), source: "agent://hub/h", clock, onReject: busRejectsToDlq(dlq, silentLogger()) });
  const notify = (ttl_ms: number) => createEnvelope({ event_name: "ui.notify", version: 1, source: "s@h", payload: { text: "hi" }, ttl_ms }, clock);

  const stale = notify(1000);
  clock.advance(2000);
  assert.throws(() => bus.publish(stale), EnvelopeExpiredError);
  assert.throws(() => bus.publish(stale), EnvelopeExpiredError);

  const got: string[] = [];
  bus.subscribe("ui.notify", (e) => void got.push(e.id));
  bus.subscribe("ui.*", (e) => void got.push(e.id));
  const late = notify(500);
  bus.publish(late);
  clock.advance(1000); // expires before the subscribers' queues are drained
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(got, []);

  const dead = dlq.list();
  assert.deepEqual(dead.map((d) => [d.id, d.reason, d.origin]), [[stale.id, "expired", "inbound"], [late.id, "expired", "inbound"]]);
  assert.equal((JSON.parse(Buffer.from(dead[1]?.data ?? []).toString()) as { id: string }).id, late.id);
});
