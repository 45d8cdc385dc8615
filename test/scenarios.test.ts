/**
 * The scenario runtime in a real agent process (issue 8 "Show"): an every-second schedule keeps
 * firing across a SIGKILL and a restart without a duplicate run for any tick; runs over HTTP
 * (run, status with the step journal, cancel within 1 s, replay, runs); the shipped examples
 * installed as a user would (greet_on_boot on system.boot.completed, weather_now on an intent
 * with a slot, morning_brief's cron in its time zone); and `scenario validate` on good and bad files.
 */
import { strict as assert } from "node:assert";
import { copyFileSync, cpSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { call, REPO_ROOT, runCli, tempDir, waitFor } from "./helpers.js";
import { makeHub, type HubProcess } from "./saf-harness.js";

interface Run {
  run_id: string; scenario_id: string; state: string; step: string | null; trigger: string; correlation_id: string;
  ctx: Record<string, unknown>; bag: Record<string, unknown>; steps?: { step: string; attempt: number; state: string }[];
  error: { code: string; message: string } | null; replay_of: string | null;
}

const runs = async (url: string, scenarioId: string): Promise<Run[]> =>
  (await call<{ runs: Run[] }>(url, `/api/scenario/runs?scenario_id=${scenarioId}&limit=500`)).body.runs;

const FINAL = new Set(["succeeded", "failed", "cancelled", "timed_out", "interrupted"]);

/** A hub (MQTT only: no nats-server needed here) with these scenario files in <data_dir>/scenarios. */
async function hubWith(t: Parameters<typeof makeHub>[0], files: Record<string, string>): Promise<HubProcess> {
  const hub = await makeHub(t, undefined, [], { ADAOS_EDGE_NATS_SERVER_BIN: "" });
  const dir = join(hub.dataDir, "scenarios");
  mkdirSync(dir, { recursive: true });
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return hub;
}

test("an every-second schedule keeps firing across SIGKILL and restart, never two runs for one tick", { timeout: 60_000 }, async (t) => {
  const hub = await hubWith(t, {
    "blink.yaml": [
      "id: blink",
      "triggers:",
      '  - cron: "* * * * * *"',
      "    catch_up: true",
      "steps:",
      "  - name: note",
      '    notify: "tick ${ctx.tick.seq} of ${ctx.tick.schedule_id}"',
      "",
    ].join("\n"),
  });
  await hub.start();
  await waitFor("3 runs before the kill", async () => ((await runs(hub.url, "blink")).length >= 3 ? true : undefined), 15_000);
  hub.proc().child.kill("SIGKILL");
  await hub.proc().exited;
  const before = (await (async () => {
    const { openScenarioDb } = await import("../agent/scenarios/scenario-db.js");
    const db = openScenarioDb(hub.dataDir);
    try {
      return db.prepare("SELECT COUNT(*) AS n FROM runs WHERE scenario_id = 'blink'").get() as { n: number };
    } finally {
      db.close();
    }
  })()).n;
  await new Promise((r) => setTimeout(r, 2500));
  await hub.start();
  await waitFor("3 more runs after the restart", async () => ((await runs(hub.url, "blink")).length >= before + 3 ? true : undefined), 15_000);
  const all = await runs(hub.url, "blink");
  const ticks = all.map((r) => (r.ctx.tick as { scheduled_at: string }).scheduled_at);
  assert.equal(new Set(ticks).size, ticks.length, `one run per tick: ${ticks.sort().join(" ")}`);
  const sorted = [...ticks].sort();
  const gaps = sorted.slice(1).map((x, i) => Date.parse(x) - Date.parse(sorted[i] ?? x));
  assert.ok(gaps.every((g) => g % 1000 === 0 && g > 0), `ticks on whole seconds: ${gaps.join(",")}`);
  assert.ok(gaps.some((g) => g >= 2000), "the seconds the agent was down were skipped, except the one catch-up tick");
  assert.ok(all.every((r) => FINAL.has(r.state) || r.state === "running" || r.state === "queued"));
  assert.ok(all.filter((r) => r.state === "succeeded").length >= 5);
});

test("over HTTP: run with ctx, status with the journal, cancel a long step within 1 s, replay, runs; the examples as shipped", { timeout: 60_000 }, async (t) => {
  const hub = await hubWith(t, {
    "hello.yaml": [
      "id: hello",
      "ctx: { name: World }",
      "steps:",
      "  - name: compose",
      '    set: { text: "Hello, ${ctx.name}" }',
      "  - name: show",
      '    notify: "${bag.text}"',
      "",
    ].join("\n"),
    "long.yaml": ["id: long", "steps:", "  - name: nap", "    sleep: 10m", ""].join("\n"),
  });
  const dir = join(hub.dataDir, "scenarios");
  for (const f of ["greet_on_boot.yaml", "weather_now.yaml", "morning_brief.yaml"]) copyFileSync(join(REPO_ROOT, "examples/scenarios", f), join(dir, f));
  cpSync(join(REPO_ROOT, "examples/scenarios/fragments"), join(dir, "fragments"), { recursive: true });
  await hub.start();

  // greet_on_boot ran on system.boot.completed.
  const greet = await waitFor("greet_on_boot ran", async () => (await runs(hub.url, "greet_on_boot")).find((r) => FINAL.has(r.state)));
  assert.equal(greet.state, "succeeded", JSON.stringify(greet));
  assert.equal(greet.trigger, "event:system.boot.completed");

  const started = await call<{ run_id: string; status: string }>(hub.url, "/api/scenario/run", { id: "hello", ctx: { name: "Ada" }, priority: "HIGH" });
  assert.equal(started.status, 202, JSON.stringify(started.body));
  const done = await waitFor("hello to finish", async () => {
    const s = (await call<Run>(hub.url, `/api/scenario/status?run_id=${started.body.run_id}`)).body;
    return FINAL.has(s.state) ? s : undefined;
  });
  assert.equal(done.state, "succeeded");
  assert.deepEqual(done.bag, { text: "Hello, Ada" });
  assert.deepEqual(done.steps?.map((s) => [s.step, s.attempt, s.state]), [["compose", 1, "ok"], ["show", 1, "ok"]]);

  const replay = await call<{ run_id: string; replay_of: string }>(hub.url, "/api/scenario/replay", { run_id: started.body.run_id });
  assert.equal(replay.body.replay_of, started.body.run_id);
  await waitFor("the replay to finish", async () => ((await call<Run>(hub.url, `/api/scenario/status?run_id=${replay.body.run_id}`)).body.state === "succeeded" ? true : undefined));
  assert.deepEqual((await call<Run>(hub.url, `/api/scenario/status?run_id=${replay.body.run_id}`)).body.ctx, { name: "Ada" });

  const long = await call<{ run_id: string }>(hub.url, "/api/scenario/run", { id: "long" });
  await waitFor("long to be in its nap", async () => ((await call<Run>(hub.url, `/api/scenario/status?run_id=${long.body.run_id}`)).body.step === "nap" ? true : undefined));
  const busy = await call<{ error: { code: string } }>(hub.url, "/api/scenario/run", { id: "long" });
  assert.deepEqual([busy.status, busy.body.error.code], [409, "E_SCENARIO_BUSY"]);
  const t0 = Date.now();
  await call(hub.url, "/api/scenario/cancel", { run_id: long.body.run_id });
  await waitFor("long cancelled", async () => ((await call<Run>(hub.url, `/api/scenario/status?run_id=${long.body.run_id}`)).body.state === "cancelled" ? true : undefined), 1000, 20);
  const cancelMs = Date.now() - t0;
  t.diagnostic(`cancel → cancelled in ${cancelMs} ms`);
  assert.ok(cancelMs < 1000);

  // weather_now: an intent with a slot starts it with the slot in ctx.
  const intent = { event_name: "nlp.intent.detected", version: 1, payload: { intent_id: "i-1", intent: "weather.now", slots: { city: "Berlin" }, locale: "en-US", text: "weather in berlin" } };
  const pub = await call<{ results: { status: string }[] }>(hub.url, "/api/events/publish", [intent]);
  assert.equal(pub.body.results[0]?.status, "accepted", JSON.stringify(pub.body));
  const weather = await waitFor("weather_now ran", async () => (await runs(hub.url, "weather_now")).find((r) => FINAL.has(r.state)));
  assert.equal(weather.state, "succeeded", JSON.stringify(weather));
  assert.equal(weather.ctx.city, "Berlin");

  // morning_brief: its cron is a stored schedule whose next run is at 07:00 in Berlin.
  const { body: sch } = await call<{ schedules: { id: string; scenario_id: string; next_at: string; tz: string | null; from_trigger: boolean }[] }>(hub.url, "/api/scenario/schedules");
  const brief = sch.schedules.find((s) => s.scenario_id === "morning_brief");
  assert.ok(brief !== undefined && brief.from_trigger, JSON.stringify(sch));
  const hour = new Intl.DateTimeFormat("en-GB", { timeZone: "Europe/Berlin", hour: "2-digit", minute: "2-digit", hourCycle: "h23" }).format(new Date(brief.next_at));
  assert.equal(hour, "07:00");

  const list = await call<{ scenarios: { id: string }[] }>(hub.url, "/api/scenarios");
  assert.deepEqual(list.body.scenarios.map((s) => s.id), ["greet_on_boot", "hello", "long", "morning_brief", "weather_now"]);
});

test("scenario validate: ok for the shipped examples, every problem with its place for a bad file", async (t) => {
  const dir = tempDir(t, "adaos-validate-");
  const bad = join(dir, "bad.yaml");
  writeFileSync(bad, ["id: Bad Id", "steps:", "  - name: x", "    say: hi", "    notify: also", "  - name: y", "    retries: { max: 99 }", "    sleep: soon", ""].join("\n"));
  const good = runCli(t, ["scenario", "validate", ...["greet_on_boot", "weather_now", "morning_brief"].map((f) => join(REPO_ROOT, "examples/scenarios", `${f}.yaml`))]);
  assert.equal(await good.exited, 0, good.stderr() + good.stdout());
  assert.equal(good.stdout().split("\n").filter((l) => l.startsWith("ok ")).length, 3, good.stdout());
  const no = runCli(t, ["scenario", "validate", bad]);
  assert.equal(await no.exited, 1);
  const text = no.stdout() + no.stderr();
  for (const where of ["/id", "/steps/0", "/steps/1/retries/max", "/steps/1/sleep"]) assert.ok(text.includes(where), `mentions ${where}: ${text}`);
});
