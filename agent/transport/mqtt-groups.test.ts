import { strict as assert } from "node:assert";
import { test } from "node:test";
import { silentLogger } from "../core/logger.js";
import { GroupElection, PRESENCE_FILTER, presenceTopic } from "./mqtt-groups.js";

/**
 * A fake broker for presence records: retained store, in-order asynchronous delivery to every
 * subscriber (what the election relies on), and a "will" that erases a member's record.
 */
class FakeBroker {
  readonly retained = new Map<string, string>();
  readonly members = new Map<string, GroupElection>();
  readonly subscribed = new Set<string>();

  join(id: string): GroupElection {
    const election = new GroupElection(id, {
      publishRetained: async (topic, payload) => {
        await Promise.resolve();
        if (payload === "") this.retained.delete(topic);
        else this.retained.set(topic, payload);
        this.#deliver(topic, payload);
      },
      subscribe: async (filter) => {
        assert.equal(filter, PRESENCE_FILTER);
        await Promise.resolve();
        this.subscribed.add(id);
        for (const [topic, payload] of this.retained) election.onPresence(topic, Buffer.from(payload));
      },
    }, silentLogger());
    this.members.set(id, election);
    return election;
  }

  /** The broker fires a dead member's will: an empty retained record. */
  will(id: string): void {
    this.members.delete(id);
    this.subscribed.delete(id);
    this.retained.delete(presenceTopic(id));
    this.#deliver(presenceTopic(id), "");
  }

  #deliver(topic: string, payload: string): void {
    for (const id of this.subscribed) this.members.get(id)?.onPresence(topic, Buffer.from(payload));
  }
}

const subject = (s: string): string[] => s.split(".");
const payloads = (n: number): Buffer[] => Array.from({ length: n }, (_, i) => Buffer.from(`{"id":"${i}-${(i * 2654435761) >>> 0}"}`));

function owners(broker: FakeBroker, queue: string, subj: string, msgs: readonly Buffer[]): string[][] {
  return msgs.map((p) => [...broker.members].filter(([, e]) => e.owns(queue, subject(subj), p)).map(([id]) => id));
}

test("each message has exactly one owner among the members, and the shares are even", async () => {
  const broker = new FakeBroker();
  for (const id of ["a", "b", "c"]) await broker.join(id).join("workers", "jobs.*");
  const result = owners(broker, "workers", "jobs.run", payloads(3000));
  assert.ok(result.every((o) => o.length === 1), "exactly one owner each");
  for (const id of ["a", "b", "c"]) {
    const share = result.filter((o) => o[0] === id).length / 3000;
    assert.ok(share > 0.25 && share < 0.42, `${id} took ${(share * 100).toFixed(1)}%`);
  }
});

test("a member leaving moves only its own share (rendezvous hashing)", async () => {
  const broker = new FakeBroker();
  const [a, b, c] = ["a", "b", "c"].map((id) => broker.join(id));
  for (const e of [a, b, c]) await e?.join("workers", "jobs.*");
  const msgs = payloads(1000);
  const before = owners(broker, "workers", "jobs.run", msgs);
  c?.leave("workers", "jobs.*");
  await new Promise((r) => setTimeout(r, 10));
  const after = owners(broker, "workers", "jobs.run", msgs);
  after.forEach((o, i) => {
    assert.equal(o.length, 1);
    if (before[i]?.[0] !== "c") assert.equal(o[0], before[i]?.[0], "a and b keep theirs");
    else assert.notEqual(o[0], "c");
  });
});

test("a member takes nothing until the broker has delivered its own record back", async () => {
  const broker = new FakeBroker();
  await broker.join("a").join("workers", "jobs.*");
  const b = broker.join("b");
  const joining = b.join("workers", "jobs.*");
  const msgs = payloads(200);
  assert.ok(owners(broker, "workers", "jobs.run", msgs).every((o) => o.length === 1 && o[0] === "a"), "before the echo: a alone");
  await joining;
  assert.ok(owners(broker, "workers", "jobs.run", msgs).some((o) => o[0] === "b"), "after the echo: b takes a share");
});

test("a will (empty record) hands the dead member's share to the rest", async () => {
  const broker = new FakeBroker();
  for (const id of ["a", "b"]) await broker.join(id).join("workers", "jobs.*");
  broker.will("b");
  assert.ok(owners(broker, "workers", "jobs.run", payloads(200)).every((o) => o.length === 1 && o[0] === "a"));
});

test("groups are per queue name across patterns (as NATS), and independent between queue names", async () => {
  const broker = new FakeBroker();
  await broker.join("a").join("q", "jobs.*");
  await broker.join("b").join("q", "jobs.run");
  await broker.join("c").join("other", "jobs.>");
  const run = owners(broker, "workers-unknown", "jobs.run", payloads(10));
  assert.ok(run.every((o) => o.length === 0), "no member of an unknown queue");
  const q = owners(broker, "q", "jobs.run", payloads(300));
  assert.ok(q.every((o) => o.length === 1 && (o[0] === "a" || o[0] === "b")), "one of a or b for jobs.run");
  assert.ok(q.some((o) => o[0] === "a") && q.some((o) => o[0] === "b"));
  assert.ok(owners(broker, "q", "jobs.stop", payloads(50)).every((o) => o.length === 1 && o[0] === "a"), "only a's pattern matches jobs.stop");
  assert.ok(owners(broker, "other", "jobs.run", payloads(50)).every((o) => o.length === 1 && o[0] === "c"));
});

test("malformed records are ignored; a reconnect forgets the views and re-announces", async () => {
  const broker = new FakeBroker();
  const a = broker.join("a");
  await a.join("workers", "jobs.*");
  for (const bad of ["{", "[]", '{"v":1,"groups":[["q"]]}', '{"v":1,"groups":[["q","a.>.b"]]}']) a.onPresence(presenceTopic("x"), Buffer.from(bad));
  assert.ok(owners(broker, "workers", "jobs.run", payloads(50)).every((o) => o[0] === "a"));
  a.onConnect();
  assert.ok(owners(broker, "workers", "jobs.run", payloads(5)).every((o) => o.length === 0), "views cleared until records come again");
  await new Promise((r) => setTimeout(r, 10));
  assert.ok(owners(broker, "workers", "jobs.run", payloads(5)).every((o) => o[0] === "a"), "its own record came back");
  assert.ok(broker.retained.has(presenceTopic("a")));
  await a.withdraw();
  assert.equal(broker.retained.has(presenceTopic("a")), false, "withdraw() erases the record");
});
