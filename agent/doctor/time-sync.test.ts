import { strict as assert } from "node:assert";
import { test } from "node:test";
import { context, exited, fakeSystem } from "./fake-system.js";
import { TIMESYNC_FLAG_FILE, timeSyncCheck } from "./time-sync.js";

const TIMEDATECTL = "timedatectl show -p NTPSynchronized --value";

test("time-sync ok: NTPSynchronized=yes", async () => {
  const sys = fakeSystem();
  assert.equal((await timeSyncCheck.run(context(sys))).status, "ok");
  assert.deepEqual(sys.ran, [TIMEDATECTL]);
});

test("time-sync warn: NTPSynchronized=no → enable systemd-timesyncd, and why a Pi needs it", async () => {
  const f = await timeSyncCheck.run(context(fakeSystem({ commands: { [TIMEDATECTL]: exited("no\n") } })));
  assert.equal(f.status, "warn");
  assert.match(f.message, /no RTC, so TLS, JetStream dedup windows and cron need a synced clock/);
  assert.match(f.fix ?? "", /timedatectl set-ntp true \(systemd-timesyncd\)/);
});

test("time-sync without timedatectl (or without systemd): the timesyncd flag file decides, else cannot tell", async () => {
  for (const result of [{ kind: "not-found" } as const, exited("", 1, "System has not been booted with systemd as init system (PID 1).")]) {
    const asked: string[] = [];
    const synced = fakeSystem({ commands: { [TIMEDATECTL]: result }, exists: (p) => { asked.push(p); return Promise.resolve(p === TIMESYNC_FLAG_FILE); } });
    const ok = await timeSyncCheck.run(context(synced));
    assert.equal(ok.status, "ok");
    assert.deepEqual(asked, [TIMESYNC_FLAG_FILE]);
    const unknown = await timeSyncCheck.run(context(fakeSystem({ commands: { [TIMEDATECTL]: result } })));
    assert.equal(unknown.status, "warn");
    assert.match(unknown.message, /^cannot tell whether the clock is synchronised/);
  }
});
