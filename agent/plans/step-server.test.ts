import { strict as assert } from "node:assert";
import { test, type TestContext } from "node:test";
import { HEADER } from "../../abi/envelope.js";
import { LocalBus } from "../bus/local-bus.js";
import { systemClock } from "../core/clock.js";
import { createEnvelope } from "../core/envelope.js";
import { silentLogger } from "../core/logger.js";
import { MetricsRegistry } from "../core/metrics.js";
import { precompiledCatalog } from "../registry/precompiled.js";
import { execTokenKey, signExecToken, type ExecClaims } from "../resolver/exec-token.js";
import type { StepHandler } from "./step-handler.js";
import { argsDigest, type StepResultPayload } from "./step-protocol.js";
import { StepServer } from "./step-server.js";

const KEY = execTokenKey("subnet-token-0123456789abcdef");
const ARGS = { url: "http://plex1/x.m3u8" };

async function tv(t: TestContext) {
  const bus = new LocalBus({ catalog: precompiledCatalog(), logger: silentLogger(), metrics: new MetricsRegistry(), source: "agent://hub/hub-1" });
  await bus.start();
  t.after(() => bus.stop());
  let runs = 0;
  const handler: StepHandler = { run: () => (runs++, Promise.resolve({ playing: true })) };
  const server = new StepServer({ bus, nodeId: "tv", isHub: false, key: KEY, handlers: new Map([["ui.render.video", handler]]), clock: systemClock, logger: silentLogger(), metrics: new MetricsRegistry() });
  await server.start(new AbortController().signal);
  t.after(() => server.stop());
  const claims = (over: Partial<ExecClaims> = {}): ExecClaims => ({ run: "r1", step: "display", node: "tv", cap: "ui.render.video", slots: { args_sha256: argsDigest(ARGS) }, iat: Date.now(), exp: Date.now() + 60_000, ...over });
  const send = async (token: string, o: { need?: string; args?: object; attempt?: number } = {}): Promise<StepResultPayload> => {
    const e = createEnvelope({
      event_name: "plan.step.exec", version: 1, kind: "command", source: "agent://hub/hub-1",
      headers: { [HEADER.target]: "tv", ...(token === "" ? {} : { [HEADER.execToken]: token }) },
      payload: { run_id: "r1", step_id: "display", need: o.need ?? "capability://ui.render.video", args: o.args ?? ARGS, attempt: o.attempt ?? 1 },
    });
    return (await bus.request(e, { timeoutMs: 2000 })).payload as unknown as StepResultPayload;
  };
  return { bus, send, claims, runs: () => runs };
}

test("a valid token runs the step once; a redelivery of the same attempt gets the same answer without running again", async (t) => {
  const n = await tv(t);
  const token = signExecToken(n.claims(), KEY);
  assert.deepEqual(await n.send(token), { ok: true, run_id: "r1", step_id: "display", node_id: "tv", outputs: { playing: true } });
  assert.deepEqual((await n.send(token)).outputs, { playing: true });
  assert.equal(n.runs(), 1);
  const replayed = await n.send(signExecToken(n.claims({ node: "kitchen" }), KEY));
  assert.equal(replayed.error?.code, "E_UNAUTHORIZED", "the cached answer is not given to a request with a bad token");
});

test("tampered, expired, foreign, wrong-scope tokens and changed arguments are refused and nothing runs", async (t) => {
  const n = await tv(t);
  const good = signExecToken(n.claims(), KEY);
  const [head, body, mac] = good.split(".");
  const forged = Buffer.from(JSON.stringify({ ...n.claims(), node: "tv", exp: Date.now() + 9e9 })).toString("base64url");
  const cases: [string, string, object, RegExp][] = [
    ["tampered claims", `${head}.${forged}.${mac}`, {}, /signature does not match/],
    ["tampered mac", `${head}.${body}.${(mac ?? "").slice(0, -2)}AA`, {}, /signature does not match/],
    ["other subnet's key", signExecToken(n.claims(), execTokenKey("another-subnet-token-xxxxxxxx")), {}, /signature does not match/],
    ["expired", signExecToken(n.claims({ iat: Date.now() - 120_000, exp: Date.now() - 60_000 }), KEY), {}, /expired at/],
    ["for another node", signExecToken(n.claims({ node: "kitchen" }), KEY), {}, /for node "kitchen", not "tv"/],
    ["for another step", signExecToken(n.claims({ step: "find" }), KEY), {}, /for step "find", not "display"/],
    ["for another capability", signExecToken(n.claims({ cap: "media.search" }), KEY), {}, /for cap "media.search"/],
    ["changed arguments", good, { args: { url: "http://evil/x" } }, /not the ones the hub signed/],
    ["malformed", "not-a-token", {}, /malformed exec_token/],
  ];
  for (const [what, token, o, why] of cases) {
    const answer = await n.send(token, o);
    assert.equal(answer.ok, false, what);
    assert.equal(answer.error?.code, "E_UNAUTHORIZED", what);
    assert.match(answer.error?.message ?? "", why, what);
  }
  assert.equal(n.runs(), 0);
});

test("a missing token is refused at the bus with the header named; an unknown capability names the ones the node runs", async (t) => {
  const n = await tv(t);
  await assert.rejects(n.send(""), /exec_token/);
  const answer = await n.send(signExecToken(n.claims({ cap: "lights.dim" }), KEY), { need: "capability://lights.dim" });
  assert.equal(answer.error?.code, "E_NOT_FOUND");
  assert.match(answer.error?.message ?? "", /no handler for capability:\/\/lights\.dim; it runs capability:\/\/ui\.render\.video/);
});
