/** The users watch with a fake store, a fake reload and a manual clock (the real thing: test/nats-credentials.test.ts). */
import { strict as assert } from "node:assert";
import { test } from "node:test";
import { captureLog } from "../broker/log-capture.js";
import { REVOCATION_CHECK_MS } from "../broker/credentials-store.js";
import { ManualClock } from "../core/clock.js";
import { NatsUsersWatch, type MembersSource } from "./users-watch.js";
import { hubUsers, type MemberKey, type NatsUser } from "./users.js";

const settle = () => new Promise<void>((r) => setImmediate(r));
const TV: MemberKey = { nodeId: "tv", publicKey: "UTV" };
const LAMP: MemberKey = { nodeId: "lamp", publicKey: "ULAMP" };

class FakeStore implements MembersSource {
  members: MemberKey[] = [];
  fail: Error | undefined;
  closed = 0;
  activeMembers(): MemberKey[] {
    if (this.fail !== undefined) throw this.fail;
    return this.members;
  }
  close(): void {
    this.closed++;
  }
}

function setup(t: { after(fn: () => Promise<void>): void }, initial: MemberKey[] = []) {
  const clock = new ManualClock();
  const store = new FakeStore();
  store.members = [...initial];
  const log = captureLog();
  const reloads: NatsUser[][] = [];
  let answer: () => Promise<boolean> = () => Promise.resolve(true);
  const usersOf = (members: readonly MemberKey[]) => hubUsers({ hubId: "h", hubPassword: "pw", token: "subnet-token-0123456789", members });
  const watch = new NatsUsersWatch({
    open: () => store,
    usersOf,
    initial: usersOf(initial),
    reload: (users) => (reloads.push([...users]), answer()),
    logger: log.logger,
    clock,
  });
  t.after(() => watch.stop());
  /** Let one check interval pass and the check finish. */
  const interval = async (): Promise<void> => {
    clock.advance(REVOCATION_CHECK_MS);
    await settle();
  };
  return { clock, store, log, reloads, watch, interval, answer: (fn: () => Promise<boolean>) => (answer = fn) };
}

const members = (users: readonly NatsUser[]): string[] => users.filter((u) => u.role === "member").map((u) => ("nkey" in u ? `${u.nodeId}:${u.nkey}` : `${u.nodeId}:token`));

test("nothing changed: no reload, however many checks", async (t) => {
  const { watch, interval, reloads } = setup(t, [TV]);
  await watch.start(new AbortController().signal);
  for (let i = 0; i < 5; i++) await interval();
  assert.equal(reloads.length, 0);
});

test("a member added, re-issued, revoked: one reload each, within one check interval", async (t) => {
  const { watch, interval, reloads, store, clock, log } = setup(t, [TV]);
  await watch.start(new AbortController().signal);
  store.members = [LAMP, TV];
  clock.advance(REVOCATION_CHECK_MS - 1);
  await settle();
  assert.equal(reloads.length, 0, "not before the interval");
  clock.advance(1);
  await settle();
  assert.deepEqual(reloads.map(members), [["lamp:ULAMP", "tv:UTV"]]);
  assert.deepEqual(log.matching("follow the node credentials").map((l) => [l.added, l.removed]), [[["lamp"], []]]);
  await interval();
  assert.equal(reloads.length, 1, "applied: not again");

  store.members = [LAMP, { nodeId: "tv", publicKey: "UTV2" }];
  await interval();
  assert.deepEqual(reloads.map(members).at(-1), ["lamp:ULAMP", "tv:UTV2"]);
  assert.deepEqual(log.matching("follow the node credentials").map((l) => [l.added, l.removed]).at(-1), [["tv"], ["tv"]]);

  store.members = [LAMP];
  await interval();
  assert.deepEqual(reloads.map(members).at(-1), ["lamp:ULAMP"]);
  assert.equal(reloads.length, 3);
  assert.ok(reloads.every((users) => users[0]?.role === "hub"), "the hub's own user always first");
});

test("a set the server refused is not offered again; the next change is", async (t) => {
  const { watch, interval, reloads, store, answer } = setup(t);
  await watch.start(new AbortController().signal);
  answer(() => Promise.resolve(false));
  store.members = [TV];
  await interval();
  await interval();
  assert.equal(reloads.length, 1);
  answer(() => Promise.resolve(true));
  store.members = [TV, LAMP];
  await interval();
  assert.equal(reloads.length, 2);
  store.members = [TV];
  await interval();
  assert.equal(reloads.length, 3, "back to the refused set: offered again, since the server now has another");
});

test("a failed read or reload is retried at the next check, logged as a warning", async (t) => {
  const { watch, interval, reloads, store, answer, log } = setup(t);
  await watch.start(new AbortController().signal);
  store.fail = new Error("database is locked");
  store.members = [TV];
  await interval();
  assert.equal(reloads.length, 0);
  assert.equal(log.matching("could not read the node credentials").length, 1);
  store.fail = undefined;
  answer(() => Promise.reject(new Error("ENOSPC")));
  await interval();
  assert.equal(log.matching("could not give nats-server").length, 1);
  answer(() => Promise.resolve(true));
  await interval();
  assert.equal(reloads.length, 2, "tried again");
  assert.equal(log.matching("follow the node credentials").length, 1);
});

test("stop(): waits for a check in flight, closes the store, checks no more", async (t) => {
  const { watch, clock, reloads, store, answer } = setup(t);
  await watch.start(new AbortController().signal);
  let finish: (ok: boolean) => void = () => undefined;
  answer(() => new Promise((r) => (finish = r)));
  store.members = [TV];
  clock.advance(REVOCATION_CHECK_MS);
  await settle();
  assert.equal(reloads.length, 1);
  let stopped = false;
  const stopping = watch.stop().then(() => (stopped = true));
  await settle();
  assert.equal(stopped, false, "waits for the reload");
  assert.equal(store.closed, 0);
  finish(true);
  await stopping;
  assert.equal(store.closed, 1);
  store.members = [];
  clock.advance(10 * REVOCATION_CHECK_MS);
  await settle();
  assert.equal(reloads.length, 1);
});

test("start() with an aborted signal opens nothing", async (t) => {
  const { watch, store } = setup(t);
  const abort = new AbortController();
  abort.abort(new Error("shutting down"));
  assert.throws(() => watch.start(abort.signal), /shutting down/);
  await watch.stop();
  assert.equal(store.closed, 0);
});
