/**
 * The one contract every inbox adapter passes (model: aedes-persistence abstract.js). An adapter's
 * test file calls inboxContract() with a factory for a fresh inbox per test; the factory cleans
 * up after the test itself.
 */
import { strict as assert } from "node:assert";
import { suite, test, type TestContext } from "node:test";
import { HEADER } from "../../abi/envelope.js";
import { ManualClock } from "../core/clock.js";
import { createEnvelope } from "../core/envelope.js";
import { StorageError } from "../core/errors.js";
import { inboxKey, type Inbox } from "./inbox.js";

/** A fresh, empty inbox remembering `window` keys. */
export type MakeInbox = (t: TestContext, window: number) => Inbox;

const keys = (prefix: string, n: number): string[] => Array.from({ length: n }, (_, i) => `${prefix}${i}`);

export function inboxContract(name: string, make: MakeInbox): void {
  suite(`inbox contract: ${name}`, () => {
    test("has() is false for an unknown key and true once it is recorded", async (t) => {
      const inbox = make(t, 100);
      assert.equal(inbox.has("a"), false);
      assert.equal(inbox.size(), 0);
      await inbox.record("a");
      assert.equal(inbox.has("a"), true);
      assert.equal(inbox.has("b"), false);
      assert.equal(inbox.size(), 1);
    });

    test("a key recorded twice, in one tick or in two, is kept once", async (t) => {
      const inbox = make(t, 100);
      await Promise.all([inbox.record("a"), inbox.record("a")]);
      await inbox.record("a");
      await inbox.record("b");
      assert.equal(inbox.size(), 2);
      assert.ok(inbox.has("a") && inbox.has("b"));
    });

    test("the window remembers the newest keys and forgets the oldest first", async (t) => {
      const inbox = make(t, 3);
      for (const key of keys("k", 10)) await inbox.record(key);
      assert.deepEqual(keys("k", 10).filter((k) => inbox.has(k)), ["k7", "k8", "k9"]);
      assert.equal(inbox.size(), 3);
    });

    test("the window holds when one tick records more keys than it", async (t) => {
      const inbox = make(t, 4);
      await Promise.all(keys("k", 10).map((k) => inbox.record(k)));
      assert.deepEqual(keys("k", 10).filter((k) => inbox.has(k)), ["k6", "k7", "k8", "k9"]);
      assert.equal(inbox.size(), 4);
    });

    test("a key recorded again keeps its first place in the window", async (t) => {
      const inbox = make(t, 3);
      for (const key of ["a", "b", "c", "a", "d"]) await inbox.record(key);
      assert.deepEqual(["a", "b", "c", "d"].filter((k) => inbox.has(k)), ["b", "c", "d"]);
      assert.equal(inbox.size(), 3);
    });

    test("a staged key is visible to has() before its commit resolves", async (t) => {
      const inbox = make(t, 100);
      const pending = inbox.record("x");
      assert.equal(inbox.has("x"), true, "seen in the same tick as record()");
      await pending;
      assert.equal(inbox.has("x"), true);
    });

    test("close() commits what is staged; after it record() rejects and has() throws StorageError", async (t) => {
      const inbox = make(t, 100);
      const pending = inbox.record("y");
      await inbox.close();
      await pending;
      await assert.rejects(inbox.record("z"), StorageError);
      assert.throws(() => inbox.has("y"), StorageError);
      await inbox.close();
    });

    test("inboxKey() prefers headers.idempotency_key and falls back to the envelope id", async (t) => {
      const clock = new ManualClock();
      const plain = createEnvelope({ event_name: "demo.cmd", version: 1, payload: {}, source: "test" }, clock);
      const keyed = createEnvelope({ event_name: "demo.cmd", version: 1, payload: {}, source: "test", headers: { [HEADER.idempotencyKey]: "order-42" } }, clock);
      assert.equal(inboxKey(plain), plain.id);
      assert.equal(inboxKey(keyed), "order-42");
      const inbox = make(t, 100);
      await inbox.record(inboxKey(keyed));
      const retried = createEnvelope({ event_name: "demo.cmd", version: 1, payload: {}, source: "test", headers: { [HEADER.idempotencyKey]: "order-42" } }, clock);
      assert.notEqual(retried.id, keyed.id);
      assert.equal(inbox.has(inboxKey(retried)), true, "a retry with a new id but the same key is a duplicate");
      assert.equal(inbox.has(inboxKey(plain)), false);
    });
  });
}
