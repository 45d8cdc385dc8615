/**
 * Per-node secrets over NATS, against real nats-server processes: the hub's server lists members
 * by the NKey public key of their secret and follows `nodes add|revoke` while it runs. A member
 * added after the hub started joins over NATS within seconds with the printed seed, a wrong or
 * borrowed seed gets nowhere, and revoking closes its NATS connection within REVOCATION_CHECK_MS
 * (and its MQTT login goes too). The seed is never written or logged on the hub.
 */
import { strict as assert } from "node:assert";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import mqtt from "mqtt";
import { connect, ErrorCode, Events, nkeyAuthenticator, type NatsConnection } from "nats";
import { REVOCATION_CHECK_MS } from "../agent/broker/credentials-store.js";
import { newNodeKey, userPublicKey } from "../agent/broker/node-key.js";
import { natsPaths } from "../agent/natsd/config-writer.js";
import { hubUsers } from "../agent/natsd/users.js";
import { freePort, runCli, startAgent, tempDir, waitFor, within } from "./helpers.js";
import { HUB_ID, makeHub } from "./natsd-hub.js";

interface After {
  after(fn: () => void | Promise<void>): void;
}

const never = new AbortController().signal;
const TOKEN = "test-token-0123456789abcdef";

async function natsWithSeed(t: After, url: string, seed: string, name: string): Promise<NatsConnection> {
  const nc = await connect({ servers: url, authenticator: nkeyAuthenticator(new TextEncoder().encode(seed)), name, reconnectTimeWait: 50, maxReconnectAttempts: -1 });
  t.after(() => nc.close());
  return nc;
}

interface Conn {
  readonly cid: number;
  readonly name?: string;
  readonly authorized_user?: string;
}

/** The hub's nats-server client connections (monitoring endpoint). */
async function connz(monitorPort: number): Promise<Conn[]> {
  const res = await fetch(`http://127.0.0.1:${monitorPort}/connz?auth=true&limit=1024`);
  return ((await res.json()) as { connections?: Conn[] }).connections ?? [];
}

/** `adaos-edge nodes add <id>` on the hub's data dir; the secret it printed. */
async function issue(t: After, dataDir: string, nodeId: string): Promise<string> {
  const add = runCli(t, ["nodes", "add", nodeId, "--data-dir", dataDir]);
  assert.equal(await add.exited, 0, add.stderr());
  const seed = /password (\S+)/.exec(add.stdout())?.[1];
  assert.ok(seed !== undefined && userPublicKey(seed) !== undefined, add.stdout());
  return seed;
}

/** Every file under `dir`, as text (latin1: binary files too). */
function everyFile(dir: string): { path: string; text: string }[] {
  const files: { path: string; text: string }[] = [];
  for (const path of readdirSync(dir, { recursive: true, encoding: "utf8" }).map((rel) => join(dir, rel))) {
    try {
      if (statSync(path).isFile()) files.push({ path, text: readFileSync(path).toString("latin1") });
    } catch {
      // a temp file gone meanwhile
    }
  }
  return files;
}

async function mqttLogin(port: number, username: string, password: string): Promise<"ok" | number> {
  try {
    const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, { username, password, clientId: `${username}@check`, reconnectPeriod: 0, connectTimeout: 3000 });
    await client.endAsync();
    return "ok";
  } catch (err) {
    return (err as { code?: number }).code ?? -1;
  }
}

async function publish(url: string, token: string, body: unknown): Promise<number> {
  const res = await fetch(`${url}/api/events/publish`, { method: "POST", headers: { "content-type": "application/json", "x-adaos-token": token }, body: JSON.stringify(body) });
  await res.text();
  return res.status;
}

test("the supervisor's nats-server: NKey members stay connected across a reload, a removed one is closed and kept out", async (t) => {
  const [tv, speaker] = [newNodeKey(), newNodeKey()];
  const users = (hubPassword: string, keys: { nodeId: string; publicKey: string }[]) => hubUsers({ hubId: HUB_ID, hubPassword, token: null, members: keys });
  const both = [{ nodeId: "tv", publicKey: tv.publicKey }, { nodeId: "speaker", publicKey: speaker.publicKey }];
  const hub = await makeHub(t, { users: (pw) => users(pw, both) });
  await hub.sup.start(never);
  const tvNc = await natsWithSeed(t, hub.sup.url, tv.seed, "tv");
  const speakerNc = await natsWithSeed(t, hub.sup.url, speaker.seed, "speaker");
  let speakerDropped = false;
  void (async () => {
    for await (const s of speakerNc.status()) if (s.type === Events.Disconnect) speakerDropped = true;
  })();

  assert.equal(await hub.sup.reload(users(hub.hubPassword, [both[1]!])), true);
  const closed = await within(5_000, "tv's connection closed by the reload", tvNc.closed());
  assert.match(String(closed), /Authorization Violation/);
  await assert.rejects(natsWithSeed(t, hub.sup.url, tv.seed, "tv again"), (e: Error & { code?: string }) => e.code === ErrorCode.AuthorizationViolation);
  await speakerNc.flush();
  assert.equal(speakerDropped, false, "the other NKey member was not disconnected");
  assert.ok(!readFileSync(natsPaths(join(hub.dir, "nats")).conf, "utf8").includes(speaker.seed));
});

test("nodes add on a running hub: the seed joins over NATS within seconds; wrong seeds get nowhere; revoke closes it", async (t) => {
  const hubDir = tempDir(t, "adaos-hub-");
  const [natsPort, monitorPort, apiPort, mqttPort] = [await freePort(), await freePort(), await freePort(), await freePort()];
  const hub = runCli(t, [
    "run", "--role", "hub", "--node-id", "hub1", "--data-dir", hubDir, "--api-port", String(apiPort), "--nats-port", String(natsPort), "--mqtt-port", String(mqttPort),
  ], {
    env: { ADAOS_EDGE_TOKEN: TOKEN, ADAOS_EDGE_NATS_SERVER_BIN: "nats-server", ADAOS_EDGE_NATS_MONITOR_PORT: String(monitorPort), ADAOS_EDGE_LOG_LEVEL: "debug" },
  });
  const hubUrl = `http://127.0.0.1:${apiPort}`;
  const natsUrl = `nats://127.0.0.1:${natsPort}`;
  await waitFor(`the hub with nats-server (stderr: ${hub.stderr()})`, async () => ((await fetch(`${hubUrl}/health/ready`)).ok ? true : undefined), 20_000);

  // Issued after the hub started; the members start at once and retry until the hub's server takes the key.
  const seed = await issue(t, hubDir, "tv");
  const addedAt = performance.now();
  const tvKey = userPublicKey(seed) ?? "";
  const stranger = newNodeKey();
  const [member, lamp] = await Promise.all([
    startAgent(t, ["--role", "member", "--node-id", "tv", "--hub", natsUrl], { ADAOS_EDGE_HUB_PASSWORD: seed }),
    startAgent(t, ["--role", "member", "--node-id", "lamp", "--hub", natsUrl], { ADAOS_EDGE_HUB_PASSWORD: stranger.seed }),
  ]);
  const tvConn = await waitFor("tv's member on the hub's nats-server", async () => (await connz(monitorPort)).find((c) => c.name === "tv-agent"), 12_000, 100);
  const joinedMs = performance.now() - addedAt;
  t.diagnostic(`nodes add → member connected over NATS: ${Math.round(joinedMs)} ms`);
  assert.ok(joinedMs < REVOCATION_CHECK_MS + 5_000, `joined ${Math.round(joinedMs)} ms after nodes add`);
  assert.equal(tvConn.authorized_user, tvKey, "authenticated by its public key");

  const hubTail = runCli(t, ["events", "tail", "ui.notify", "--count", "1", "--api", hubUrl, "--token", TOKEN]);
  await waitFor("the hub's tail to connect", async () => {
    const text = await (await fetch(`${hubUrl}/metrics`, { headers: { "x-adaos-token": TOKEN } })).text();
    return /^adaos_sse_clients 1$/m.test(text) || undefined;
  });
  assert.equal(await publish(member.url, member.token, { event_name: "ui.notify", version: 1, payload: { text: "signed in" } }), 202);
  assert.equal(await within(10_000, "the hub to see the member's event over NATS", hubTail.exited), 0, hubTail.stderr());
  assert.equal((JSON.parse(hubTail.stdout().trim()) as { source: string; payload: { text: string } }).source, "api@tv");

  // Another node added meanwhile: the reload keeps tv's connection.
  const speakerSeed = await issue(t, hubDir, "speaker");
  const conf = natsPaths(join(hubDir, "nats")).conf;
  await waitFor("speaker in the server's config", () => readFileSync(conf, "utf8").includes(userPublicKey(speakerSeed) ?? "?") || undefined, REVOCATION_CHECK_MS + 5_000, 100);
  assert.equal((await connz(monitorPort)).find((c) => c.name === "tv-agent")?.cid, tvConn.cid, "same connection");

  // Wrong seeds: a key the hub never issued is refused (the member keeps trying, in vain) ...
  assert.equal((await connz(monitorPort)).some((c) => c.name === "lamp-agent"), false);
  assert.match(hub.stdout(), new RegExp(`authentication error - Nkey \\\\?"${stranger.publicKey}`));
  await assert.rejects(natsWithSeed(t, natsUrl, stranger.seed, "stranger"), (e: Error & { code?: string }) => e.code === ErrorCode.AuthorizationViolation);
  // ... and another node's seed is that node, not tv: tv's subjects stay closed to it, and MQTT refuses it for tv.
  const borrowed = await natsWithSeed(t, natsUrl, speakerSeed, "tv-with-speakers-seed");
  const refused = new Promise<string>((resolve) => {
    void (async () => {
      for await (const s of borrowed.status()) if (s.type === Events.Error) resolve(JSON.stringify(s.data));
    })();
  });
  borrowed.publish("ada.agent.tv.evt", new TextEncoder().encode("{}"));
  assert.equal(await within(5_000, "a permissions violation", refused), JSON.stringify(ErrorCode.PermissionsViolation));
  assert.equal(await mqttLogin(mqttPort, "tv", speakerSeed), 4, "MQTT: bad username or password");
  assert.equal(await mqttLogin(mqttPort, "tv", seed), "ok", "the same seed is tv's MQTT password");

  // Revoked: the NATS connection goes within one check, and stays gone.
  const revoke = runCli(t, ["nodes", "revoke", "tv", "--data-dir", hubDir]);
  assert.equal(await revoke.exited, 0, revoke.stderr());
  const revokedAt = performance.now();
  await waitFor("tv's NATS connection closed", async () => !(await connz(monitorPort)).some((c) => c.name === "tv-agent") || undefined, REVOCATION_CHECK_MS + 5_000, 100);
  const closedMs = performance.now() - revokedAt;
  t.diagnostic(`nodes revoke → NATS connection closed: ${Math.round(closedMs)} ms`);
  assert.ok(closedMs < REVOCATION_CHECK_MS + 3_000, `closed ${Math.round(closedMs)} ms after nodes revoke`);
  await new Promise((r) => setTimeout(r, 2_000));
  assert.equal((await connz(monitorPort)).some((c) => c.name === "tv-agent"), false, "no way back in over NATS");
  assert.equal(await mqttLogin(mqttPort, "tv", seed), 5, "MQTT: not authorized (revoked)");

  // The seeds exist only where they were printed and on the members: nowhere in the hub's files or logs.
  for (const secret of [seed, speakerSeed]) {
    for (const f of everyFile(hubDir)) assert.ok(!f.text.includes(secret), `a seed in ${f.path}`);
    assert.ok(!hub.stdout().includes(secret) && !hub.stderr().includes(secret), "a seed in the hub's log");
  }
  assert.ok(!member.stdout().includes(seed) && !lamp.stdout().includes(stranger.seed), "nor in the members' logs");
  assert.ok(readFileSync(conf, "utf8").includes(userPublicKey(speakerSeed) ?? "?") && !readFileSync(conf, "utf8").includes(tvKey), "public keys only; tv's is gone");

  for (const p of [member, lamp]) p.child.kill("SIGTERM");
  hub.child.kill("SIGTERM");
  assert.equal(await within(6000, "member stop", member.exited), 0);
  assert.equal(await within(8000, "hub stop (and its nats-server)", hub.exited), 0);
});
