import { strict as assert } from "node:assert";
import { test } from "node:test";
import type { Envelope } from "../../abi/envelope.js";
import { systemClock } from "../core/clock.js";
import { silentLogger } from "../core/logger.js";
import { MetricsRegistry } from "../core/metrics.js";
import { precompiledCatalog } from "../registry/precompiled.js";
import { LocalBus } from "./local-bus.js";
import { publishOrLog } from "./publish-or-log.js";

test("publishOrLog: a valid event is published; a refused one is logged with the context, not thrown", async (t) => {
  const bus = new LocalBus({ catalog: precompiledCatalog(), logger: silentLogger(), metrics: new MetricsRegistry(), source: "agent://hub/hub-1" });
  t.after(() => bus.stop());
  const seen: Envelope[] = [];
  bus.subscribe("ui.notify", (e: Envelope) => void seen.push(e));
  const logged: { obj: Record<string, unknown>; msg: string }[] = [];
  const logger = { ...silentLogger(), error: (obj: Record<string, unknown>, msg: string) => void logged.push({ obj, msg }) } as unknown as ReturnType<typeof silentLogger>;

  assert.equal(publishOrLog(bus, { event_name: "ui.notify", version: 1, source: "test", correlation_id: "c-1", payload: { text: "hi" } }, systemClock, logger), true);
  assert.equal(publishOrLog(bus, { event_name: "ui.notify", version: 1, source: "test", payload: { text: 42 } }, systemClock, logger, { run_id: "r-1" }), false);
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(seen.map((e) => [e.correlation_id, (e.payload as { text: string }).text]), [["c-1", "hi"]]);
  assert.equal(logged.length, 1);
  assert.equal(logged[0]?.msg, "could not publish ui.notify");
  assert.equal(logged[0]?.obj.run_id, "r-1");
  assert.equal(logged[0]?.obj.event_name, "ui.notify");
});
