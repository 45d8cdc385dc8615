/**
 * Bus throughput: publish → deliver with envelope and payload validation on, as a ratio of a raw
 * EventEmitter loop measured in the same run (the ceiling for in-process dispatch in Node).
 *
 *   node dist/bench/bus.bench.js [messages]
 */
import { EventEmitter } from "node:events";
import type { Envelope } from "../abi/envelope.js";
import { LocalBus } from "../agent/bus/local-bus.js";
import { createEnvelope } from "../agent/core/envelope.js";
import { silentLogger } from "../agent/core/logger.js";
import { MetricsRegistry } from "../agent/core/metrics.js";
import { precompiledCatalog } from "../agent/registry/precompiled.js";
import { rate, report } from "./bench-util.js";

const N = Number(process.argv[2] ?? 200_000);
const REPEATS = 5;

function envelopes(n: number): Envelope[] {
  return Array.from({ length: n }, (_, i) =>
    createEnvelope({ event_name: "ui.notify", version: 1, source: "bench@node", payload: { text: `message ${i}`, level: "info" } }),
  );
}

async function rawEmitter(batch: readonly Envelope[]): Promise<void> {
  const ee = new EventEmitter();
  let got = 0;
  const done = new Promise<void>((resolve) => {
    ee.on("ui.notify", () => {
      if (++got === batch.length) resolve();
    });
  });
  for (const e of batch) ee.emit(e.event_name, e);
  await done;
}

/** EventEmitter plus the same precompiled envelope and payload validators: the floor once validation is on. */
async function emitterWithValidation(batch: readonly Envelope[]): Promise<void> {
  const catalog = precompiledCatalog();
  const ee = new EventEmitter();
  let got = 0;
  const done = new Promise<void>((resolve) => {
    ee.on("ui.notify", () => {
      if (++got === batch.length) resolve();
    });
  });
  for (const e of batch) {
    const copy = { ...e };
    const event = catalog.get(copy.event_name, copy.version);
    if (catalog.validateEnvelope(copy) && event?.validatePayload(copy.payload) === true) ee.emit(copy.event_name, copy);
  }
  await done;
}

async function throughBus(batch: readonly Envelope[], create: boolean): Promise<void> {
  const bus = new LocalBus({
    catalog: precompiledCatalog(),
    logger: silentLogger(),
    metrics: new MetricsRegistry(),
    source: "agent://hub/bench",
    maxPending: batch.length + 1,
    dedupWindow: 100_000,
  });
  let got = 0;
  const done = new Promise<void>((resolve) => {
    bus.subscribe("ui.notify", () => {
      if (++got === batch.length) resolve();
    });
  });
  if (create) {
    for (let i = 0; i < batch.length; i++) {
      bus.publish(createEnvelope({ event_name: "ui.notify", version: 1, source: "bench@node", payload: { text: `message ${i}`, level: "info" } }));
    }
  } else {
    for (const e of batch) bus.publish(structuredCloneLite(e));
  }
  await done;
  await bus.stop();
}

/** A fresh top-level object (the bus freezes what it accepts), sharing the payload. */
function structuredCloneLite(e: Envelope): Envelope {
  return { ...e };
}

async function main(): Promise<void> {
  const batch = envelopes(N);
  console.log(`bus benchmark: ${N} envelopes per run, median of ${REPEATS} runs, node ${process.versions.node}`);
  await throughBus(batch.slice(0, 10_000), false); // warm-up (JIT)
  await rawEmitter(batch.slice(0, 10_000));
  const raw = await rate(N, REPEATS, () => rawEmitter(batch));
  const validatedRaw = await rate(N, REPEATS, () => emitterWithValidation(batch));
  const prebuilt = await rate(N, REPEATS, () => throughBus(batch, false));
  const created = await rate(N, REPEATS, () => throughBus(batch, true));
  const ours = [
    { name: "LocalBus publish(prebuilt envelope) → handler", perSecond: prebuilt },
    { name: "LocalBus createEnvelope + publish → handler", perSecond: created },
  ];
  report("publish → deliver, one subscriber, validation on", { name: "EventEmitter emit → listener", perSecond: raw }, ours);
  report("the same, against validation alone (what the bus adds: dedup, routing, queues, metrics)", {
    name: "validate envelope + payload, then emit",
    perSecond: validatedRaw,
  }, ours);
}

await main();
