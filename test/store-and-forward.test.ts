/**
 * Store-and-forward with real processes: overflow into the dead-letter queue, a corrupt outbox
 * file, and a hub relaying to the root over a direct client link. (Offline sync and kill -9 during
 * the drain have files of their own, saf-offline and saf-kill, each well within the per-file limit.)
 */
import { strict as assert } from "node:assert";
import { test } from "node:test";
import { randomBytes } from "node:crypto";
import { closeSync, openSync, readdirSync, readFileSync, statSync, writeSync } from "node:fs";
import { join } from "node:path";
import { freePort, GiveUp, runCli, tempDir, waitFor, within, type Proc } from "./helpers.js";
import { checkOrder, deadLetters, HUB_ID, makeHub, outboxStats, produce, readUplink, rootWithUplink, startMember, TOKEN, uplinkCount } from "./saf-harness.js";

test("overflow with a small limit: the oldest of the lowest priority go to the DLQ with a reason, counted", { timeout: 60_000 }, async (t) => {
  // A member whose hub is not there: everything it produces waits in its outbox.
  const hub = await makeHub(t, undefined, []);
  // Heartbeats once an hour: the start's one heartbeat (priority 4) and announce (2) wait with the rest.
  const member = await startMember(t, hub, "tv", { ADAOS_EDGE_OUTBOX_MAX_ROWS: "100", ADAOS_EDGE_DIRECTORY_HEARTBEAT_MS: "3600000" });
  await produce(member.url, 150);
  // 153 entries (boot and announce at priority 2, a heartbeat at 4, 150 readings at 3): 100 kept;
  // the heartbeat goes first (lowest priority), then the 52 oldest readings.
  await waitFor("100 kept, 53 overflowed", async () => {
    const s = await outboxStats(member.url);
    return s.depth === 100 && s.dlq.by_reason.overflow === 53 ? true : undefined;
  }, 10_000, 100);
  const dead = await deadLetters(member.url, "overflow");
  assert.equal(dead.items.length, 53);
  assert.ok(dead.items.every((d) => d.reason === "overflow" && (d.last_error ?? "").includes("full")), JSON.stringify(dead.items[0]));
  assert.deepEqual(dead.items.filter((d) => d.event_name !== "telemetry.reading").map((d) => d.event_name), ["telemetry.heartbeat"]);
  const seqs: number[] = [];
  for (const d of dead.items.filter((i) => i.event_name === "telemetry.reading")) {
    const shown = (await (await fetch(`${member.url}/api/dlq/${d.dlq_id}`, { headers: { "x-adaos-token": member.token } })).json()) as { envelope: { payload: { seq: number } } };
    seqs.push(shown.envelope.payload.seq);
  }
  assert.deepEqual(seqs.sort((a, b) => a - b), Array.from({ length: 52 }, (_, i) => i), "the oldest readings went");
  const metrics = await (await fetch(`${member.url}/metrics`, { headers: { "x-adaos-token": member.token } })).text();
  assert.match(metrics, /^adaos_dlq_entries\{reason="overflow"\} 53$/m);
  assert.match(metrics, /^adaos_outbox_since_start\{what="overflowed"\} 53$/m);
});

test("a corrupt outbox file: the agent starts, the file is quarantined, the readable entries salvaged and sent later", { timeout: 60_000 }, async (t) => {
  const hub = await makeHub(t, undefined, []); // never started: the member keeps everything
  const dataDir = tempDir(t, "adaos-saf-member-");
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const run = async (): Promise<Proc> => {
    const p = runCli(t, ["run", "--role", "member", "--node-id", "tv", "--data-dir", dataDir, "--api-port", String(port), "--hub", `mqtt://127.0.0.1:${hub.mqttPort}`], {
      env: { ADAOS_EDGE_TOKEN: TOKEN, ADAOS_EDGE_LOG_LEVEL: "info", ADAOS_EDGE_DIRECTORY_HEARTBEAT_MS: "3600000" },
    });
    await waitFor(`the member ready (${p.stderr()})`, async () => {
      if (p.child.exitCode !== null) throw new GiveUp(`member exited ${p.child.exitCode}: ${p.stderr()}`);
      return (await fetch(`${url}/health/ready`).then((r) => r.ok, () => false)) || undefined;
    }, 20_000);
    return p;
  };
  const first = await run();
  await produce(url, 2000);
  // With the boot event, the announce and the start's heartbeat: 2,003.
  await waitFor("2,000 readings (and the start's 3 events) kept", async () => ((await outboxStats(url)).depth === 2003 ? true : undefined), 10_000, 100);
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
  // Salvaged entries plus this start's three: fewer than before, since pages were lost.
  assert.ok(stats.depth > 1500 && stats.depth < 2003, `salvaged ${stats.depth} of 2003`);
  const moved = readdirSync(dataDir).filter((f) => f.startsWith("outbox.db.corrupt-") && !f.endsWith("-wal") && !f.endsWith("-shm"));
  assert.equal(moved.length, 1, readdirSync(dataDir).join(" "));
  assert.ok(readFileSync(join(dataDir, moved[0] as string)).equals(before), "the corrupt file is kept byte for byte");
  const line = second.stdout().split("\n").find((l) => l.includes("was corrupt"));
  assert.ok(line !== undefined, "the agent says what happened");
  t.diagnostic(`salvaged ${stats.depth} of 2003 entries (counting this start's 3); ${(JSON.parse(line) as { msg: string }).msg}`);
  second.child.kill("SIGTERM");
  assert.equal(await within(10_000, "the member to stop", second.exited), 0);
});

test("a hub without a leafnode relays to the root over a direct client link (--root)", { timeout: 60_000 }, async (t) => {
  const { root, rootNc } = await rootWithUplink(t);
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
