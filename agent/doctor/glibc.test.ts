import { strict as assert } from "node:assert";
import { test } from "node:test";
import { context, fakeSystem } from "./fake-system.js";
import { glibcCheck } from "./glibc.js";
import { nodeRuntimeCheck } from "./node-runtime.js";
import { realSystem } from "./system.js";

const BULLSEYE = 'PRETTY_NAME="Raspbian GNU/Linux 11 (bullseye)"\n';

test("glibc ok: 2.36 and exactly 2.34, with the OS name", async () => {
  assert.deepEqual(await glibcCheck.run(context(fakeSystem())), { status: "ok", message: "glibc 2.36 (Debian GNU/Linux 12 (bookworm))" });
  assert.equal((await glibcCheck.run(context(fakeSystem({ glibcVersion: () => "2.34", readFile: () => Promise.resolve(null) })))).message, "glibc 2.34");
  assert.equal((await glibcCheck.run(context(fakeSystem({ glibcVersion: () => "3.0" })))).status, "ok");
});

test("glibc fail: Bullseye's 2.31 → upgrade to Bookworm", async () => {
  const f = await glibcCheck.run(context(fakeSystem({ glibcVersion: () => "2.31", readFile: () => Promise.resolve(BULLSEYE) })));
  assert.equal(f.status, "fail");
  assert.equal(f.message, "glibc 2.31 (Raspbian GNU/Linux 11 (bullseye)) is older than 2.34, needed by the SQLite addon");
  assert.match(f.fix ?? "", /upgrade to Raspberry Pi OS Bookworm .* Bullseye has glibc 2\.31/);
});

test("glibc fail: not glibc (musl) is explained", async () => {
  const f = await glibcCheck.run(context(fakeSystem({ glibcVersion: () => null, readFile: () => Promise.resolve('PRETTY_NAME="Alpine Linux v3.20"\n') })));
  assert.equal(f.status, "fail");
  assert.match(f.message, /^the C library is not glibc \(Alpine Linux v3\.20\) — musl/);
  assert.match(f.fix ?? "", /glibc distribution/);
});

test("glibc warn: not Linux at all", async () => {
  const f = await glibcCheck.run(context(fakeSystem({ platform: "darwin" })));
  assert.equal(f.status, "warn");
  assert.match(f.message, /^not Linux \(darwin\)/);
});

test("the real System reports this process's glibc as a version string (or null off glibc)", () => {
  const v = realSystem().glibcVersion();
  assert.ok(v === null || /^\d+\.\d+/.test(v), String(v));
});

test("node-runtime: 22 and later ok, older fail explaining the packaged binary embeds 22", async () => {
  assert.deepEqual(await nodeRuntimeCheck.run(context(fakeSystem())), { status: "ok", message: "Node.js 22.23.3" });
  assert.equal((await nodeRuntimeCheck.run(context(fakeSystem({ nodeVersion: "24.1.0" })))).status, "ok");
  const old = await nodeRuntimeCheck.run(context(fakeSystem({ nodeVersion: "20.20.2" })));
  assert.equal(old.status, "fail");
  assert.equal(old.message, "Node.js 20.20.2 is older than 22");
  assert.match(old.fix ?? "", /packaged binary \(it embeds Node 22\)/);
});
