/** `nodes add|list|revoke`, run in-process against a temp data dir. */
import { strict as assert } from "node:assert";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { tempDir } from "../../test/helpers.js";
import { CredentialsStore } from "../broker/credentials-store.js";
import { userPublicKey } from "../broker/node-key.js";
import { NotFoundError, UsageError } from "../core/errors.js";
import type { CliIo } from "./command.js";
import { add, list, revoke } from "./nodes.js";

interface Captured extends CliIo {
  readonly lines: string[];
}

function io(cwd: string, env: Record<string, string> = {}): Captured {
  const lines: string[] = [];
  return { lines, out: (l) => lines.push(l), err: (l) => lines.push(`stderr: ${l}`), env, cwd };
}

/** The password printed by `nodes add`. */
function secretOf(lines: readonly string[]): string {
  const m = lines.join("\n").match(/password (\S+)/);
  assert.ok(m?.[1] !== undefined, lines.join("\n"));
  return m[1];
}

async function verify(dataDir: string, nodeId: string, secret: string): Promise<boolean> {
  const store = CredentialsStore.open(dataDir);
  try {
    return (await store.verify(nodeId, secret)) !== null;
  } finally {
    store.close();
  }
}

test("nodes add prints the secret (an NKey seed) once with how to use it on MQTT and NATS; the store verifies it", async (t) => {
  const dir = tempDir(t);
  const out = io(dir);
  assert.equal(await add(["tv", "--data-dir", "data"], out), 0);
  const secret = secretOf(out.lines);
  const publicKey = userPublicKey(secret);
  assert.ok(publicKey !== undefined, `a user seed: ${secret}`);
  assert.ok(out.lines.some((l) => l.includes(`username tv, password ${secret}`)), out.lines.join("\n"));
  assert.ok(out.lines.some((l) => l.includes(`NKey seed (public key ${publicKey})`)), out.lines.join("\n"));
  assert.equal(out.lines.join("\n").split(secret).length, 2, "the secret is printed once");
  assert.ok(out.lines.some((l) => l.includes(join(dir, "data", "credentials.db"))), "says where");
  assert.ok(out.lines.some((l) => /shown only this once/.test(l)));
  assert.equal(await verify(join(dir, "data"), "tv", secret), true);
  const listed = io(dir);
  assert.equal(await list(["--json", "--data-dir", "data"], listed), 0);
  assert.equal((JSON.parse(listed.lines[0] ?? "{}") as { nkey: unknown }).nkey, publicKey, "list shows the public key");
});

test("nodes add --role client takes subject patterns or MQTT filters", async (t) => {
  const dir = tempDir(t);
  const out = io(dir, { ADAOS_EDGE_DATA_DIR: "from-env" });
  assert.equal(await add(["sensor", "--role", "client", "--publish", "sensors/sensor/#", "--publish", "ada.hub.h.req.sensor", "--subscribe", "sensors/cmd/+"], out), 0);
  assert.ok(out.lines.some((l) => l.includes("may publish:      sensors.sensor.> (MQTT sensors/sensor/#), ada.hub.h.req.sensor (MQTT ada/hub/h/req/sensor)")), out.lines.join("\n"));
  const listed = io(dir, { ADAOS_EDGE_DATA_DIR: "from-env" });
  assert.equal(await list(["--json"], listed), 0);
  const { created_at: createdAt, ...record } = JSON.parse(listed.lines[0] ?? "{}") as Record<string, unknown>;
  assert.match(String(createdAt), /^\d{4}-\d\d-\d\dT/);
  const { nkey, ...rest } = record;
  assert.match(String(nkey), /^U[A-Z2-7]{55}$/);
  assert.deepEqual(rest, { node_id: "sensor", role: "client", revoked_at: null, publish: ["sensors.sensor.>", "ada.hub.h.req.sensor"], subscribe: ["sensors.cmd.*"] });
  assert.ok(!out.lines.some((l) => l.includes("NATS:")), "a client is not told about NATS (its grants are MQTT-only for now)");
});

test("nodes add refuses bad input with usage errors", async (t) => {
  const dir = tempDir(t);
  await assert.rejects(add([], io(dir)), UsageError);
  await assert.rejects(add(["tv", "extra"], io(dir)), UsageError);
  await assert.rejects(add(["TV"], io(dir)), UsageError);
  await assert.rejects(add(["tv", "--role", "admin"], io(dir)), /--role must be one of member, client/);
  await assert.rejects(add(["tv", "--publish", "a.>"], io(dir)), /for the client role/);
  await assert.rejects(add(["cam", "--role", "client"], io(dir)), /at least one/);
  await assert.rejects(add(["cam", "--role", "client", "--publish", "a/#/b"], io(dir)), /not an MQTT topic filter/);
  assert.equal(await add(["tv"], io(dir)), 0);
  await assert.rejects(add(["tv"], io(dir)), /already has a credential.*nodes revoke tv/);
});

test("nodes list and revoke; a revoked node can be issued a new secret and the old one stays dead", async (t) => {
  const dir = tempDir(t);
  const first = io(dir);
  await add(["tv"], first);
  await add(["speaker"], io(dir));
  const listed = io(dir);
  assert.equal(await list([], listed), 0);
  assert.equal(listed.lines.length, 2);
  assert.match(listed.lines[0] ?? "", /^speaker {2}member {2}active {2}created /);
  assert.ok(!listed.lines.join("").includes(secretOf(first.lines)), "no secrets listed");
  const revoked = io(dir);
  assert.equal(await revoke(["tv"], revoked), 0);
  assert.match(revoked.lines[0] ?? "", /revoked the credential of node tv; a running hub closes its MQTT and NATS connections within 5 s/);
  await assert.rejects(revoke(["tv"], io(dir)), (err: Error) => err instanceof NotFoundError && /already revoked/.test(err.message));
  await assert.rejects(revoke(["ghost"], io(dir)), /node ghost has no credential/);
  const again = io(dir);
  await add(["tv"], again);
  const dataDir = join(dir, "var");
  assert.equal(await verify(dataDir, "tv", secretOf(first.lines)), false);
  assert.equal(await verify(dataDir, "tv", secretOf(again.lines)), true);
});

test("nodes list and revoke on a data dir without credentials create nothing", async (t) => {
  const dir = tempDir(t);
  const out = io(dir);
  assert.equal(await list([], out), 0);
  assert.match(out.lines[0] ?? "", /^no credentials in .*credentials\.db \(add one: adaos-edge nodes add/);
  await assert.rejects(revoke(["tv"], io(dir)), /node tv has no credential/);
  assert.equal(existsSync(join(dir, "var")), false);
});
