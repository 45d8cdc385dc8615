/**
 * The events CLI against a real running agent process: publish through the HTTP API, tail the
 * Server-Sent Events stream, and the errors users meet (bad token, invalid payload, no agent).
 */
import { strict as assert } from "node:assert";
import { test } from "node:test";
import { join } from "node:path";
import { freePort, runCli, startAgent, tempDir, waitFor, within, type RunningAgent } from "./helpers.js";

async function subscriptions(agent: RunningAgent): Promise<number> {
  const text = await (await fetch(`${agent.url}/metrics`, { headers: { "x-adaos-token": agent.token } })).text();
  return Number(/^adaos_bus_subscriptions (\d+)/m.exec(text)?.[1] ?? "0");
}

test("events tail prints what events publish sends, matching its pattern only", async (t) => {
  const agent = await startAgent(t);
  const api = ["--api", agent.url, "--token", agent.token];
  const before = await subscriptions(agent);
  const tail = runCli(t, ["events", "tail", "ui.>", "--count", "2", ...api]);
  await waitFor("the tail to subscribe", async () => ((await subscriptions(agent)) > before ? true : undefined));

  const say = runCli(t, ["events", "publish", "ui.say", "--data", '{"text":"hello"}', ...api]);
  assert.equal(await say.exited, 0, say.stderr());
  assert.match(say.stdout(), /^accepted [0-9a-f-]{36}\n$/);
  const other = runCli(t, ["events", "publish", "timer.tick", "--data", JSON.stringify({ timer_id: "t1", schedule_type: "cron", schedule: "* * * * *", scheduled_at: "2026-01-01T00:00:00.000Z", fired_at: "2026-01-01T00:00:00.005Z", seq: 1, missed: 0 }), ...api]);
  assert.equal(await other.exited, 0, other.stderr());
  const notify = runCli(t, ["events", "publish", "ui.notify", "--data", '{"text":"done","level":"success"}', "--priority", "1", ...api]);
  assert.equal(await notify.exited, 0, notify.stderr());

  assert.equal(await within(10_000, "tail to exit after 2 envelopes", tail.exited), 0, tail.stderr());
  const got = tail.stdout().trim().split("\n").map((l) => JSON.parse(l) as { event_name: string; payload: Record<string, unknown>; priority: number; source: string });
  assert.deepEqual(got.map((e) => e.event_name), ["ui.say", "ui.notify"]);
  assert.equal(got[0]?.payload.text, "hello");
  assert.equal(got[0]?.payload.interrupt, false, "schema defaults are filled in at ingress");
  assert.equal(got[1]?.priority, 1);
  assert.equal(got[0]?.source, "api@test-hub");
  await waitFor("the tail's subscription to go away", async () => ((await subscriptions(agent)) === before ? true : undefined));
});

test("publishing an invalid payload prints the JSON pointer and fails; a wrong token is E_UNAUTHORIZED", async (t) => {
  const agent = await startAgent(t);
  const bad = runCli(t, ["events", "publish", "ui.notify", "--data", '{"text":"","level":"loud"}', "--api", agent.url, "--token", agent.token]);
  assert.equal(await bad.exited, 1);
  assert.match(bad.stderr(), /E_PAYLOAD_INVALID/);
  assert.match(bad.stderr(), /\/payload\/text /);
  assert.match(bad.stderr(), /\/payload\/level /);

  const unknown = runCli(t, ["events", "publish", "no.such.event", "--data", "{}", "--api", agent.url, "--token", agent.token]);
  assert.equal(await unknown.exited, 1);
  assert.match(unknown.stderr(), /E_EVENT_UNKNOWN/);

  const wrong = runCli(t, ["events", "publish", "ui.say", "--data", '{"text":"x"}', "--api", agent.url, "--token", "not-the-token-at-all"]);
  assert.equal(await wrong.exited, 1);
  assert.match(wrong.stderr(), /E_UNAUTHORIZED/);

  const notJson = runCli(t, ["events", "publish", "ui.say", "--data", "{text:", "--api", agent.url, "--token", agent.token]);
  assert.equal(await notJson.exited, 2);
  assert.match(notJson.stderr(), /E_USAGE/);
});

test("the CLI reads the token from the agent's data dir when none is given", async (t) => {
  const port = await freePort();
  const dir = tempDir(t);
  runCli(t, ["run", "--api-port", String(port), "--data-dir", join(dir, "var")], { env: { ADAOS_EDGE_LOG_LEVEL: "warn" } });
  await waitFor("ready", async () => ((await fetch(`http://127.0.0.1:${port}/health/ready`)).ok ? true : undefined));
  const pub = runCli(t, ["events", "publish", "ui.say", "--data", '{"text":"via token file"}', "--api", `http://127.0.0.1:${port}`], { cwd: dir });
  assert.equal(await pub.exited, 0, pub.stderr());
  assert.match(pub.stdout(), /^accepted /);
});

test("with no agent running the CLI says so (E_API_UNREACHABLE)", async (t) => {
  const port = await freePort();
  const pub = runCli(t, ["events", "publish", "ui.say", "--data", '{"text":"x"}', "--api", `http://127.0.0.1:${port}`, "--token", "x".repeat(20)]);
  assert.equal(await pub.exited, 1);
  assert.match(pub.stderr(), /E_API_UNREACHABLE/);
  assert.match(pub.stderr(), new RegExp(`127\\.0\\.0\\.1:${port}`));
});
