/**
 * The outbox: durable enqueue rate as a ratio of raw better-sqlite3 inserts (same pragmas, same
 * table, same bytes, same transaction size), and drain rate to JetStream as a ratio of raw
 * nats.js JetStream publishes (same stream, same bytes, same window), measured in the same run on
 * a scratch directory on disk and a real nats-server with JetStream (domain "root", R1 file store).
 * Raw and ours alternate run by run, so a noisy disk hits both alike.
 *
 *   node dist/bench/outbox.bench.js [envelopes]     # default 20000
 */
import { cpus } from "node:os";
import { connect as natsConnect, type StreamConfig } from "nats";
import { relayTuning } from "../agent/app/store-and-forward.js";
import type { Config } from "../agent/config/config.js";
import { loadConfig } from "../agent/config/load.js";
import { systemClock } from "../agent/core/clock.js";
import { silentLogger } from "../agent/core/logger.js";
import { MetricsRegistry } from "../agent/core/metrics.js";
import { quote } from "../agent/natsd/conf-text.js";
import { DEFAULT_DUPLICATE_WINDOW_MS, UPLINK_STREAM, uplinkStreamConfig } from "../agent/natsd/root-stream.js";
import { DEFAULT_ROOT_DOMAIN, JetStreamPublisher } from "../agent/outbox/jetstream-publisher.js";
import { openOutboxDb } from "../agent/outbox/outbox-db.js";
import { Relay } from "../agent/outbox/relay.js";
import { GROUP_MAX, SqliteOutbox } from "../agent/outbox/sqlite-outbox.js";
import type { Db } from "../agent/store/sqlite.js";
import { startNatsServer } from "../test/nats-server.js";
import { report } from "./bench-util.js";
import { Cleanups, medianRate, RawOutboxTable, rawRows, reading, readings, Scratch, seconds, SUBJECT, untilZero } from "./outbox-util.js";

const N = Number(process.argv[2] ?? 20_000);
/** A producer that awaits each enqueue pays one commit (one fsync) per envelope: 1,000 is enough to see it. */
const SEQUENTIAL_N = 1000;
const REPEATS = 3;
/** A short untimed run of each case first, so the JIT has compiled the paths being timed. */
const WARM_UP = Math.min(N, 2000);
/** Connecting the relay's publisher to a local nats-server takes milliseconds. */
const CONNECT_TIMEOUT_MS = 10_000;

if (!Number.isInteger(N) || N < 1) throw new Error(`usage: node dist/bench/outbox.bench.js [envelopes]  (a positive integer, got ${process.argv[2]})`);

const cleanups = new Cleanups();
cleanups.onSignals();
const scratch = new Scratch(cleanups);
/** The defaults a hub runs with (outbox.batch, limits, TTL, backoff): no agent.yaml in the scratch dir. */
const { config } = loadConfig({ env: {}, cwd: scratch.dir });

interface Store {
  readonly db: Db;
  readonly outbox: SqliteOutbox;
  close(): Promise<void>;
}

function openStore(cfg: Config["outbox"]): Store {
  const db = openOutboxDb(scratch.dbFile("outbox"));
  const outbox = new SqliteOutbox(db, {
    limits: { maxRows: cfg.max_rows, maxBytes: cfg.max_bytes, ttlMs: cfg.ttl_s * 1000 },
    dlqMaxRows: cfg.dlq_max_rows,
    clock: systemClock,
  });
  return { db, outbox, close: async () => { await outbox.close(); db.close(); } };
}

function expect(what: string, got: number, want: number): void {
  if (got !== want) throw new Error(`${what}: ${got}, expected ${want}; the run did not do what it claims`);
}

async function enqueueFigures(): Promise<void> {
  const ttlMs = config.outbox.ttl_s * 1000;

  /** With `encode`, JSON.stringify of each envelope is timed too (ours does it in enqueue). */
  const rawBurst = async (n: number, encode: boolean): Promise<number> => {
    const batch = readings(n);
    const prebuilt = encode ? [] : rawRows(batch, SUBJECT, Date.now(), ttlMs);
    const table = new RawOutboxTable(scratch.dbFile("raw"));
    try {
      const s = await seconds(() => table.insertInTransactions(encode ? rawRows(batch, SUBJECT, Date.now(), ttlMs) : prebuilt, GROUP_MAX));
      expect("raw rows stored", table.count(), n);
      return s;
    } finally {
      table.close();
    }
  };
  const oursBurst = async (n: number): Promise<number> => {
    const batch = readings(n);
    const store = openStore(config.outbox);
    try {
      const s = await seconds(async () => void (await Promise.all(batch.map((e) => store.outbox.enqueue(SUBJECT, e)))));
      expect("outbox depth", store.outbox.stats().depth, n);
      return s;
    } finally {
      await store.close();
    }
  };
  const rawEach = async (n: number): Promise<number> => {
    const rows = rawRows(readings(n), SUBJECT, Date.now(), ttlMs);
    const table = new RawOutboxTable(scratch.dbFile("raw"));
    try {
      const s = await seconds(() => table.insertEach(rows));
      expect("raw rows stored", table.count(), n);
      return s;
    } finally {
      table.close();
    }
  };
  const oursEach = async (n: number): Promise<number> => {
    const batch = readings(n);
    const store = openStore(config.outbox);
    try {
      const s = await seconds(async () => {
        for (const e of batch) await store.outbox.enqueue(SUBJECT, e);
      });
      expect("outbox depth", store.outbox.stats().depth, n);
      return s;
    } finally {
      await store.close();
    }
  };

  await rawBurst(WARM_UP, true);
  await oursBurst(WARM_UP);
  const burst = { raw: [] as number[], encoded: [] as number[], ours: [] as number[] };
  const each = { raw: [] as number[], ours: [] as number[] };
  for (let r = 0; r < REPEATS; r++) {
    burst.raw.push(await rawBurst(N, false));
    burst.encoded.push(await rawBurst(N, true));
    burst.ours.push(await oursBurst(N));
  }
  for (let r = 0; r < REPEATS; r++) {
    each.raw.push(await rawEach(SEQUENTIAL_N));
    each.ours.push(await oursEach(SEQUENTIAL_N));
  }
  report(`durable enqueue: a burst of ${N} in one tick, WAL + synchronous=FULL (${Math.ceil(N / GROUP_MAX)} transactions of ≤${GROUP_MAX})`,
    { name: `better-sqlite3 INSERT, ${GROUP_MAX} per transaction`, perSecond: medianRate(N, burst.raw) },
    [{ name: "SqliteOutbox.enqueue × N (group commit)", perSecond: medianRate(N, burst.ours) }]);
  report("the same, against raw inserts that also JSON.stringify each envelope (as enqueue must)",
    { name: `stringify + INSERT, ${GROUP_MAX} per transaction`, perSecond: medianRate(N, burst.encoded) },
    [{ name: "SqliteOutbox.enqueue × N (group commit)", perSecond: medianRate(N, burst.ours) }]);
  const rawEachRate = medianRate(SEQUENTIAL_N, each.raw);
  const oursEachRate = medianRate(SEQUENTIAL_N, each.ours);
  report(`one producer awaiting each enqueue: ${SEQUENTIAL_N} envelopes, one commit (fsync) each`,
    { name: "better-sqlite3 INSERT, autocommit each", perSecond: rawEachRate },
    [{ name: "await SqliteOutbox.enqueue, one at a time", perSecond: oursEachRate }]);
  console.log(`  per commit: raw ${(1000 / rawEachRate).toFixed(2)} ms, ours ${(1000 / oursEachRate).toFixed(2)} ms`);
}

async function drainFigures(): Promise<void> {
  const server = await startNatsServer(cleanups, {
    config: `jetstream { domain: ${quote(DEFAULT_ROOT_DOMAIN)}, store_dir: ${quote(scratch.subdir("jetstream"))} }`,
  });
  const nc = await natsConnect({ servers: server.url, name: "bench-raw" });
  cleanups.after(() => nc.close());
  const jsm = await nc.jetstreamManager();
  await jsm.streams.add(uplinkStreamConfig({ duplicateWindowMs: DEFAULT_DUPLICATE_WINDOW_MS, replicas: 1 }) as unknown as Partial<StreamConfig>);
  const js = nc.jetstream();
  const stored = async (): Promise<number> => (await jsm.streams.info(UPLINK_STREAM)).state.messages;
  const publisher = await JetStreamPublisher.connect({
    servers: [server.url],
    name: "bench-relay",
    domain: DEFAULT_ROOT_DOMAIN,
    logger: silentLogger(),
    signal: AbortSignal.timeout(CONNECT_TIMEOUT_MS),
  });
  cleanups.after(() => publisher.close());
  // The raw publisher's window is the relay's batch (relayTuning: the hub's config defaults).
  const window = relayTuning(config).batch;

  // Every run starts from an empty stream, with envelope ids (Nats-Msg-Id) never sent before.
  const rawDrain = async (n: number): Promise<number> => {
    await jsm.streams.purge(UPLINK_STREAM);
    const msgs = readings(n).map((e) => ({ id: e.id, data: Buffer.from(JSON.stringify(e)) }));
    const s = await seconds(async () => {
      for (let i = 0; i < n; i += window) {
        await Promise.all(msgs.slice(i, i + window).map((m) => js.publish(SUBJECT, m.data, { msgID: m.id })));
      }
    });
    expect("messages in the stream", await stored(), n);
    return s;
  };
  const oursDrain = async (n: number): Promise<number> => {
    await jsm.streams.purge(UPLINK_STREAM);
    const store = openStore(config.outbox);
    const relay = new Relay({
      name: "root",
      outbox: store.outbox,
      publisher,
      ...relayTuning(config),
      clock: systemClock,
      logger: silentLogger(),
      metrics: new MetricsRegistry(),
    });
    try {
      await Promise.all(readings(n).map((e) => store.outbox.enqueue(SUBJECT, e)));
      const s = await seconds(async () => {
        await relay.start(AbortSignal.timeout(CONNECT_TIMEOUT_MS));
        await untilZero(() => store.outbox.stats().depth, () => `relay ${JSON.stringify(relay.status())}`);
      });
      expect("messages in the stream", await stored(), n);
      return s;
    } finally {
      await relay.stop();
      await store.close();
    }
  };

  await rawDrain(WARM_UP);
  await oursDrain(WARM_UP);
  const raw: number[] = [];
  const ours: number[] = [];
  for (let r = 0; r < REPEATS; r++) {
    raw.push(await rawDrain(N));
    ours.push(await oursDrain(N));
  }
  report(`drain to JetStream: ${N} envelopes, batches of ${window} (pipelined, then every ack awaited), nats-server ${nc.info?.version ?? "?"} R1 file store`,
    { name: `nats.js js.publish + msgID, windows of ${window}`, perSecond: medianRate(N, raw) },
    [{ name: "Relay: SqliteOutbox → JetStreamPublisher", perSecond: medianRate(N, ours) }]);
}

const t0 = Date.now();
const size = Buffer.byteLength(JSON.stringify(reading(N)));
console.log(`outbox benchmark: ${N} telemetry.reading envelopes (${size} B), median of ${REPEATS} runs, node ${process.versions.node}, ${cpus().length} cores`);
console.log(`scratch dir ${scratch.dir}${scratch.onTmpfs ? "   WARNING: tmpfs, fsync costs nothing here; set TMPDIR to a directory on disk" : ""}`);
try {
  await enqueueFigures();
  await drainFigures();
} catch (err) {
  if (!cleanups.interrupted) throw err;
} finally {
  await cleanups.run();
}
console.log(`\ndone in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
