import { strict as assert } from "node:assert";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import type { Envelope } from "../../abi/envelope.js";
import { LocalBus } from "../bus/local-bus.js";
import { systemClock } from "../core/clock.js";
import { BadRequestError, ConflictError, NotFoundError, ScheduleInvalidError } from "../core/errors.js";
import { silentLogger } from "../core/logger.js";
import { MetricsRegistry } from "../core/metrics.js";
import { ScenarioRuntime } from "./runtime.js";
import { SOURCE, testCatalog, until } from "./test-fixture.js";

type TestContext = { after(fn: () => Promise<void> | void): void };

async function started(t: TestContext, files: Record<string, string>): Promise<{ rt: ScenarioRuntime; events: Envelope[]; dir: string }> {
  const dir = mkdtempSync(join(tmpdir(), "adaos-runtime-"));
  const scenarios = join(dir, "scenarios");
  mkdirSync(scenarios);
  for (const [name, text] of Object.entries(files)) writeFileSync(join(scenarios, name), text);
  const catalog = testCatalog();
  const bus = new LocalBus({ catalog, logger: silentLogger(), metrics: new MetricsRegistry(), source: SOURCE });
  const events: Envelope[] = [];
  bus.subscribe(">", (e) => void events.push(e));
  const rt = new ScenarioRuntime({
    dataDir: dir, dirs: [scenarios], maxConcurrentPerNode: 2, runsKept: 10, bus, catalog, clock: systemClock,
    logger: silentLogger(), source: SOURCE, tenant: "default",
  });
  await rt.start(new AbortController().signal);
  t.after(async () => {
    await rt.stop();
    await bus.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  return { rt, events, dir };
}

const HELLO = ["id: hello", "triggers:", '  - cron: "0 7 * * *"', "    tz: Europe/Berlin", "steps:", "  - name: hi", '    notify: "hi ${ctx.who}"', ""].join("\n");

test("a bad scenario file is skipped and the others run", async (t) => {
  const { rt } = await started(t, { "hello.yaml": HELLO, "broken.yaml": "id: [not, an, id]\nsteps: 3\n" });
  assert.deepEqual(rt.scenarios().map((s) => s.id), ["hello"]);
  assert.deepEqual(rt.scenarios()[0]?.triggers, ["cron 0 7 * * * (Europe/Berlin)"]);
});

test("run, status with the journal, cancel of a finished run, replay with the same ctx; unknown ids are E_NOT_FOUND", async (t) => {
  const { rt, events } = await started(t, { "hello.yaml": HELLO });
  const { run_id } = rt.run({ id: "hello", ctx: { who: "Ada" } });
  await until(() => rt.status(run_id).state === "succeeded");
  const s = rt.status(run_id);
  assert.deepEqual(s.steps?.map((x) => [x.step, x.state]), [["hi", "ok"]]);
  assert.equal(s.trigger, "api");
  assert.deepEqual(rt.cancel(run_id), { run_id, state: "succeeded", cancelled: false });
  const again = rt.replay(run_id);
  assert.equal(again.replay_of, run_id);
  await until(() => rt.status(again.run_id).state === "succeeded");
  assert.deepEqual(rt.status(again.run_id).ctx, { who: "Ada" });
  assert.equal(rt.status(again.run_id).replay_of, run_id);
  await until(() => events.filter((e) => e.event_name === "ui.notify").length === 2);
  assert.deepEqual(rt.runs({ scenario_id: "hello" }).map((r) => r.run_id), [again.run_id, run_id]);
  assert.throws(() => rt.status("nope"), NotFoundError);
  assert.throws(() => rt.cancel("nope"), NotFoundError);
  assert.throws(() => rt.replay("nope"), NotFoundError);
  assert.throws(() => rt.run({ id: "nope" }), NotFoundError);
});

test("schedules: the trigger's own is listed with its next run and cannot be deleted here; API schedules are created and deleted", async (t) => {
  const { rt } = await started(t, { "hello.yaml": HELLO });
  const own = rt.schedules().find((s) => s.id === "trigger.hello.0");
  assert.ok(own !== undefined && own.from_trigger && own.tz === "Europe/Berlin" && own.next_at !== null);
  assert.throws(() => rt.deleteSchedule("trigger.hello.0"), ConflictError);
  assert.throws(() => rt.createSchedule({ id: "trigger.mine", scenario_id: "hello", spec: { type: "interval", every_ms: 5000 } }), BadRequestError);
  assert.throws(() => rt.createSchedule({ scenario_id: "missing", spec: { type: "interval", every_ms: 5000 } }), NotFoundError);
  assert.throws(() => rt.createSchedule({ scenario_id: "hello", spec: { type: "interval", every_ms: 10 } }), ScheduleInvalidError);
  const mine = rt.createSchedule({ id: "daily-hello", scenario_id: "hello", spec: { type: "cron", cron: "30 6 * * *" }, ctx: { who: "Bob" } });
  assert.equal(mine.from_trigger, false);
  assert.equal(mine.schedule, "30 6 * * *");
  assert.match(mine.next_at ?? "", /T06:30:00\.000Z$/);
  rt.deleteSchedule("daily-hello");
  assert.throws(() => rt.deleteSchedule("daily-hello"), NotFoundError);
  assert.deepEqual(rt.schedules().map((s) => s.id), ["trigger.hello.0"]);
});
