import { strict as assert } from "node:assert";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { dataDirCheck } from "./data-dir.js";
import { context, fakeSqlite, fakeSystem, testConfig } from "./fake-system.js";
import { realSystem } from "./system.js";

const DIR = "/var/lib/adaos-edge";
const errno = (code: string, message: string): Error => Object.assign(new Error(`${code}: ${message}`), { code });
const probeFiles = (dir: string) => ["", "-wal", "-shm"].map((s) => join(dir, `.doctor-${process.pid}.sqlite${s}`));

test("data-dir ok: exists, writable, WAL round trip; the probe database and its -wal/-shm are removed", async () => {
  const sys = fakeSystem();
  const f = await dataDirCheck.run(context(sys));
  assert.equal(f.status, "ok");
  assert.equal(f.message, `${DIR} exists, writable by adaos-edge, SQLite WAL write and read back ok`);
  assert.deepEqual(sys.removed, probeFiles(DIR));
});

test("data-dir ok: a missing dir that can be created is removed again (the doctor changes nothing)", async () => {
  const sys = fakeSystem({ ensureDir: () => Promise.resolve("/srv/adaos") });
  const f = await dataDirCheck.run(context(sys, testConfig("hub", "/srv/adaos/state")));
  assert.equal(f.status, "ok");
  assert.match(f.message, /^\/srv\/adaos\/state can be created \(not kept\)/);
  assert.deepEqual(sys.removed.slice(3), ["/srv/adaos/state", "/srv/adaos"]);
});

test("data-dir fail: cannot create it → install -d with the user, or --data-dir", async () => {
  const sys = fakeSystem({ ensureDir: () => Promise.reject(errno("EACCES", "permission denied, mkdir '/var/lib/adaos-edge'")) });
  const f = await dataDirCheck.run(context(sys));
  assert.equal(f.status, "fail");
  assert.equal(f.message, `cannot create ${DIR}: EACCES: permission denied, mkdir '/var/lib/adaos-edge'`);
  assert.match(f.fix ?? "", /sudo install -d -o adaos-edge -m 0750 \/var\/lib\/adaos-edge, or choose another directory with --data-dir/);
});

test("data-dir fail: not writable → chown to the user, or --data-dir", async () => {
  const sys = fakeSystem({ checkWritable: () => Promise.reject(errno("EACCES", "permission denied")) });
  const f = await dataDirCheck.run(context(sys));
  assert.equal(f.status, "fail");
  assert.match(f.message, /is not writable by adaos-edge: EACCES/);
  assert.match(f.fix ?? "", /^sudo chown -R adaos-edge \/var\/lib\/adaos-edge, or choose another directory with --data-dir/);
});

test("data-dir fail: the SQLite addon or file cannot be opened — the exception is named; probe files still removed", async () => {
  const sys = fakeSystem({ openSqlite: () => Promise.reject(new Error("/lib/aarch64-linux-gnu/libc.so.6: version `GLIBC_2.34' not found")) });
  const f = await dataDirCheck.run(context(sys));
  assert.equal(f.status, "fail");
  assert.match(f.message, /^SQLite in \/var\/lib\/adaos-edge: .*GLIBC_2\.34' not found$/);
  assert.deepEqual(sys.removed, probeFiles(DIR));
});

test("data-dir fail: WAL not available (e.g. a network filesystem); the database is closed", async () => {
  const db = fakeSqlite({ pragma: () => "delete" });
  const f = await dataDirCheck.run(context(fakeSystem({ openSqlite: () => Promise.resolve(db) })));
  assert.equal(f.status, "fail");
  assert.match(f.message, /WAL journal mode is not available here \(journal_mode stays delete\)/);
  assert.match(f.fix ?? "", /local disk/);
  assert.ok(db.closed);
});

test("data-dir fail: a row written is not read back; a write that throws is named", async () => {
  const lost = fakeSqlite({ value: () => undefined });
  const f1 = await dataDirCheck.run(context(fakeSystem({ openSqlite: () => Promise.resolve(lost) })));
  assert.equal(f1.status, "fail");
  assert.match(f1.message, /a row written was not read back/);
  const full = fakeSqlite({ run: () => { throw Object.assign(new Error("database or disk is full"), { name: "SqliteError", code: "SQLITE_FULL" }); } });
  const f2 = await dataDirCheck.run(context(fakeSystem({ openSqlite: () => Promise.resolve(full) })));
  assert.equal(f2.status, "fail");
  assert.match(f2.message, /SqliteError: SQLITE_FULL: database or disk is full/);
  assert.ok(full.closed);
});

test("data-dir fail: probe files that cannot be removed are reported", async () => {
  const f = await dataDirCheck.run(context(fakeSystem({ removeFile: () => Promise.reject(errno("EPERM", "operation not permitted")) })));
  assert.equal(f.status, "fail");
  assert.match(f.message, /could not remove the probe files .*\.doctor-\d+\.sqlite/);
});

test("data-dir warn: on tmpfs the state is lost at reboot", async () => {
  const f = await dataDirCheck.run(context(fakeSystem({ statfs: () => Promise.resolve({ availableBytes: 1e9, totalBytes: 2e9, type: 0x01021994 }) })));
  assert.equal(f.status, "warn");
  assert.match(f.message, /on tmpfs: the node's state is lost at every reboot/);
  assert.match(f.fix ?? "", /--data-dir/);
});

test("data-dir with the real System: real SQLite in WAL mode in a temp dir, nothing left behind", async (t) => {
  const root = await mkdtemp(join(tmpdir(), "adaos-doctor-"));
  t.after(() => rm(root, { recursive: true, force: true }));
  const sys = realSystem();
  const existing = await dataDirCheck.run(context(sys, testConfig("hub", root)));
  assert.equal(existing.status, "ok", existing.message);
  assert.deepEqual(await readdir(root), []);
  const fresh = await dataDirCheck.run(context(sys, testConfig("hub", join(root, "a", "b"))));
  assert.equal(fresh.status, "ok", fresh.message);
  assert.match(fresh.message, /can be created \(not kept\)/);
  assert.deepEqual(await readdir(root), [], "created directories are removed again");
  const underFile = await dataDirCheck.run(context(sys, testConfig("hub", "/proc/version/x")));
  assert.equal(underFile.status, "fail");
  assert.match(underFile.message, /ENOTDIR/);
});
