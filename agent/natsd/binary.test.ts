import { strict as assert } from "node:assert";
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { findBinary } from "./binary.js";

function tempDir(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), "adaos-bin-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function script(path: string, mode = 0o755): void {
  writeFileSync(path, "#!/bin/sh\nexit 0\n");
  chmodSync(path, mode);
}

test("a name is looked up on PATH in order; non-executables and directories do not count", (t) => {
  const dir = tempDir(t);
  const [a, b, c] = ["a", "b", "c"].map((d) => join(dir, d));
  for (const d of [a, b, c]) mkdirSync(d as string);
  script(join(a as string, "fake-nats"), 0o644);
  mkdirSync(join(b as string, "fake-nats"));
  script(join(c as string, "fake-nats"));
  assert.equal(findBinary("fake-nats", { PATH: [a, b, c].join(":") }), join(c as string, "fake-nats"));
  assert.equal(findBinary("fake-nats", { PATH: a as string }), null);
  assert.equal(findBinary("fake-nats", {}), null);
});

test("a path is used as given (relative to cwd) and must be executable", (t) => {
  const dir = tempDir(t);
  script(join(dir, "ns"));
  assert.equal(findBinary(join(dir, "ns"), {}), join(dir, "ns"));
  assert.equal(findBinary("./ns", {}, dir), join(dir, "ns"));
  assert.equal(findBinary("./missing", {}, dir), null);
});

test("Debian's /usr/sbin is searched even when it is not on PATH", () => {
  const found = findBinary("nats-server", { PATH: "/nonexistent" });
  assert.ok(found !== null, "nats-server must be installed for the tests: sudo apt-get install nats-server");
  assert.match(found, /^\/usr\/(local\/)?s?bin\/nats-server$/);
});
