import { strict as assert } from "node:assert";
import { test } from "node:test";
import { fail, ok, warn, type Check } from "./check.js";
import { context, fakeSystem } from "./fake-system.js";
import { doctorChecks, runChecks } from "./run-checks.js";

const check = (id: string, run: Check["run"]): Check => ({ id, title: `the ${id} check`, run });

test("runChecks keeps the order, adds id and title, and runs the checks side by side", async () => {
  const started: string[] = [];
  const slow = check("slow", async () => { started.push("slow"); await new Promise((r) => setTimeout(r, 50)); return ok("done"); });
  const fast = check("fast", () => { started.push("fast"); return Promise.resolve(warn("hm", "do x")); });
  const t0 = Date.now();
  const results = await runChecks([slow, fast, check("bad", () => Promise.resolve(fail("no", "do y")))], context(fakeSystem()));
  assert.deepEqual(results, [
    { id: "slow", title: "the slow check", status: "ok", message: "done" },
    { id: "fast", title: "the fast check", status: "warn", message: "hm", fix: "do x" },
    { id: "bad", title: "the bad check", status: "fail", message: "no", fix: "do y" },
  ]);
  assert.deepEqual(started, ["slow", "fast"]);
  assert.ok(Date.now() - t0 < 1000);
});

test("a check that throws (sync or async) becomes a fail finding naming the exception", async () => {
  const results = await runChecks(
    [
      check("sync", () => { throw new TypeError("cannot read properties of undefined"); }),
      check("async", () => Promise.reject(Object.assign(new Error("spawn EPERM"), { code: "EPERM" }))),
      check("fine", () => Promise.resolve(ok("fine"))),
    ],
    context(fakeSystem()),
  );
  assert.deepEqual(results.map((r) => [r.status, r.message]), [
    ["fail", "check crashed: TypeError: cannot read properties of undefined"],
    ["fail", "check crashed: EPERM: spawn EPERM"],
    ["ok", "fine"],
  ]);
});

test("a check that does not finish within the timeout is a fail finding; the others still report", async () => {
  const results = await runChecks([check("hang", () => new Promise(() => undefined)), check("fine", () => Promise.resolve(ok("fine")))], context(fakeSystem()), 30);
  assert.equal(results[0]?.status, "fail");
  assert.equal(results[0]?.message, "check did not finish within 0.03 s");
  assert.match(results[0]?.fix ?? "", /the hang check/);
  assert.equal(results[1]?.status, "ok");
});

test("doctorChecks: the broker ports are checked on a hub only; ids are unique", () => {
  const hub = doctorChecks("hub").map((c) => c.id);
  assert.deepEqual(hub, ["config", "node-runtime", "glibc", "data-dir", "disk", "api-port", "mqtt-port", "nats-port", "nats", "audio", "time-sync"]);
  const member = doctorChecks("member").map((c) => c.id);
  assert.deepEqual(member, hub.filter((id) => id !== "mqtt-port" && id !== "nats-port"));
  assert.equal(new Set(hub).size, hub.length);
});

test("every check passes on a healthy fake hub and member", async () => {
  for (const role of ["hub", "member"] as const) {
    const results = await runChecks(doctorChecks(role), context(fakeSystem()));
    assert.deepEqual(results.filter((r) => r.status !== "ok"), [], role);
  }
});
