/** The broker as a component: start on port 0, a clear error for a taken port, a prompt stop. */
import { strict as assert } from "node:assert";
import { connect as tcpConnect } from "node:net";
import { test } from "node:test";
import { tempDir } from "../../test/helpers.js";
import { PortInUseError } from "../core/errors.js";
import { silentLogger } from "../core/logger.js";
import { MetricsRegistry } from "../core/metrics.js";
import { HUB_ID, SETTLE_MS, startBroker } from "./broker-fixture.js";
import { MqttBroker } from "./mqtt-broker.js";

/** stop() with clients connected finishes well within a systemd stop timeout; on loopback, in milliseconds. */
const PROMPT_STOP_MS = 1000;

test("stop() is prompt with members, the hub's client and a socket that never sent CONNECT", async (t) => {
  const f = await startBroker(t);
  const clients = [await f.hubClient(), await f.member("tv"), await f.member("speaker")];
  for (const c of clients) c.on("error", () => undefined);
  const silent = tcpConnect(f.port, "127.0.0.1");
  silent.on("error", () => undefined);
  await new Promise<void>((resolve) => silent.once("connect", () => resolve()));
  const gone = Promise.all([...clients.map((c) => new Promise<void>((r) => c.once("close", () => r()))), new Promise<void>((r) => silent.once("close", () => r()))]);
  const t0 = performance.now();
  await f.broker.stop();
  const ms = performance.now() - t0;
  assert.ok(ms < PROMPT_STOP_MS, `stop() took ${ms.toFixed(0)} ms`);
  await gone;
  assert.throws(() => f.broker.url, /not listening/);
  await f.broker.stop(); // idempotent
});

test("a taken port fails start() with PortInUseError that says what to do", async (t) => {
  const f = await startBroker(t);
  const second = new MqttBroker({
    host: "127.0.0.1", port: f.port, hubId: HUB_ID, dataDir: tempDir(t), subnetToken: undefined, logger: silentLogger(), metrics: new MetricsRegistry(),
  });
  t.after(() => second.stop());
  await assert.rejects(second.start(AbortSignal.timeout(SETTLE_MS)), (err: Error) => {
    assert.ok(err instanceof PortInUseError, err.name);
    assert.match(err.message, new RegExp(`127\\.0\\.0\\.1:${f.port}.*address already in use.*--mqtt-port`));
    return true;
  });
  assert.throws(() => second.hubLogin, /not started/);
});

test("port 0 picks a free port, url tells which, and the broker can start again after stop()", async (t) => {
  const broker = new MqttBroker({
    host: "127.0.0.1", port: 0, hubId: HUB_ID, dataDir: tempDir(t), subnetToken: undefined, logger: silentLogger(), metrics: new MetricsRegistry(),
  });
  t.after(() => broker.stop());
  await broker.start(AbortSignal.timeout(SETTLE_MS));
  assert.match(broker.url, /^mqtt:\/\/127\.0\.0\.1:\d+$/);
  assert.notEqual(Number(new URL(broker.url).port), 0);
  const firstLogin = broker.hubLogin.password;
  await broker.stop();
  await broker.start(AbortSignal.timeout(SETTLE_MS));
  assert.notEqual(broker.hubLogin.password, firstLogin, "a new secret for the agent's own client on every start");
});

test("an aborted start() rejects with the signal's reason and leaves nothing listening", async (t) => {
  const broker = new MqttBroker({
    host: "127.0.0.1", port: 0, hubId: HUB_ID, dataDir: tempDir(t), subnetToken: undefined, logger: silentLogger(), metrics: new MetricsRegistry(),
  });
  t.after(() => broker.stop());
  const controller = new AbortController();
  controller.abort(new Error("shutting down"));
  await assert.rejects(broker.start(controller.signal), /shutting down/);
  assert.throws(() => broker.url, /not listening/);
});
