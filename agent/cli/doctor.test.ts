/** `adaos-edge doctor` in-process: the real System against a temp data dir, and a fake one for the exit status. */
import { strict as assert } from "node:assert";
import { writeFile } from "node:fs/promises";
import { createServer, type AddressInfo } from "node:net";
import { join } from "node:path";
import { test } from "node:test";
import { UsageError } from "../core/errors.js";
import { fakeSystem } from "../doctor/fake-system.js";
import { captureIo, tempDir } from "../registry/test-support.js";
import { doctor, main } from "./doctor.js";

/** A port that was free a moment ago (the doctor only tries to listen on it). */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

const LINE = /^(ok  |warn|FAIL)  ([a-z-]+) +\S.*$/;

test("doctor (real System): one aligned line per check, a summary, exit 0 exactly when nothing failed", async (t) => {
  const cwd = await tempDir(t, "adaos-doctor-cli-");
  const port = await freePort();
  const io = captureIo(cwd);
  const code = await main(["--data-dir", "state", "--api-port", String(port), "--node-id", "pi"], io);
  const checks = io.lines.slice(0, -1);
  assert.deepEqual(checks.map((l) => LINE.exec(l)?.[2]), ["config", "node-runtime", "glibc", "data-dir", "disk", "api-port", "mqtt-port", "nats-port", "nats", "audio", "time-sync"], io.lines.join("\n"));
  const column = checks.map((l) => l.search(/(?<=^\S+ +\S+ +)\S/));
  assert.equal(new Set(column).size, 1, `messages start in one column:\n${io.lines.join("\n")}`);
  assert.match(io.lines.at(-1) ?? "", /^doctor: \d+ ok, \d+ warn, \d+ fail$/);
  assert.match(checks[0] ?? "", /^ok    config +no config file, built-in defaults \(role hub, node pi\)$/);
  assert.match(checks[3] ?? "", new RegExp(`^ok    data-dir +${join(cwd, "state")} can be created \\(not kept\\)`));
  assert.match(checks[5] ?? "", new RegExp(`^ok    api-port +127\\.0\\.0\\.1:${port} is free$`));
  assert.ok(checks.filter((l) => l.startsWith("warn") || l.startsWith("FAIL")).every((l) => l.includes(" — fix: ")), "every warn and fail has a fix");
  assert.equal(code, checks.some((l) => l.startsWith("FAIL")) ? 1 : 0);
  assert.deepEqual(io.errors, []);
});

test("doctor --json (real System): an array of {id, status, message, fix}; a broken agent.yaml fails and the rest use the flags", async (t) => {
  const cwd = await tempDir(t, "adaos-doctor-cli-");
  await writeFile(join(cwd, "agent.yaml"), "role: member\nbogus: 1\n");
  const io = captureIo(cwd);
  const code = await main(["--json", "--data-dir", "state", "--api-port", "0"], io);
  assert.equal(code, 1);
  assert.equal(io.lines.length, 1);
  const results = JSON.parse(io.lines[0] ?? "") as Array<Record<string, unknown>>;
  for (const r of results) {
    assert.deepEqual(Object.keys(r).slice(0, 4), ["id", "status", "message", "fix"]);
    assert.ok(["ok", "warn", "fail"].includes(r.status as string));
  }
  const byId = new Map(results.map((r) => [r.id, r]));
  assert.equal(byId.get("config")?.status, "fail");
  assert.deepEqual(byId.get("config")?.details, ["bogus is not allowed (unknown property)"]);
  assert.match(byId.get("data-dir")?.message as string, new RegExp(`^${join(cwd, "state")} `), "the fallback config kept --data-dir");
  assert.ok(byId.has("mqtt-port"), "the fallback is a hub (role from the broken file is not used)");
});

test("doctor (fake System): exit 0 with warnings, 1 with any failure; bad flags are usage errors", async (t) => {
  const cwd = await tempDir(t, "adaos-doctor-cli-");
  const warnOnly = captureIo(cwd);
  assert.equal(await doctor(["--data-dir", "/srv/x"], warnOnly, fakeSystem({ commands: { "nats-server --version": { kind: "not-found" } } })), 0);
  assert.match(warnOnly.lines.join("\n"), /^warn  nats /m);
  const failing = captureIo(cwd);
  assert.equal(await doctor(["--data-dir", "/srv/x"], failing, fakeSystem({ glibcVersion: () => "2.31" })), 1);
  assert.match(failing.lines.join("\n"), /^FAIL  glibc .* — fix: upgrade to Raspberry Pi OS Bookworm/m);
  await assert.rejects(doctor(["--bogus"], captureIo(cwd), fakeSystem()), UsageError);
  await assert.rejects(doctor(["--api-port", "99999"], captureIo(cwd), fakeSystem()), UsageError);
});
