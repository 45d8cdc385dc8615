/**
 * Store-and-forward with real processes: a 3-node root cluster (JetStream), a hub agent as its
 * leafnode, a member agent on the hub. Offline sync (root away ≥ 30 s while 10,000 + 1,000 events
 * are produced), kill -9 of the hub during the drain, and overflow into the dead-letter queue.
 */
import { strict as assert } from "node:assert";
import { test } from "node:test";
import Database from "better-sqlite3";
import { randomBytes } from "node:crypto";
import { closeSync, openSync, readdirSync, readFileSync, statSync, writeSync } from "node:fs";
import { join } from "node:path";
import { freePort, GiveUp, runCli, tempDir, waitFor, within, type Proc } from "./helpers.js";
import { startRootCluster } from "./root-cluster.js";
import {
  checkOrder, deadLetters, HUB_ID, makeHub, outboxStats, produce, readUplink, rootConnection, startMember, startRoot, stopRoot, TOKEN, uplinkCount,
} from "./saf-harness.js";

const HUB_EVENTS = 10_000;
const MEMBER_EVENTS = 1_000;
const TOTAL = HUB_EVENTS + MEMBER_EVENTS;
const OFFLINE_MS = 30_000;

test("offline sync: root away ≥ 30 s, 10,000 hub + 1,000 member events → exactly 11,000 at the root, in order per source", { timeout: 240_000 }, async (t) => {
  const root = await startRootCluster(t);
  const rootNc = await rootConnection(t, root);
  const jsm = await rootNc.jetstreamManager();
  await jsm.streams.add(root.stream as unknown as Parameters<typeof jsm.streams.add>[0]);
  // The raw limit: when a plain client's JetStream publish to an R3 stream succeeds again.
  await jsm.streams.add({ name: "PROBE", subjects: ["probe.>"], num_replicas: 3 });
  const hub = await makeHub(t, root, ["tv"]);
  await hub.start();
  const member = await startMember(t, hub, "tv");

  await stopRoot(root);
  const downAt = performance.now();
  await produce(hub.url, HUB_EVENTS);
  await produce(member.url, MEMBER_EVENTS);
  await waitFor("the member's 1,000 relayed to the hub and all 11,000 in the hub's outbox", async () => {
    const [m, h] = [await outboxStats(member.url), await outboxStats(hub.url)];
    return m.depth === 0 && h.depth === TOTAL ? true : undefined;
  }, 60_000, 200);
  const wait = OFFLINE_MS - (performance.now() - downAt);
  if (wait > 0) await new Promise((r) => setTimeout(r, wait));

  const backAt = performance.now(); // the root's servers are started now
  const raw = (async () => {
    const js = rootNc.jetstream({ timeout: 250 });
    for (let i = 0; ; i++) {
      try {
        await js.publish("probe.write", new Uint8Array(1), { msgID: `p${i}` });
        return performance.now() - backAt;
      } catch {
        await new Promise((r) => setTimeout(r, 20));
      }
    }
  })();
  let firstMs: number | undefined;
  let streamMs: number | undefined;
  const all = waitFor("all 11,000 at the root", async () => {
    const n = await uplinkCount(rootNc);
    if (n !== undefined && streamMs === undefined) streamMs = performance.now() - backAt;
    if (n !== undefined && n > 0 && firstMs === undefined) firstMs = performance.now() - backAt;
    return n === TOTAL ? performance.now() - backAt : undefined;
  }, 120_000, 20);
  await startRoot(root);
  const leaderMs = performance.now() - backAt;
  const lastMs = await all;

  if (process.env.SAF_DEBUG) for (const l of hub.proc().stdout().split("\n").filter((x) => /root|leaf|relay|send|drain|natsd/.test(x)).slice(-40)) t.diagnostic(l.slice(0, 400));
  const envelopes = await readUplink(rootNc, TOTAL);
  assert.equal(new Set(envelopes.map((e) => e.id)).size, TOTAL, "distinct ids");
  const counts = checkOrder(envelopes);
  assert.deepEqual(Object.fromEntries(counts), { [`api@${HUB_ID}`]: HUB_EVENTS, "api@tv": MEMBER_EVENTS });
  await new Promise((r) => setTimeout(r, 500));
  assert.equal(await uplinkCount(rootNc), TOTAL, "nothing more arrived");
  assert.equal((await outboxStats(hub.url)).depth, 0);
  assert.equal((await outboxStats(member.url)).depth, 0);
  const rawMs = await within(30_000, "a raw publish to succeed", raw);
  t.diagnostic(`root away ${Math.round((backAt - downAt) / 1000)} s; after its servers were started: JetStream meta leader in ${Math.round(leaderMs)} ms, stream info answered in ${Math.round(streamMs ?? -1)} ms, a raw client's first publish succeeded in ${Math.round(rawMs)} ms, our first event was there in ${Math.round(firstMs ?? -1)} ms (${Math.round((firstMs ?? 0) - rawMs)} ms after raw), all ${TOTAL} in ${Math.round(lastMs)} ms`);
});

test("kill -9 of the hub at 20 random moments of a drain: still exactly 11,000 at the root, the outbox file intact", { timeout: 300_000 }, async (t) => {
  const root = await startRootCluster(t);
  const rootNc = await rootConnection(t, root);
  const jsm = await rootNc.jetstreamManager();
  await jsm.streams.add(root.stream as unknown as Parameters<typeof jsm.streams.add>[0]);
  // Small batches make the drain last long enough to be interrupted 20 times.
  const hub = await makeHub(t, root, [], { ADAOS_EDGE_OUTBOX_BATCH: "4" });
  await stopRoot(root);
  await hub.start();
  await produce(hub.url, TOTAL);
  await waitFor("11,000 in the outbox", async () => ((await outboxStats(hub.url)).depth === TOTAL ? true : undefined), 30_000, 200);
  await startRoot(root);

  const kills: { afterMs: number; atRoot: number | undefined }[] = [];
  for (let i = 0; i < 20; i++) {
    if (i > 0) await hub.start();
    const afterMs = Math.round(Math.random() * 400);
    await new Promise((r) => setTimeout(r, afterMs));
    hub.proc().child.kill("SIGKILL");
    await within(5000, "the hub to die", hub.proc().exited);
    kills.push({ afterMs, atRoot: await uplinkCount(rootNc) });
  }
  await hub.start();
  await waitFor("all 11,000 at the root", async () => ((await uplinkCount(rootNc)) === TOTAL ? true : undefined), 120_000, 50);
  await waitFor("the hub's outbox empty", async () => ((await outboxStats(hub.url)).depth === 0 ? true : undefined), 30_000, 100);
  const envelopes = await readUplink(rootNc, TOTAL);
  assert.equal(new Set(envelopes.map((e) => e.id)).size, TOTAL, "distinct ids");
  hub.proc().child.kill("SIGTERM");
  assert.equal(await within(10_000, "the hub to stop", hub.proc().exited), 0);
  const db = new Database(join(hub.dataDir, "outbox.db"), { readonly: true });
  try {
    assert.equal(db.pragma("integrity_check", { simple: true }), "ok");
  } finally {
    db.close();
  }
  const during = kills.filter((k) => k.atRoot !== undefined && k.atRoot < TOTAL).length;
  t.diagnostic(`20 kills (after ${kills.map((k) => k.afterMs).join(", ")} ms of uptime); ${during} landed before the drain was complete; at the root after each: ${kills.map((k) => k.atRoot ?? "?").join(", ")}`);
});

test("overflow with a small limit: the oldest of the lowest priority go to the DLQ with a reason, counted", { timeout: 60_000 }, async (t) => {
  // A member whose hub is not there: everything it produces waits in its outbox.
  const hub = await makeHub(t, undefined, []);
  const member = await startMember(t, hub, "tv", { ADAOS_EDGE_OUTBOX_MAX_ROWS: "100" });
  await produce(member.url, 150);
  // Its boot event (priority 2) waits too: 151 entries, 100 kept, 51 readings (priority 3) overflow, oldest first.
  await waitFor("100 kept, 51 overflowed", async () => {
    const s = await outboxStats(member.url);
    return s.depth === 100 && s.dlq.by_reason.overflow === 51 ? true : undefined;
  }, 10_000, 100);
  const dead = await deadLetters(member.url, "overflow");
  assert.equal(dead.items.length, 51);
  assert.ok(dead.items.every((d) => d.reason === "overflow" && (d.last_error ?? "").includes("full")), JSON.stringify(dead.items[0]));
  const shown = (await (await fetch(`${member.url}/api/dlq/${(dead.items[0] as { dlq_id: number }).dlq_id}`, { headers: { "x-adaos-token": member.token } })).json()) as { envelope: { payload: { seq: number } } };
  assert.equal(shown.envelope.payload.seq, 0, "the oldest went first");
  const metrics = await (await fetch(`${member.url}/metrics`, { headers: { "x-adaos-token": member.token } })).text();
  assert.match(metrics, /^adaos_dlq_entries\{reason="overflow"\} 51$/m);
  assert.match(metrics, /^adaos_outbox_since_start\{what="overflowed"\} 51$/m);
});

test("a corrupt outbox file: the agent starts, the file is quarantined, the readable entries salvaged and sent later", { timeout: 60_000 }, async (t) => {
  const hub = await makeHub(t, undefined, []); // never started: the member keeps everything
  const dataDir = tempDir(t, "adaos-saf-member-");
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const run = async (): Promise<Proc> => {
    const p = runCli(t, ["run", "--role", "member", "--node-id", "tv", "--data-dir", dataDir, "--api-port", String(port), "--hub", `mqtt://127.0.0.1:${hub.mqttPort}`], {
      env: { ADAOS_EDGE_TOKEN: TOKEN, ADAOS_EDGE_LOG_LEVEL: "info" },
    });
    await waitFor(`the member ready (${p.stderr()})`, async () => {
      if (p.child.exitCode !== null) throw new GiveUp(`member exited ${p.child.exitCode}: ${p.stderr()}`);
      return (await fetch(`${url}/health/ready`).then((r) => r.ok, () => false)) || undefined;
    }, 20_000);
    return p;
  };
  const first = await run();
  await produce(url, 2000);
  await waitFor("2,000 readings (and the boot event) kept", async () => ((await outboxStats(url)).depth === 2001 ? true : undefined), 10_000, 100);
  first.child.kill("SIGTERM");
  assert.equal(await within(10_000, "the member to stop", first.exited), 0);

  // Three pages of garbage in the middle of the file (its WAL was checkpointed at close).
  const file = join(dataDir, "outbox.db");
  const size = statSync(file).size;
  const fd = openSync(file, "r+");
  try {
    writeSync(fd, randomBytes(3 * 4096), 0, 3 * 4096, Math.floor(size / 2 / 4096) * 4096);
  } finally {
    closeSync(fd);
  }
  const before = readFileSync(file);

  const second = await run();
  const stats = await outboxStats(url);
  assert.ok(stats.depth > 1500 && stats.depth < 2001, `salvaged ${stats.depth} of 2001`);
  const moved = readdirSync(dataDir).filter((f) => f.startsWith("outbox.db.corrupt-") && !f.endsWith("-wal") && !f.endsWith("-shm"));
  assert.equal(moved.length, 1, readdirSync(dataDir).join(" "));
  assert.ok(readFileSync(join(dataDir, moved[0] as string)).equals(before), "the corrupt file is kept byte for byte");
  const line = second.stdout().split("\n").find((l) => l.includes("was corrupt"));
  assert.ok(line !== undefined, "the agent says what happened");
  t.diagnostic(`salvaged ${stats.depth} of 2001 entries; ${(JSON.parse(line) as { msg: string }).msg}`);
  second.child.kill("SIGTERM");
  assert.equal(await within(10_000, "the member to stop", second.exited), 0);
});

test("a hub without a leafnode relays to the root over a direct client link (--root)", { timeout: 60_000 }, async (t) => {
  const root = await startRootCluster(t);
  const rootNc = await rootConnection(t, root);
  const jsm = await rootNc.jetstreamManager();
  await jsm.streams.add(root.stream as unknown as Parameters<typeof jsm.streams.add>[0]);
  const hub = await makeHub(t, undefined, [], {
    ADAOS_EDGE_NATS_SERVER_BIN: "", // no local nats-server at all
    ADAOS_EDGE_ROOT_URLS: root.clientUrls.join(","),
    ADAOS_EDGE_ROOT_USER: root.user,
    ADAOS_EDGE_ROOT_PASSWORD: root.password,
  });
  await hub.start();
  await produce(hub.url, 500);
  await waitFor("500 at the root", async () => ((await uplinkCount(rootNc)) === 500 ? true : undefined), 20_000, 50);
  assert.deepEqual(Object.fromEntries(checkOrder(await readUplink(rootNc, 500))), { [`api@${HUB_ID}`]: 500 });
  assert.match(hub.proc().stdout(), /"via":"direct"/);
});
