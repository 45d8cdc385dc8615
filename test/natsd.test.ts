/**
 * The hub's nats-server supervisor against real nats-server processes on free loopback ports:
 * members confined to their subjects, restart after kill -9, missing binary and rejected config,
 * clean stop, a left-over server ended at start, and the hub as a leafnode of a 3-node root cluster
 * started from `adaos-edge root config` output.
 */
import { strict as assert } from "node:assert";
import { spawn } from "node:child_process";
import { test } from "node:test";
import { ErrorCode, Events, type NatsConnection, type Status } from "nats";
import { natsPaths, renderHubConfig, writeConfigFile } from "../agent/natsd/config-writer.js";
import { STOP_GRACE_MS, type NatsdState } from "../agent/natsd/supervisor.js";
import { subnetUsers } from "../agent/natsd/users.js";
import { GiveUp, waitFor, within } from "./helpers.js";
import { natsServerBinary } from "./nats-server.js";
import { collect, HUB_ID, makeHub, natsAs, processesWith, TOKEN } from "./natsd-hub.js";
import { leafHost, startRootCluster } from "./root-cluster.js";

const enc = (s: string) => new TextEncoder().encode(s);
const never = new AbortController().signal;

/** Permission errors the server reported to this connection. */
function permissionErrors(nc: NatsConnection): Status[] {
  const seen: Status[] = [];
  void (async () => {
    for await (const s of nc.status()) if (s.type === Events.Error && s.data === ErrorCode.PermissionsViolation) seen.push(s);
  })();
  return seen;
}

test("a real nats-server: hub and members connect, a member touches only its own subjects", async (t) => {
  const hub = await makeHub(t);
  await hub.sup.start(never);
  assert.deepEqual(hub.sup.state, { type: "up", url: `nats://127.0.0.1:${hub.port}` });
  assert.equal(hub.metrics.gauge("adaos_natsd_up", "").get(), 1);

  const hubNc = await natsAs(t, hub.sup.url, HUB_ID, hub.hubPassword);
  const tv = await natsAs(t, hub.sup.url, "tv", TOKEN);
  const tvErrors = permissionErrors(tv);
  const events = collect(hubNc, "ada.agent.*.evt");
  const tvCmds = collect(tv, "ada.agent.tv.cmd");
  const stolen = collect(tv, "ada.agent.speaker.cmd");
  await Promise.all([hubNc.flush(), tv.flush()]);

  tv.publish("ada.agent.tv.evt", enc("mine"));
  tv.publish("ada.agent.speaker.evt", enc("forged"));
  hubNc.publish("ada.agent.tv.cmd", enc("play"));
  hubNc.publish("ada.agent.speaker.cmd", enc("secret"));
  await waitFor("tv's event at the hub and the hub's command at tv", () => events.received.length === 1 && tvCmds.received.length === 1, 5_000);
  await waitFor("two permission violations reported to tv", () => tvErrors.length >= 2, 5_000);
  await Promise.all([hubNc.flush(), tv.flush()]);
  assert.deepEqual(events.received, ["mine"], "the forged event never reached the hub");
  assert.deepEqual(tvCmds.received, ["play"]);
  assert.deepEqual(stolen.received, [], "tv cannot read speaker's commands");
  assert.match(String(stolen.errors[0]?.message), /Permissions Violation for Subscription to "ada.agent.speaker.cmd"/);
  assert.deepEqual(tvErrors.map((s) => s.permissionContext?.operation).sort(), ["publish", "subscription"]);
  assert.ok(tvErrors.some((s) => s.permissionContext?.subject === "ada.agent.speaker.evt"));

  await assert.rejects(natsAs(t, hub.sup.url, "tv", "wrong-token-0123456789"), (e: Error & { code?: string }) => e.code === ErrorCode.AuthorizationViolation);

  const logs = hub.logs();
  const ready = logs.find((l) => l.msg === "Server is ready");
  assert.ok(ready && ready.level === 30 && ready.component === "natsd" && ready.pid === hub.sup.pid, "[INF] lines arrive at info with the pid");
  assert.ok(logs.some((l) => l.level === 40 && /Plaintext passwords/.test(l.msg)), "[WRN] lines arrive at warn");
});

test("reload: a member added later can connect without a restart", async (t) => {
  const hub = await makeHub(t);
  await hub.sup.start(never);
  const pid = hub.sup.pid;
  await assert.rejects(natsAs(t, hub.sup.url, "lamp", TOKEN));
  const users = subnetUsers({ hubId: HUB_ID, hubPassword: hub.hubPassword, token: TOKEN, memberIds: ["tv", "speaker", "lamp"] });
  assert.equal(await hub.sup.reload(users), true);
  // One attempt may race the reload and hang until its connect timeout (3 s): keep trying.
  await waitFor("lamp accepted after SIGHUP", () => natsAs(t, hub.sup.url, "lamp", TOKEN).then(() => true), 10_000);
  assert.equal(hub.sup.pid, pid, "same process");
  assert.equal(await hub.sup.reload([...users, users[1] ?? users[0]!]), false, "a config nats-server rejects is not applied");
});

test("kill -9: down, then up again, one restart, clients reconnect", async (t) => {
  const hub = await makeHub(t);
  await hub.sup.start(never);
  const states: NatsdState[] = [];
  hub.sup.onState((s) => states.push(s));
  const nc = await natsAs(t, hub.sup.url, HUB_ID, hub.hubPassword);
  const got = collect(nc, "after.restart");
  let reconnectedAt = 0;
  void (async () => {
    for await (const s of nc.status()) if (s.type === Events.Reconnect) reconnectedAt = performance.now();
  })();

  const killedAt = performance.now();
  process.kill(hub.sup.pid ?? 0, "SIGKILL");
  await waitFor("down then up", () => states.length >= 2, 10_000, 10);
  const upAt = performance.now();
  assert.deepEqual(states.map((s) => s.type), ["down", "up"]);
  assert.deepEqual(states[0], { type: "down", reason: "killed by SIGKILL" });
  assert.equal(hub.metrics.counter("adaos_natsd_restarts_total", "").get(), 1);
  await waitFor("client reconnected", () => reconnectedAt > 0, 10_000, 10);
  nc.publish("after.restart", enc("hello again"));
  await waitFor("message after the restart", () => got.received.includes("hello again"), 5_000);
  t.diagnostic(`kill -9 → up: ${Math.round(upAt - killedAt)} ms; → client reconnected: ${Math.round(reconnectedAt - killedAt)} ms`);
});

test("no binary, no config: unavailable, start() resolves, one clear line", async (t) => {
  for (const [bin, why] of [["/nonexistent/nats-server", /not found.*apt-get install nats-server/], [null, /disabled in config/]] as const) {
    const hub = await makeHub(t, { bin });
    await within(2_000, "start", hub.sup.start(never));
    assert.equal(hub.sup.state?.type, "unavailable");
    assert.match(hub.sup.state?.type === "unavailable" ? hub.sup.state.reason : "", why);
    const warns = hub.logs().filter((l) => l.level >= 40);
    assert.equal(warns.length, 1);
    assert.match(warns[0]?.msg ?? "", /serving members over MQTT only/);
    assert.equal(hub.sup.pid, undefined);
  }
  const dup = await makeHub(t, { users: (pw) => [{ user: HUB_ID, password: pw, role: "hub", nodeId: HUB_ID }, { user: HUB_ID, password: "x", role: "member", nodeId: "tv" }] });
  await dup.sup.start(never);
  assert.match(dup.sup.state?.type === "unavailable" ? dup.sup.state.reason : "", /refused its config.*Duplicate user/);
});

test("stop(): the child is gone within the grace period, no process left, readers end", async (t) => {
  const hub = await makeHub(t);
  await hub.sup.start(never);
  const conf = natsPaths(`${hub.dir}/nats`).conf;
  const pid = hub.sup.pid ?? 0;
  assert.deepEqual(processesWith(conf), [pid]);
  const reader = (async () => {
    const seen: string[] = [];
    for await (const s of hub.sup) seen.push(s.type);
    return seen;
  })();
  const t0 = performance.now();
  await hub.sup.stop();
  const ms = performance.now() - t0;
  assert.ok(ms < STOP_GRACE_MS, `stopped in ${Math.round(ms)} ms`);
  assert.throws(() => process.kill(pid, 0), { code: "ESRCH" });
  assert.deepEqual(processesWith(conf), []);
  assert.deepEqual(await within(1_000, "reader ends", reader), ["up"]);
  t.diagnostic(`stop (SIGTERM → exit): ${Math.round(ms)} ms`);
});

test("a nats-server left by a SIGKILLed agent is ended at start", async (t) => {
  const hub = await makeHub(t);
  const { conf } = natsPaths(`${hub.dir}/nats`);
  writeConfigFile(conf, renderHubConfig({ nodeId: HUB_ID, host: "127.0.0.1", port: hub.port, monitorPort: hub.monitorPort, maxPayload: 1 << 20, dir: `${hub.dir}/nats`, users: hub.users }));
  const orphan = spawn(natsServerBinary(), ["-c", conf], { detached: true, stdio: "ignore" });
  t.after(() => void orphan.kill("SIGKILL"));
  await waitFor("orphan listening", () => fetch(`http://127.0.0.1:${hub.monitorPort}/healthz`).then((r) => r.ok, () => undefined), 5_000);
  await hub.sup.start(never);
  assert.equal(hub.sup.state?.type, "up");
  assert.notEqual(hub.sup.pid, orphan.pid);
  assert.equal(orphan.exitCode !== null || orphan.signalCode !== null, true, "the orphan is gone");
  assert.ok(hub.logs().some((l) => l.msg.startsWith("ended a nats-server left running") && l.pid === orphan.pid));
});

test("the hub as a leafnode of a 3-node root cluster: traffic reaches the root and survives losing a root node", async (t) => {
  const root = await startRootCluster(t);
  const hub = await makeHub(t, { leaf: { urls: root.leafUrls, user: root.user, password: root.password } });
  await hub.sup.start(never);
  const leafAt = await waitFor("leaf link up", () => leafHost(root), 10_000, 20);
  const watcher = root.nodes.find((n) => n !== leafAt) ?? root.nodes[0]!;
  const rootNc = await natsAs(t, watcher.clientUrl, root.user, root.password);
  const hubNc = await natsAs(t, hub.sup.url, HUB_ID, hub.hubPassword);
  const tv = await natsAs(t, hub.sup.url, "tv", TOKEN);
  const atRoot = collect(rootNc, "ada.root.test");
  const tvAtRoot = collect(rootNc, "ada.agent.tv.evt");
  await rootNc.flush();

  // Interest crosses route → leaf asynchronously; until it arrives, core publishes are dropped.
  let n = 0;
  const flowing = async (what: string) => {
    const t0 = performance.now();
    await waitFor(what, () => {
      hubNc.publish("ada.root.test", enc(`probe-${n++}`));
      return atRoot.received.some((m) => m.startsWith("probe-")) ? true : undefined;
    }, 10_000, 20);
    return performance.now() - t0;
  };
  const firstMs = await flowing("first message at the root");
  for (let i = 0; i < 5; i++) hubNc.publish("ada.root.test", enc(`before-${i}`));
  tv.publish("ada.agent.tv.evt", enc("from a member"));
  await waitFor("5 messages and the member's event at the root", () => atRoot.received.filter((m) => m.startsWith("before-")).length === 5 && tvAtRoot.received.length === 1, 5_000);

  // The uplink stream from `root config`: created with R3, dedups by Nats-Msg-Id over 2 h; hubs publish through the leaf.
  const jsm = await rootNc.jetstreamManager();
  await jsm.streams.add(root.stream as unknown as Parameters<typeof jsm.streams.add>[0]);
  const info = await jsm.streams.info(root.stream.name);
  assert.equal(info.config.duplicate_window, 7_200 * 1e9);
  const js = hubNc.jetstream();
  // A new stream's subject interest crosses route → leaf asynchronously too: until then a publish is 503 (no responders).
  const a = await waitFor("the stream answering through the leaf", () =>
    js.publish(`ada.root.uplink.${HUB_ID}.evt`, enc("once"), { msgID: "env-1" }).catch((e: unknown) => {
      if ((e as { code?: string }).code === "503") return undefined;
      throw new GiveUp(`JetStream publish: ${String(e)}`);
    }), 10_000, 50);
  const b = await js.publish(`ada.root.uplink.${HUB_ID}.evt`, enc("once"), { msgID: "env-1" });
  assert.deepEqual([a.stream, a.duplicate, b.duplicate, b.seq], [root.stream.name, false, true, a.seq]);

  await leafAt.kill();
  atRoot.received.length = 0;
  const gapMs = await flowing("messages at the root after losing the leaf's root node");
  for (let i = 0; i < 5; i++) hubNc.publish("ada.root.test", enc(`after-${i}`));
  await waitFor("5 more messages at the root", () => atRoot.received.filter((m) => m.startsWith("after-")).length === 5, 5_000);
  assert.equal(hub.sup.state?.type, "up", "the hub's server never went down");
  t.diagnostic(`leaf: first message ${Math.round(firstMs)} ms after the link; flow back ${Math.round(gapMs)} ms after its root node was killed (now on ${(await leafHost(root))?.name ?? "?"})`);
});
