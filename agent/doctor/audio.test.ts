import { strict as assert } from "node:assert";
import { test } from "node:test";
import { audioCheck, parseDeviceList } from "./audio.js";
import { APLAY_PI, context, exited, fakeSystem, testConfig } from "./fake-system.js";

const NO_CARDS = exited("", 0, "arecord: device_list:274: no soundcards found...\n");

test("parseDeviceList reads `arecord -l` / `aplay -l` card lines", () => {
  assert.deepEqual(parseDeviceList(APLAY_PI), [
    { card: 0, device: 0, name: "vc4-hdmi-0" },
    { card: 2, device: 0, name: "USB PnP Sound Device" },
  ]);
  assert.deepEqual(parseDeviceList(""), []);
});

test("audio ok: a hub with a microphone lists capture and playback devices; both tools ran with -l", async () => {
  const sys = fakeSystem();
  const f = await audioCheck.run(context(sys));
  assert.deepEqual(f, {
    status: "ok",
    message: "capture: USB PnP Sound Device (hw:2,0); playback: vc4-hdmi-0 (hw:0,0), USB PnP Sound Device (hw:2,0)",
  });
  assert.deepEqual(sys.ran.sort(), ["aplay -l", "arecord -l"]);
});

test("audio warn: a hub without a capture device (\"no soundcards\" on stderr) → plug a USB microphone", async () => {
  const f = await audioCheck.run(context(fakeSystem({ commands: { "arecord -l": NO_CARDS } })));
  assert.equal(f.status, "warn");
  assert.match(f.message, /^no capture device: the hub cannot hear voice commands/);
  assert.equal(f.fix, "plug a USB microphone; check `arecord -l`");
  const exitOne = await audioCheck.run(context(fakeSystem({ commands: { "arecord -l": exited("", 1, "arecord: no soundcards found...") } })));
  assert.match(exitOne.message, /^no capture device/, "older alsa-utils exit 1 with no cards");
});

test("audio on a member: playback matters, a missing microphone does not", async () => {
  const member = testConfig("member");
  const noMic = await audioCheck.run(context(fakeSystem({ commands: { "arecord -l": NO_CARDS } }), member));
  assert.equal(noMic.status, "ok");
  assert.match(noMic.message, /^capture: none; playback: vc4-hdmi-0/);
  const noSpeaker = await audioCheck.run(context(fakeSystem({ commands: { "aplay -l": NO_CARDS } }), member));
  assert.equal(noSpeaker.status, "warn");
  assert.match(noSpeaker.message, /^no playback device/);
  assert.match(noSpeaker.fix ?? "", /aplay -l/);
});

test("audio warn: alsa-utils missing → apt-get install alsa-utils", async () => {
  const f = await audioCheck.run(context(fakeSystem({ commands: { "arecord -l": { kind: "not-found" } } })));
  assert.equal(f.status, "warn");
  assert.equal(f.fix, "sudo apt-get install alsa-utils");
});

test("audio warn: a listing that hangs or fails is named", async () => {
  const hang = await audioCheck.run(context(fakeSystem({ commands: { "aplay -l": { kind: "timeout" } } })));
  assert.equal(hang.status, "warn");
  assert.equal(hang.message, "`aplay -l` did not answer within 3 s");
  const broken = await audioCheck.run(context(fakeSystem({ commands: { "arecord -l": exited("", 1, "ALSA lib conf.c: cannot open /dev/snd\n") } })));
  assert.equal(broken.status, "warn");
  assert.equal(broken.message, "`arecord -l` exited with 1: ALSA lib conf.c: cannot open /dev/snd");
});
