/**
 * A hub and a member as real processes: the member joins the hub's embedded MQTT broker with the
 * subnet token; an event published on the member reaches the hub's bus, a command the hub
 * addresses to the member reaches the member's bus, and both stop cleanly.
 */
import { strict as assert } from "node:assert";
import { join } from "node:path";
import { test } from "node:test";
import Database from "better-sqlite3";
import { CREDENTIALS_DB_FILE } from "../agent/broker/credentials-store.js";
import { freePort, runCli, startAgent, tempDir, waitFor, within, type RunningAgent } from "./helpers.js";

async function publish(agent: RunningAgent, body: unknown): Promise<number> {
  const res = await fetch(`${agent.url}/api/events/publish`, {
    method: "POST",
    headers: { "content-type": "application/json", "x-adaos-token": agent.token },
    body: JSON.stringify(body),
  });
  await res.text();
  return res.status;
}

test("a member joins the hub over MQTT: its events reach the hub, the hub's addressed commands reach it", async (t) => {
  const mqttPort = await freePort();
  const hub = await startAgent(t, ["--role", "hub", "--node-id", "hub1"], { ADAOS_EDGE_MQTT_PORT: String(mqttPort) });
  const member = await startAgent(t, ["--role", "member", "--node-id", "tv", "--hub", `mqtt://127.0.0.1:${mqttPort}`]);

  const hubTail = runCli(t, ["events", "tail", "ui.notify", "--count", "1", "--api", hub.url, "--token", hub.token]);
  const memberTail = runCli(t, ["events", "tail", "scenario.run", "--count", "1", "--api", member.url, "--token", member.token]);
  // Each tail is subscribed once its agent counts an SSE client.
  for (const a of [hub, member]) {
    await waitFor("the tail to connect", async () => {
      const text = await (await fetch(`${a.url}/metrics`, { headers: { "x-adaos-token": a.token } })).text();
      return /^adaos_sse_clients 1$/m.test(text) || undefined;
    });
  }

  assert.equal(await publish(member, { event_name: "ui.notify", version: 1, payload: { text: "film started" } }), 202);
  assert.equal(await publish(hub, { event_name: "scenario.run", version: 1, kind: "command", payload: { id: "play" }, headers: { target: "tv" } }), 202);

  assert.equal(await within(10_000, "the hub to see the member's event", hubTail.exited), 0, hubTail.stderr());
  assert.equal(await within(10_000, "the member to get the hub's command", memberTail.exited), 0, memberTail.stderr());
  const atHub = JSON.parse(hubTail.stdout().trim()) as { source: string; payload: { text: string } };
  assert.equal(atHub.source, "api@tv");
  assert.equal(atHub.payload.text, "film started");
  const atMember = JSON.parse(memberTail.stdout().trim()) as { source: string; headers: { target: string } };
  assert.equal(atMember.source, "api@hub1");
  assert.equal(atMember.headers.target, "tv");

  member.child.kill("SIGTERM");
  hub.child.kill("SIGTERM");
  assert.equal(await within(6000, "member stop", member.exited), 0);
  assert.equal(await within(6000, "hub stop", hub.exited), 0);
});

test("a known member without an NKey joins the hub's supervised nats-server with the subnet token and its events reach the hub", async (t) => {
  const hubDir = tempDir(t, "adaos-hub-");
  const add = runCli(t, ["nodes", "add", "tv", "--data-dir", hubDir]);
  assert.equal(await add.exited, 0, add.stderr());
  // A credential issued before NKeys has no public key: over NATS that member logs in with the
  // subnet token (a member with an NKey credential signs with its seed: test/nats-credentials.test.ts).
  const db = new Database(join(hubDir, CREDENTIALS_DB_FILE));
  db.prepare("UPDATE credentials SET public_key = NULL WHERE node_id = 'tv'").run();
  db.close();
  const [natsPort, monitorPort, apiPort] = [await freePort(), await freePort(), await freePort()];
  const token = "test-token-0123456789abcdef";
  const hub = runCli(t, ["run", "--role", "hub", "--node-id", "hub1", "--data-dir", hubDir, "--api-port", String(apiPort), "--nats-port", String(natsPort)], {
    env: { ADAOS_EDGE_TOKEN: token, ADAOS_EDGE_NATS_SERVER_BIN: "nats-server", ADAOS_EDGE_NATS_MONITOR_PORT: String(monitorPort), ADAOS_EDGE_LOG_LEVEL: "warn" },
  });
  const hubUrl = `http://127.0.0.1:${apiPort}`;
  await waitFor(`the hub with nats-server (stderr: ${hub.stderr()})`, async () => ((await fetch(`${hubUrl}/health/ready`)).ok ? true : undefined), 20_000);
  const member = await startAgent(t, ["--role", "member", "--node-id", "tv", "--hub", `nats://127.0.0.1:${natsPort}`], { ADAOS_EDGE_TOKEN: token });

  const hubTail = runCli(t, ["events", "tail", "ui.notify", "--count", "1", "--api", hubUrl, "--token", token]);
  await waitFor("the hub's tail to connect", async () => {
    const text = await (await fetch(`${hubUrl}/metrics`, { headers: { "x-adaos-token": token } })).text();
    return /^adaos_sse_clients 1$/m.test(text) || undefined;
  });
  assert.equal(await publish(member, { event_name: "ui.notify", version: 1, payload: { text: "over nats" } }), 202);
  assert.equal(await within(10_000, "the hub to see the member's event over NATS", hubTail.exited), 0, hubTail.stderr());
  assert.equal((JSON.parse(hubTail.stdout().trim()) as { payload: { text: string } }).payload.text, "over nats");

  member.child.kill("SIGTERM");
  hub.child.kill("SIGTERM");
  assert.equal(await within(6000, "member stop", member.exited), 0);
  assert.equal(await within(8000, "hub stop (and its nats-server)", hub.exited), 0);
});
