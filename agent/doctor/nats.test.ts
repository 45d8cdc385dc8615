import { strict as assert } from "node:assert";
import { test } from "node:test";
import { context, exited, fakeSystem, testConfig } from "./fake-system.js";
import { natsCheck } from "./nats.js";

test("nats ok: nats-server --version found → its version", async () => {
  const sys = fakeSystem();
  assert.deepEqual(await natsCheck.run(context(sys)), { status: "ok", message: "nats-server 2.10.18 (NATS leaf mode available)" });
  assert.deepEqual(sys.ran, ["nats-server --version"]);
});

test("nats warn: missing on a hub → MQTT-only, install nats-server; on a member it is not needed", async () => {
  const missing = { commands: { "nats-server --version": { kind: "not-found" } as const } };
  const hub = await natsCheck.run(context(fakeSystem(missing)));
  assert.equal(hub.status, "warn");
  assert.match(hub.message, /MQTT-only: members connect over the embedded MQTT broker/);
  assert.equal(hub.fix, "install nats-server for NATS leaf mode (sudo apt-get install nats-server)");
  const member = await natsCheck.run(context(fakeSystem(missing), testConfig("member")));
  assert.equal(member.status, "ok");
});

test("nats warn: installed but broken or hanging", async () => {
  const broken = await natsCheck.run(context(fakeSystem({ commands: { "nats-server --version": exited("", 127, "error while loading shared libraries\n") } })));
  assert.equal(broken.status, "warn");
  assert.match(broken.message, /`nats-server --version` exited with 127: error while loading shared libraries/);
  assert.match(broken.fix ?? "", /--reinstall nats-server/);
  const hang = await natsCheck.run(context(fakeSystem({ commands: { "nats-server --version": { kind: "timeout" } } })));
  assert.match(hang.message, /failed: did not answer within 3 s/);
});
