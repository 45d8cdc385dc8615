/** The credentials store against a real SQLite file: hashed secrets, verify, revoke, re-issue. */
import { strict as assert } from "node:assert";
import { readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { tempDir } from "../../test/helpers.js";
import { ManualClock } from "../core/clock.js";
import { BadRequestError } from "../core/errors.js";
import { CREDENTIALS_DB_FILE, CredentialsStore } from "./credentials-store.js";
import { sameSecret, verifySecret, hashSecret } from "./secret-hash.js";

function open(t: { after(fn: () => void): void }): { store: CredentialsStore; dir: string } {
  const dir = tempDir(t, "adaos-creds-");
  const store = CredentialsStore.open(dir, new ManualClock());
  t.after(() => store.close());
  return { store, dir };
}

/** Everything SQLite keeps for the database: the file and its write-ahead log. */
function rawBytes(dir: string): string {
  const read = (f: string): string => {
    try {
      return readFileSync(join(dir, f)).toString("latin1");
    } catch {
      return "";
    }
  };
  return read(CREDENTIALS_DB_FILE) + read(`${CREDENTIALS_DB_FILE}-wal`);
}

test("add() returns a fresh random secret (an NKey user seed) once; the file holds only its salted hash", async (t) => {
  const { store, dir } = open(t);
  const secret = await store.add("tv", "member");
  assert.match(secret, /^SU[A-Z2-7]{56}$/, "a user seed: base32, 32 random bytes with prefix and checksum");
  const other = await store.add("speaker", "member");
  assert.notEqual(secret, other);
  const bytes = rawBytes(dir);
  assert.ok(bytes.includes("scrypt$"), "the hash is there");
  assert.ok(!bytes.includes(secret) && !bytes.includes(other), "the secrets are not");
  assert.equal(statSync(join(dir, CREDENTIALS_DB_FILE)).mode & 0o777, 0o600, "readable by the agent's user only");
});

test("verify() knows the node with its secret, nobody with a wrong one", async (t) => {
  const { store } = open(t);
  const secret = await store.add("tv", "member");
  assert.deepEqual(await store.verify("tv", secret), { nodeId: "tv", role: "member", via: "credential", grants: { publish: [], subscribe: [] } });
  assert.equal(await store.verify("tv", secret.slice(0, -1) + (secret.endsWith("A") ? "B" : "A")), null);
  assert.equal(await store.verify("tv", ""), null);
  assert.equal(await store.verify("speaker", secret), null, "a secret is bound to its node");
  assert.deepEqual(await store.check("speaker", secret), { ok: false, reason: "unknown_node" });
  assert.deepEqual(await store.check("tv", "nope"), { ok: false, reason: "bad_password" });
});

test("revoke() locks the node out; add() again issues a new secret with a new serial, and the old one stays dead", async (t) => {
  const { store } = open(t);
  const first = await store.add("tv", "member");
  const serial = store.get("tv")?.serial;
  assert.equal(store.revoke("tv"), true);
  assert.equal(store.revoke("tv"), false, "already revoked");
  assert.equal(store.revoke("ghost"), false, "unknown");
  assert.deepEqual(await store.check("tv", first), { ok: false, reason: "revoked" });
  assert.equal(store.serials().get("tv"), null, "revoked: known, without an active serial");
  const second = await store.add("tv", "member");
  assert.equal(await store.verify("tv", first), null);
  assert.notEqual(await store.verify("tv", second), null);
  assert.notEqual(store.get("tv")?.serial, serial);
  assert.equal(store.serials().get("tv"), store.get("tv")?.serial);
});

test("a node has one active credential; bad ids, roles and patterns are refused with the reason", async (t) => {
  const { store } = open(t);
  await store.add("tv", "member");
  await assert.rejects(store.add("tv", "member"), (err: Error) => err instanceof BadRequestError && /already has a credential/.test(err.message));
  await assert.rejects(store.add("TV!", "member"), BadRequestError);
  await assert.rejects(store.add("x", "admin" as "member"), BadRequestError);
  await assert.rejects(store.add("x", "member", { publish: ["a.b"], subscribe: [] }), /for the client role/);
  await assert.rejects(store.add("x", "client"), /at least one/);
  await assert.rejects(store.add("x", "client", { publish: ["a.>.b"], subscribe: [] }), /pattern "a.>.b"/);
});

test("a client's grants are stored and listed; list() shows no secrets", async (t) => {
  const { store } = open(t);
  await store.add("sensor", "client", { publish: ["sensors.sensor.>"], subscribe: ["sensors.cmd.sensor"] });
  await store.add("tv", "member");
  store.revoke("tv");
  const list = store.list();
  assert.deepEqual(list.map((r) => [r.nodeId, r.role, r.revokedAt !== null]), [["sensor", "client", false], ["tv", "member", true]]);
  assert.deepEqual(list[0]?.grants, { publish: ["sensors.sensor.>"], subscribe: ["sensors.cmd.sensor"] });
  assert.ok(!JSON.stringify(list).includes("scrypt"));
});

test("two handles on one file (the CLI and the running hub) see each other's writes", async (t) => {
  const { store, dir } = open(t);
  const other = CredentialsStore.open(dir);
  t.after(() => other.close());
  const secret = await other.add("tv", "member");
  assert.notEqual(await store.verify("tv", secret), null);
  other.revoke("tv");
  assert.equal(await store.verify("tv", secret), null);
});

test("secret hashing: malformed stored hashes never verify; sameSecret compares exactly", async () => {
  const stored = await hashSecret("s3cret");
  assert.equal(await verifySecret("s3cret", stored), true);
  assert.equal(await verifySecret("s3cret", stored.replace("scrypt", "md5")), false);
  assert.equal(await verifySecret("s3cret", "scrypt$3$8$1$AAAA$AAAA"), false, "N not a power of two");
  assert.equal(await verifySecret("s3cret", "scrypt$16384$8$1$$"), false);
  assert.equal(sameSecret("token-token-token", "token-token-token"), true);
  assert.equal(sameSecret("token-token-toke", "token-token-token"), false);
  assert.equal(sameSecret("", "token"), false);
});
