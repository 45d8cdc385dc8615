/**
 * The downlink end to end on the real topology: a 3-node root cluster from `adaos-edge root
 * config`, the ADAOS_DOWNLINK stream created from the file it writes (R3), and a hub whose
 * nats-server is a leafnode of it. 100 commands sent while the hub's downlink is down each run
 * exactly once after it is back; then the root node the leaf is attached to is killed and commands
 * still arrive, through another node.
 */
import { strict as assert } from "node:assert";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import type { StreamConfig } from "nats";
import type { Envelope } from "../abi/envelope.js";
import { hubSubject } from "../abi/subjects.js";
import { DOWNLINK_STREAM_FILE } from "../agent/cli/root-config.js";
import { systemClock } from "../agent/core/clock.js";
import { createEnvelope } from "../agent/core/envelope.js";
import { silentLogger } from "../agent/core/logger.js";
import { MetricsRegistry } from "../agent/core/metrics.js";
import { DOWNLINK_STREAM, downlinkConsumerName } from "../agent/natsd/root-stream.js";
import { Downlink } from "../agent/outbox/downlink.js";
import { MemoryDeadLetters } from "../agent/outbox/memory-dead-letters.js";
import { MemoryInbox } from "../agent/outbox/memory-inbox.js";
import { precompiledCatalog } from "../agent/registry/precompiled.js";
import { GiveUp, waitFor } from "./helpers.js";
import { HUB_ID, makeHub, natsAs } from "./natsd-hub.js";
import { leafHost, startRootCluster } from "./root-cluster.js";

const never = new AbortController().signal;
const SUBJECT = hubSubject(HUB_ID, "cmd", "scenario", "run");
/** Where the test waits for commands the killed node delivered but whose acks it took down with it. */
const ACK_WAIT_MS = 2_000;

function command(n: number): Envelope {
  return createEnvelope({ event_name: "scenario.run", version: 1, kind: "command", source: "agent://root/api", payload: { id: "movie-night", run_id: `run-${n}` } });
}

test("downlink on a 3-node root: an offline hub's 100 commands run once each; losing the leaf's root node loses none", async (t) => {
  const root = await startRootCluster(t);
  const hub = await makeHub(t, { leaf: { urls: root.leafUrls, user: root.user, password: root.password } });
  await hub.sup.start(never);
  const leafAt = await waitFor("leaf link up", () => leafHost(root), 10_000, 20);
  const publisherNode = root.nodes.find((n) => n !== leafAt) ?? root.nodes[0]!;
  const nc = await natsAs(t, publisherNode.clientUrl, root.user, root.password);
  const jsm = await nc.jetstreamManager();
  const config = JSON.parse(readFileSync(join(root.dir, DOWNLINK_STREAM_FILE), "utf8")) as Partial<StreamConfig>;
  assert.equal(config.num_replicas, 3);
  await jsm.streams.add(config);
  const js = nc.jetstream();
  const publish = (env: Envelope) =>
    waitFor(`the root takes ${env.id}`, () =>
      js.publish(SUBJECT, new TextEncoder().encode(JSON.stringify(env)), { msgID: env.id }).then(() => true, (e: unknown) => {
        if ((e as { code?: string }).code === "503" || (e as { code?: string }).code === "TIMEOUT") return undefined;
        throw new GiveUp(`JetStream publish: ${String(e)}`);
      }), 20_000, 100);

  const sent = Array.from({ length: 100 }, (_, i) => command(i));
  for (const env of sent) await publish(env);

  const runs = new Map<string, number>();
  const metrics = new MetricsRegistry();
  const downlink = new Downlink({
    hubId: HUB_ID,
    connect: { servers: [hub.sup.url], user: HUB_ID, pass: hub.hubPassword, name: `${HUB_ID}-downlink` },
    inbox: new MemoryInbox({ window: 10_000 }),
    dlq: new MemoryDeadLetters({ maxRows: 100, clock: systemClock }),
    catalog: precompiledCatalog(),
    handler: (env) => {
      runs.set(env.id, (runs.get(env.id) ?? 0) + 1);
      return Promise.resolve();
    },
    ackWaitMs: ACK_WAIT_MS,
    retry: { baseMs: 50, capMs: 500 },
    logger: silentLogger(),
    metrics,
  });
  t.after(() => downlink.stop());
  await downlink.start(never);
  await waitFor("the backlog handled", () => runs.size === 100, 30_000);

  await leafAt.kill();
  const later = Array.from({ length: 10 }, (_, i) => command(100 + i));
  for (const env of later) await publish(env);
  await waitFor("commands sent after losing a root node handled", () => later.every((e) => runs.has(e.id)), 30_000);
  await waitFor("nothing pending or unacked at the root", async () => {
    const ci = await jsm.consumers.info(DOWNLINK_STREAM, downlinkConsumerName(HUB_ID));
    return ci.num_pending === 0 && ci.num_ack_pending === 0 ? true : undefined;
  }, 20_000, 200);
  assert.deepEqual([...sent, ...later].filter((e) => runs.get(e.id) !== 1).map((e) => [e.id, runs.get(e.id)]), [], "each ran exactly once");
  t.diagnostic(`redeliveries dropped by the inbox: ${metrics.counter("adaos_downlink_duplicates_total", "").get()}`);
});
