import { strict as assert } from "node:assert";
import { test } from "node:test";
import { UnauthorizedError } from "../core/errors.js";
import { CLOCK_SKEW_MS, execTokenKey, signExecToken, verifyExecToken, type ExecClaims } from "./exec-token.js";

const key = execTokenKey("subnet-token-0123456789");
const now = Date.parse("2026-06-01T12:00:00.000Z");
const claims: ExecClaims = { run: "r1", step: "display", node: "tv", cap: "ui.render.video", slots: { title: "Inception" }, iat: now, exp: now + 60_000 };
const scope = { node: "tv", step: "display", cap: "ui.render.video", run: "r1" };
const refused = (token: string | undefined, re: RegExp, s = scope, at = now) =>
  assert.throws(() => verifyExecToken(token, key, s, at), (e: unknown) => e instanceof UnauthorizedError && re.test(e.message));

test("a token signed by the hub verifies for its node, step, capability and run", () => {
  assert.deepEqual(verifyExecToken(signExecToken(claims, key), key, scope, now + 1000), claims);
});

test("missing, malformed, tampered, other-key, expired, future and wrong-scope tokens are refused with their reason", () => {
  const token = signExecToken(claims, key);
  refused(undefined, /missing/);
  refused("", /missing/);
  refused("v1.abc", /malformed/);
  const [v, body, mac] = token.split(".") as [string, string, string];
  const forged = Buffer.from(JSON.stringify({ ...claims, node: "laptop" })).toString("base64url");
  refused(`${v}.${forged}.${mac}`, /tampered/);
  refused(`${v}.${body}.${mac.slice(0, -2)}AA`, /tampered/);
  refused(signExecToken(claims, execTokenKey("another subnet")), /another subnet/);
  refused(token, /expired/, scope, now + 60_000 + CLOCK_SKEW_MS + 1);
  refused(signExecToken({ ...claims, iat: now + 60_000 }, key), /not valid yet/);
  refused(token, /for node "tv", not "laptop"/, { ...scope, node: "laptop" });
  refused(token, /for step "display", not "find"/, { ...scope, step: "find" });
  refused(token, /for cap/, { ...scope, cap: "media.search" });
  refused(token, /for run/, { ...scope, run: "r2" });
});
