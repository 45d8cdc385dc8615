/** NKey secrets in the credentials store: the public key beside the hash, and a store from before NKeys migrated in place. */
import { strict as assert } from "node:assert";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import Database from "better-sqlite3";
import { tempDir } from "../../test/helpers.js";
import { ManualClock } from "../core/clock.js";
import { CREDENTIALS_DB_FILE, CredentialsStore } from "./credentials-store.js";
import { isUserPublicKey, isUserSeed, newNodeKey, userPublicKey } from "./node-key.js";
import { generateSecret, hashSecret } from "./secret-hash.js";

test("node keys: a user seed and its public key; anything else is not a seed", () => {
  const { seed, publicKey } = newNodeKey();
  assert.equal(userPublicKey(seed), publicKey);
  assert.equal(isUserSeed(seed), true);
  assert.equal(isUserPublicKey(publicKey), true);
  assert.equal(isUserPublicKey(seed), false);
  // One data character changed (the last one also carries padding bits, so not that one): the checksum fails.
  const flipped = seed.slice(0, 10) + (seed[10] === "A" ? "B" : "A") + seed.slice(11);
  for (const text of [flipped, "SU", "test-token-0123456789abcdef", publicKey, generateSecret(), ""]) {
    assert.equal(isUserSeed(text), false, text);
  }
  assert.notEqual(newNodeKey().seed, seed);
});

test("add() keeps the public key of the seed it returns; the seed is the MQTT password too", async (t) => {
  const dir = tempDir(t, "adaos-creds-");
  const store = CredentialsStore.open(dir, new ManualClock());
  t.after(() => store.close());
  const seed = await store.add("tv", "member");
  const publicKey = userPublicKey(seed);
  assert.equal(store.get("tv")?.publicKey, publicKey);
  assert.notEqual(await store.verify("tv", seed), null);
  const bytes = [CREDENTIALS_DB_FILE, `${CREDENTIALS_DB_FILE}-wal`].map((f) => (existsSync(join(dir, f)) ? readFileSync(join(dir, f)).toString("latin1") : "")).join("");
  assert.ok(bytes.includes(publicKey ?? "?") && !bytes.includes(seed), "the public key is stored, the seed is not");
});

test("activeMembers(): members with an active credential and their keys, by node id", async (t) => {
  const dir = tempDir(t, "adaos-creds-");
  const store = CredentialsStore.open(dir, new ManualClock());
  t.after(() => store.close());
  const tv = await store.add("tv", "member");
  const speaker = await store.add("speaker", "member");
  await store.add("lamp", "member");
  await store.add("sensor", "client", { publish: ["sensors.>"], subscribe: [] });
  store.revoke("lamp");
  assert.deepEqual(store.activeMembers(), [
    { nodeId: "speaker", publicKey: userPublicKey(speaker) },
    { nodeId: "tv", publicKey: userPublicKey(tv) },
  ]);
  store.revoke("tv");
  const again = await store.add("tv", "member");
  assert.notEqual(userPublicKey(again), userPublicKey(tv));
  assert.equal(store.activeMembers().find((m) => m.nodeId === "tv")?.publicKey, userPublicKey(again), "re-issued: the new key");
});

test("a store from before NKeys gains the column; its credentials keep working on MQTT, without a public key", async (t) => {
  const dir = tempDir(t, "adaos-creds-");
  const legacySecret = generateSecret();
  const old = new Database(join(dir, CREDENTIALS_DB_FILE));
  old.exec(`CREATE TABLE credentials (
    serial INTEGER PRIMARY KEY AUTOINCREMENT, node_id TEXT NOT NULL UNIQUE,
    role TEXT NOT NULL CHECK (role IN ('member', 'client')), secret_hash TEXT NOT NULL,
    publish TEXT NOT NULL, subscribe TEXT NOT NULL, created_at TEXT NOT NULL, revoked_at TEXT
  ) STRICT`);
  old.prepare("INSERT INTO credentials (node_id, role, secret_hash, publish, subscribe, created_at) VALUES ('tv', 'member', ?, '[]', '[]', '2026-01-01T00:00:00.000Z')")
    .run(await hashSecret(legacySecret));
  old.pragma("user_version = 1");
  old.close();

  const store = CredentialsStore.open(dir, new ManualClock());
  t.after(() => store.close());
  assert.equal(store.get("tv")?.publicKey, null);
  assert.notEqual(await store.verify("tv", legacySecret), null, "MQTT login unchanged");
  const speaker = await store.add("speaker", "member");
  assert.deepEqual(store.activeMembers(), [{ nodeId: "speaker", publicKey: userPublicKey(speaker) }, { nodeId: "tv", publicKey: null }]);
});
