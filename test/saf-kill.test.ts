/**
 * Store-and-forward with real processes, crash safety: a hub agent killed with SIGKILL at 20
 * random moments of its drain to a 3-node root cluster still delivers exactly 11,000 events, and
 * its outbox file stays intact.
 */
import { strict as assert } from "node:assert";
import { test } from "node:test";
import Database from "better-sqlite3";
import { join } from "node:path";
import { waitFor, within } from "./helpers.js";
import { makeHub, outboxStats, produce, readUplink, rootWithUplink, startRoot, stopRoot, uplinkCount } from "./saf-harness.js";

const TOTAL = 11_000;

test("kill -9 of the hub at 20 random moments of a drain: still exactly 11,000 at the root, the outbox file intact", { timeout: 300_000 }, async (t) => {
  const { root, rootNc } = await rootWithUplink(t);
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

