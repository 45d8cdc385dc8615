import { strict as assert } from "node:assert";
import { tmpdir } from "node:os";
import { test, type TestContext } from "node:test";
import type { Envelope } from "../../abi/envelope.js";
import { TOKEN, TestOutbox, startApi, waitFor } from "../api/test-fixture.js";
import { createEnvelope } from "../core/envelope.js";
import type { DeadLetterInput, DeadReason } from "../outbox/dead-letters.js";
import type { OutboxStats } from "../outbox/outbox.js";
import type { CliIo } from "./command.js";
import { dispatch } from "./dispatch.js";

interface Captured {
  readonly io: CliIo;
  readonly out: string[];
  readonly err: string[];
}

function capture(): Captured {
  const out: string[] = [];
  const err: string[] = [];
  return { io: { out: (l) => void out.push(l), err: (l) => void err.push(l), env: {}, cwd: tmpdir() }, out, err };
}

function notify(text: unknown): Envelope {
  return createEnvelope({ event_name: "ui.notify", version: 1, payload: { text }, source: "sensor@kitchen" });
}

function deadOf(env: Envelope, reason: DeadReason, origin: "outbox" | "inbound" = "inbound", lastError = `${reason}: it failed`): DeadLetterInput {
  return {
    reason, origin, data: new TextEncoder().encode(JSON.stringify(env)), id: env.id, eventName: env.event_name, source: env.source,
    subject: origin === "outbox" ? `uplink.${env.event_name}` : env.event_name, attempts: 3, lastError,
  };
}

async function agent(t: TestContext, outbox = new TestOutbox()) {
  const fixture = await startApi(t, { outbox, relayStatus: () => ({ state: "sending", attempt: 0 }) });
  const run = async (...args: string[]): Promise<Captured & { code: number }> => {
    const c = capture();
    const code = await dispatch([...args, "--api", fixture.url, "--token", TOKEN], c.io);
    return { ...c, code };
  };
  return { ...fixture, outbox, dlq: outbox.dlq, run };
}

test("events dlq list: a table with id, reason, origin, event, attempts, age and the last error cut short", async (t) => {
  const { dlq, run } = await agent(t);
  const empty = await run("events", "dlq", "list");
  assert.deepEqual([empty.code, empty.out], [0, ["the dead-letter queue is empty"]]);

  dlq.add([deadOf(notify("a"), "poison", "outbox", "refused: " + "x".repeat(200)), deadOf(notify("b"), "invalid")]);
  const r = await run("events", "dlq", "list");
  assert.equal(r.code, 0, r.err.join("\n"));
  assert.equal(r.out.length, 3);
  assert.match(r.out[0] ?? "", /^ID\s+REASON\s+ORIGIN\s+EVENT\s+ATTEMPTS\s+AGE\s+LAST ERROR$/);
  assert.match(r.out[1] ?? "", /^1\s+poison\s+outbox\s+ui\.notify\s+3\s+0s\s+refused: x+…$/);
  assert.ok((r.out[1] ?? "").length < 140, "the last error is truncated");
  assert.match(r.out[2] ?? "", /^2\s+invalid\s+inbound\s+ui\.notify\s+3\s+0s\s+invalid: it failed$/);

  const filtered = await run("events", "dlq", "list", "--reason", "invalid");
  assert.deepEqual(filtered.out.slice(1).map((l) => l.split(/\s+/)[0]), ["2"]);
  const none = await run("events", "dlq", "list", "--reason", "expired");
  assert.deepEqual(none.out, ["no dead letters with reason expired"]);
});

test("events dlq list --json: NDJSON across pages; --limit stops early and says more follow", async (t) => {
  const { dlq, run } = await agent(t);
  dlq.add(Array.from({ length: 1205 }, (_, i) => deadOf(notify(`n${i}`), "overflow", "outbox")));
  const all = await run("events", "dlq", "list", "--json", "--limit", "5000");
  assert.equal(all.code, 0);
  assert.equal(all.out.length, 1205, "paged past the API's 1000 per page");
  const first = JSON.parse(all.out[0] ?? "{}") as { dlq_id: number; reason: string; subject: string };
  assert.deepEqual([first.dlq_id, first.reason, first.subject], [1, "overflow", "uplink.ui.notify"]);
  assert.equal((JSON.parse(all.out.at(-1) ?? "{}") as { dlq_id: number }).dlq_id, 1205);
  assert.deepEqual(all.err, []);

  const some = await run("events", "dlq", "list", "--json", "--limit", "3");
  assert.equal(some.out.length, 3);
  assert.match(some.err[0] ?? "", /more dead letters follow; raise --limit/);
  const table = await run("events", "dlq", "list");
  assert.equal(table.out.length, 101, "100 by default, plus the header");
});

test("events dlq show: the entry and its envelope as pretty JSON; a missing id is E_NOT_FOUND (exit 1)", async (t) => {
  const { dlq, run } = await agent(t);
  const env = notify("shown");
  dlq.add([deadOf(env, "poison")]);
  const r = await run("events", "dlq", "show", "1");
  assert.equal(r.code, 0, r.err.join("\n"));
  assert.equal(r.out.length, 1);
  assert.match(r.out[0] ?? "", /^\{\n {2}"dlq_id": 1,\n/);
  const shown = JSON.parse(r.out[0] ?? "{}") as { reason: string; envelope: Envelope };
  assert.equal(shown.reason, "poison");
  assert.deepEqual(shown.envelope, env);

  const missing = await run("events", "dlq", "show", "9");
  assert.equal(missing.code, 1);
  assert.deepEqual(missing.err, ["adaos-edge: no dead letter 9 (E_NOT_FOUND)"]);
});

test("events dlq replay: counts; replayed ones reach the bus or the outbox; a failure exits 1 listing why", async (t) => {
  const { dlq, bus, outbox, run } = await agent(t);
  const got: Envelope[] = [];
  bus.subscribe("ui.>", (e) => void got.push(e));
  const inbound = notify("in");
  const outgoing = notify("out");
  dlq.add([deadOf(inbound, "poison"), deadOf(outgoing, "overflow", "outbox"), deadOf(notify(7), "invalid")]);

  const ok = await run("events", "dlq", "replay", "1", "2");
  assert.deepEqual([ok.code, ok.out, ok.err], [0, ["replayed 2, failed 0"], []]);
  await waitFor("delivery", () => got.length === 1);
  assert.deepEqual(got[0], inbound);
  assert.deepEqual(outbox.enqueued.map((e) => [e.subject, e.envelope.id]), [["uplink.ui.notify", outgoing.id]]);

  const bad = await run("events", "dlq", "replay", "--all");
  assert.equal(bad.code, 1);
  assert.deepEqual(bad.out, ["replayed 0, failed 1"]);
  assert.match(bad.err[0] ?? "", /^ {2}dlq 3: invalid payload for ui\.notify@1: \/payload\/text must be string \(E_PAYLOAD_INVALID\)$/);
  assert.match(bad.err[1] ?? "", /stay in the dead-letter queue/);
  assert.deepEqual(dlq.list().map((e) => e.dlqId), [3]);
});

test("events dlq purge: by ids, --reason and --all, printing counts", async (t) => {
  const { dlq, run } = await agent(t);
  dlq.add([deadOf(notify("a"), "poison"), deadOf(notify("b"), "expired"), deadOf(notify("c"), "expired"), deadOf(notify("d"), "invalid")]);
  assert.deepEqual((await run("events", "dlq", "purge", "1")).out, ["purged 1"]);
  assert.deepEqual((await run("events", "dlq", "purge", "--reason", "expired")).out, ["purged 2"]);
  assert.deepEqual((await run("events", "dlq", "purge", "--all")).out, ["purged 1"]);
  assert.equal(dlq.count().total, 0);
});

test("events dlq: bad arguments are usage errors (exit 2) before anything is sent", async (t) => {
  const { dlq, run } = await agent(t);
  dlq.add([deadOf(notify("a"), "poison")]);
  const cases: [string[], RegExp][] = [
    [["purge"], /give dlq ids, --reason R or --all \(exactly one\)/],
    [["replay"], /exactly one/],
    [["purge", "1", "--all"], /exactly one/],
    [["replay", "--reason", "poison", "--all"], /exactly one/],
    [["purge", "x"], /a dlq id is a positive integer/],
    [["replay", "0"], /a dlq id is a positive integer/],
    [["list", "--reason", "lost"], /--reason must be one of poison, expired, invalid, overflow/],
    [["list", "--limit", "0"], /--limit must be an integer/],
    [["show"], /expected exactly one dlq id/],
    [["show", "1", "2"], /expected exactly one dlq id/],
  ];
  for (const [args, message] of cases) {
    const r = await run("events", "dlq", ...args);
    assert.equal(r.code, 2, args.join(" "));
    assert.match(r.err.join("\n"), message, args.join(" "));
  }
  assert.equal(dlq.count().total, 1);
});

test("events dlq and outbox stats against an agent without an outbox: E_NOT_FOUND, exit 1", async (t) => {
  const { url } = await startApi(t);
  for (const args of [["events", "dlq", "list"], ["outbox", "stats", "--interval-ms", "10"]]) {
    const c = capture();
    assert.equal(await dispatch([...args, "--api", url, "--token", TOKEN], c.io), 1);
    assert.match(c.err[0] ?? "", /this agent has no outbox.*\(E_NOT_FOUND\)$/);
  }
});

/** Stats that drain by `step` entries (and grow `sent` by as much) every time they are read. */
function draining(outbox: TestOutbox, start: number, step: number): void {
  let reads = 0;
  outbox.stats = (): OutboxStats => {
    const sent = Math.min(start, reads++ * step);
    return { depth: start - sent, bytes: (start - sent) * 1024, inFlight: 0, oldestAgeMs: 192_000, added: start, sent, expired: 0, overflowed: 0, poisoned: 0, retried: 0 };
  };
}

test("outbox stats: depth, MiB, oldest age, counters with rates from two samples, dlq and relay", async (t) => {
  const outbox = new TestOutbox();
  draining(outbox, 5000, 100);
  outbox.dlq.add([deadOf(notify("a"), "poison")]);
  const { run } = await agent(t, outbox);
  const r = await run("outbox", "stats", "--interval-ms", "50");
  assert.equal(r.code, 0, r.err.join("\n"));
  const text = r.out.join("\n");
  assert.match(text, /^depth\s+4900 \(in flight 0\)$/m);
  assert.match(text, /^bytes\s+4\.79 MiB$/m);
  assert.match(text, /^oldest\s+3m12s$/m);
  assert.match(text, /^added\s+5000\s+0\/s$/m);
  assert.match(text, /^sent\s+100\s+\d+\/s$/m);
  const rate = Number(/^sent\s+100\s+(\d+)\/s$/m.exec(text)?.[1]);
  assert.ok(rate > 100 && rate <= 2000, `100 in ~50 ms is about 2000/s, got ${rate}`);
  assert.match(text, /^dlq\s+1 \(poison 1\)$/m);
  assert.match(text, /^drain\s+left 4900, ~ETA \d+s$/m);
  assert.match(text, /^relay\s+state=sending attempt=0$/m);
});

test("outbox stats --watch --count: one progress line per interval, then exit 0; --json adds rates and the ETA", async (t) => {
  const outbox = new TestOutbox();
  draining(outbox, 300, 100);
  const { run } = await agent(t, outbox);
  const w = await run("outbox", "stats", "--watch", "--interval-ms", "20", "--count", "3");
  assert.equal(w.code, 0, w.err.join("\n"));
  assert.equal(w.out.length, 3);
  assert.match(w.out[0] ?? "", /^\d\d:\d\d:\d\d {2}depth 200 \(0\.20 MiB\), oldest 3m12s {2}added 0\/s {2}sent \d+\/s {2}dlq 0 {2}left 200, ~ETA \d+s$/);
  assert.match(w.out[1] ?? "", /depth 100 .* left 100, ~ETA \d+s$/);
  assert.match(w.out[2] ?? "", /depth 0 .* drained$/);

  draining(outbox, 300, 100);
  const j = await run("outbox", "stats", "--watch", "--json", "--interval-ms", "20", "--count", "2");
  assert.equal(j.code, 0, j.err.join("\n"));
  const lines = j.out.map((l) => JSON.parse(l) as { depth: number; rates: Record<string, number>; eta_s: number | null; relay: unknown });
  assert.deepEqual(lines.map((l) => l.depth), [200, 100]);
  assert.ok((lines[0]?.rates.sent_per_s ?? 0) > 0);
  assert.equal(lines[0]?.rates.added_per_s, 0);
  assert.equal(typeof lines[0]?.eta_s, "number");
  assert.deepEqual(lines[0]?.relay, { state: "sending", attempt: 0 });
});

test("outbox stats --watch: SIGINT ends it with exit 0; --count without --watch is a usage error", async (t) => {
  const outbox = new TestOutbox();
  const { run } = await agent(t, outbox);
  const before = process.listenerCount("SIGINT");
  const watching = run("outbox", "stats", "--watch", "--interval-ms", "20");
  await waitFor("the watch to listen for Ctrl-C", () => process.listenerCount("SIGINT") > before);
  await new Promise((r) => setTimeout(r, 100));
  process.emit("SIGINT", "SIGINT");
  const r = await watching;
  assert.equal(r.code, 0, r.err.join("\n"));
  assert.ok(r.out.length >= 1);
  assert.match(r.out[0] ?? "", /depth 0 .* drained$/);
  assert.equal(process.listenerCount("SIGINT"), before);

  const usage = await run("outbox", "stats", "--count", "2");
  assert.equal(usage.code, 2);
  assert.match(usage.err[0] ?? "", /--count goes with --watch/);
});
