/**
 * The downlink through a real hub agent: the hub (a leafnode of a 3-node root) is stopped, the
 * root takes 100 commands for it, and once the hub is back each of them runs on its bus exactly
 * once — counted by a subscriber of the hub's event stream that keeps listening afterwards — and
 * the hub's durable consumer at the root is left with nothing pending or unacknowledged.
 */
import { strict as assert } from "node:assert";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import type { StreamConfig } from "nats";
import type { Envelope } from "../abi/envelope.js";
import { hubSubject } from "../abi/subjects.js";
import { SseClient } from "../agent/api/test-fixture.js";
import { DOWNLINK_STREAM_FILE } from "../agent/cli/root-config.js";
import { createEnvelope } from "../agent/core/envelope.js";
import { DOWNLINK_STREAM, downlinkConsumerName } from "../agent/natsd/root-stream.js";
import { waitFor, within } from "./helpers.js";
import { startRootCluster } from "./root-cluster.js";
import { HUB_ID, makeHub, rootConnection, TOKEN } from "./saf-harness.js";

const COMMANDS = 100;
/** After the 100th, the stream is watched this long more for a second run of any of them. */
const QUIET_MS = 2_000;

test("100 commands sent to an offline hub each run exactly once after it is back", { timeout: 120_000 }, async (t) => {
  const root = await startRootCluster(t);
  const nc = await rootConnection(t, root);
  const jsm = await nc.jetstreamManager();
  await jsm.streams.add(JSON.parse(readFileSync(join(root.dir, DOWNLINK_STREAM_FILE), "utf8")) as Partial<StreamConfig>);
  const hub = await makeHub(t, root, []);
  await hub.start();
  await waitFor("the hub's durable consumer at the root", () => jsm.consumers.info(DOWNLINK_STREAM, downlinkConsumerName(HUB_ID)).then(() => true, () => undefined), 20_000, 100);
  hub.proc().child.kill("SIGTERM");
  assert.equal(await within(10_000, "the hub to stop", hub.proc().exited), 0);

  const js = nc.jetstream();
  const sent: Envelope[] = Array.from({ length: COMMANDS }, (_, i) =>
    createEnvelope({ event_name: "scenario.run", version: 1, kind: "command", source: "agent://root/api", payload: { id: "movie-night", run_id: `run-${i}` } }));
  for (const env of sent) await js.publish(hubSubject(HUB_ID, "cmd", env.event_name), new TextEncoder().encode(JSON.stringify(env)), { msgID: env.id });

  await hub.start();
  const stream = await SseClient.open(`${hub.url}/api/events/stream?pattern=scenario.run`, { "x-adaos-token": TOKEN });
  t.after(() => stream.close());
  const startedAt = performance.now();
  // The backlog may start running before the stream is open: what ran before is in the metrics.
  const counter = (text: string, name: string): number => Number(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\d+)$`, "m").exec(text)?.[1] ?? "0");
  /** Deliveries that ran the handler: redeliveries the inbox dropped do not count. */
  const ran = async (): Promise<number> => {
    const text = await (await fetch(`${hub.url}/metrics`, { headers: { "x-adaos-token": TOKEN } })).text();
    return counter(text, "adaos_downlink_received_total") - counter(text, "adaos_downlink_duplicates_total");
  };
  await waitFor("all 100 handled", async () => ((await ran()) >= COMMANDS ? true : undefined), 60_000, 100);
  const tookMs = performance.now() - startedAt;
  await new Promise((r) => setTimeout(r, QUIET_MS));

  const metrics = await (await fetch(`${hub.url}/metrics`, { headers: { "x-adaos-token": TOKEN } })).text();
  assert.equal(await ran(), COMMANDS, metrics.split("\n").filter((l) => l.startsWith("adaos_downlink")).join("\n"));
  assert.equal(counter(metrics, "adaos_downlink_failed_total"), 0);
  const seen = stream.events.map((e) => (JSON.parse(e.data) as Envelope).id);
  assert.equal(new Set(seen).size, seen.length, "no command appeared twice on the hub's bus");
  const info = await jsm.consumers.info(DOWNLINK_STREAM, downlinkConsumerName(HUB_ID));
  assert.deepEqual([info.num_pending, info.num_ack_pending], [0, 0]);
  t.diagnostic(`${COMMANDS} commands handled ${Math.round(tookMs)} ms after the hub was back (stream open); ${seen.length} seen live on its bus, each once`);
});
