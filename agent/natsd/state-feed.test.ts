import { strict as assert } from "node:assert";
import { test } from "node:test";
import { StateFeed, type NatsdState } from "./state-feed.js";

test("readers get the current state, then every change, and end at close()", async () => {
  const feed = new StateFeed(() => undefined);
  feed.push({ type: "down", reason: "starting" });
  const seen: NatsdState[] = [];
  const reading = (async () => {
    for await (const s of feed) seen.push(s);
  })();
  feed.push({ type: "up", url: "nats://127.0.0.1:4222" });
  await new Promise((r) => setImmediate(r));
  feed.push({ type: "down", reason: "killed by SIGKILL" });
  feed.close();
  await reading;
  assert.deepEqual(seen.map((s) => s.type), ["down", "up", "down"]);
  feed.push({ type: "up", url: "x" });
  assert.equal(feed.current?.type, "down", "nothing after close");
});

test("a throwing listener is reported and the others still run; unsubscribe works", () => {
  const errors: unknown[] = [];
  const feed = new StateFeed((e) => errors.push(e));
  const got: string[] = [];
  feed.on(() => {
    throw new Error("bad listener");
  });
  const off = feed.on((s) => got.push(s.type));
  feed.push({ type: "unavailable", reason: "no binary" });
  off();
  feed.push({ type: "up", url: "x" });
  assert.deepEqual(got, ["unavailable"]);
  assert.equal(errors.length, 2);
});

test("a reader that stopped reading holds at most the last 64 changes", async () => {
  const feed = new StateFeed(() => undefined);
  const it = feed[Symbol.asyncIterator]();
  for (let i = 0; i < 100; i++) feed.push({ type: "down", reason: String(i) });
  const first = await it.next();
  assert.deepEqual(first.value, { type: "down", reason: "36" });
  await it.return?.();
});
