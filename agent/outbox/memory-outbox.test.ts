/** The outbox and dead-letter contracts against the in-memory outbox. */
import { strict as assert } from "node:assert";
import { test } from "node:test";
import { ManualClock } from "../core/clock.js";
import { MemoryDeadLetters } from "./memory-dead-letters.js";
import { MemoryOutbox } from "./memory-outbox.js";
import { outboxContract } from "./outbox-contract.js";

outboxContract("memory", (t, opts) => {
  const outbox = new MemoryOutbox(opts);
  t.after(() => outbox.close());
  return outbox;
});

test("the memory dead-letter queue counts what it trimmed", () => {
  const dlq = new MemoryDeadLetters({ maxRows: 2, clock: new ManualClock() });
  dlq.add([1, 2, 3, 4, 5].map((n) => ({ reason: "invalid", origin: "inbound", data: Buffer.from([n]) })));
  assert.equal(dlq.trimmed, 3);
  assert.deepEqual(dlq.list().map((d) => d.data[0]), [4, 5]);
});
