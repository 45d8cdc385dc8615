/**
 * The fake display and the registry entry: contract, recorded plays, create() for each mode and
 * its option checks, httpHandler() only for the kiosk.
 */
import { strict as assert } from "node:assert";
import { test } from "node:test";
import { driverContract, memoryLogger } from "../contract.js";
import { FakeDisplay } from "./fake.js";
import { create, httpHandler, KioskDisplay, MpvDisplay, type Options } from "./index.js";

const ctx = { logger: memoryLogger() };

driverContract("display (fake)", () => create({ mode: "fake" }, ctx));

test("fake: records plays and acks at once; refuses before start and bad requests", async () => {
  const display = new FakeDisplay({ inputs: ["webm"] }, ctx);
  const film = { url: "http://127.0.0.1:1/media/inception", title: "Inception", play_id: "p1" };
  await assert.rejects(display.play(film), /not started/);
  assert.equal(display.ready(), false);
  await display.start();
  assert.equal(display.ready(), true);
  assert.deepEqual(await display.play(film), { ack_ms: 0, shown_by: "fake display" });
  await assert.rejects(display.play({ ...film, play_id: "" }), /play_id/);
  assert.deepEqual(display.plays, [film]);
  assert.deepEqual(display.capabilities, [{ id: "capability://display.play", inputs: ["webm"] }]);
  await display.stop();
});

test("create: one driver per mode, options checked, unknown mode lists the valid ones", () => {
  const kiosk = create({ mode: "kiosk", inputs: ["webm"], ackTimeoutMs: 5000, pageUrl: "http://tv.local:8080/display" }, ctx);
  assert.ok(kiosk instanceof KioskDisplay);
  assert.equal(httpHandler(kiosk), kiosk);
  assert.deepEqual(kiosk.capabilities[0]?.inputs, ["webm"]);
  const mpv = create({ mode: "mpv", command: "/usr/bin/mpv" }, ctx);
  assert.ok(mpv instanceof MpvDisplay);
  assert.equal(httpHandler(mpv), undefined);
  assert.equal(httpHandler(create({ mode: "fake" }, ctx)), undefined);
  assert.throws(() => create({ mode: "hdmi" } as unknown as Options, ctx), /unknown display mode "hdmi"; valid modes: kiosk, mpv, fake/);
  assert.throws(() => create({ mode: "kiosk", inputs: [] }, ctx), /display inputs must be a non-empty list/);
  assert.throws(() => create({ mode: "kiosk", inputs: ["Web M"] }, ctx), /display inputs/);
  assert.throws(() => create({ mode: "kiosk", ackTimeoutMs: 5 }, ctx), /ack timeout must be an integer from 100 to 120000 ms, got 5/);
});
