/**
 * Store-and-forward with real processes, offline sync: a 3-node root cluster (JetStream), a hub
 * agent as its leafnode and a member on the hub; the root is away ≥ 30 s while 10,000 + 1,000
 * events are produced, and exactly those reach it afterwards, in order per source.
 */
import { strict as assert } from "node:assert";
import { test } from "node:test";
import { waitFor, within } from "./helpers.js";
import { checkOrder, HUB_ID, makeHub, outboxStats, produce, readUplink, rootWithUplink, startMember, startRoot, stopRoot, uplinkCount } from "./saf-harness.js";

const HUB_EVENTS = 10_000;
const MEMBER_EVENTS = 1_000;
const TOTAL = HUB_EVENTS + MEMBER_EVENTS;
const OFFLINE_MS = 30_000;

test("offline sync: root away ≥ 30 s, 10,000 hub + 1,000 member events → exactly 11,000 at the root, in order per source", { timeout: 240_000 }, async (t) => {
  const { root, rootNc, jsm } = await rootWithUplink(t);
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

