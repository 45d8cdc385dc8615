import { strict as assert } from "node:assert";
import { test, type TestContext } from "node:test";
import { BadRequestError } from "../../core/errors.js";
import { FILM_PLAN } from "../../resolver/fixture.js";
import { call, errorOf, postJson, startApi } from "../test-fixture.js";
import { FakePlanApi, filmAnswer, planRunStatus } from "./plans-fake.js";

const PLAN = { steps: [{ id: "find", need: "capability://media.search" }] };

async function withPlans(t: TestContext) {
  const fake = new FakePlanApi();
  const fixture = await startApi(t, { plans: fake });
  return { ...fixture, fake };
}

test("POST /resolve: 200 with the runtime's answer; plan and ctx reach it as given", async (t) => {
  const { url, fake } = await withPlans(t);
  const res = await postJson(`${url}/resolve`, { plan: FILM_PLAN, ctx: { origin: "browser-abc", allow_addressed: true } });
  assert.equal(res.status, 200);
  assert.deepEqual(res.body, JSON.parse(JSON.stringify(filmAnswer())));
  assert.deepEqual(fake.requests, [{ plan: JSON.parse(JSON.stringify(FILM_PLAN)) as unknown, ctx: { origin: "browser-abc", allow_addressed: true } }]);

  const bare = await postJson(`${url}/resolve`, { plan: PLAN });
  assert.equal(bare.status, 200);
  assert.deepEqual(fake.requests[1], { plan: PLAN }, "absent fields stay absent");
  const emptyCtx = await postJson(`${url}/resolve`, { plan: PLAN, ctx: {} });
  assert.equal(emptyCtx.status, 200);
  assert.deepEqual(fake.requests[2], { plan: PLAN, ctx: {} });
});

test("POST /exec: 202 {run_id, correlation_id, state}; the correlation id reaches the runtime", async (t) => {
  const { url, fake } = await withPlans(t);
  const res = await postJson(`${url}/exec`, { plan: PLAN, correlation_id: "sess-7" });
  assert.equal(res.status, 202);
  assert.deepEqual(res.body, { run_id: "plan-1", correlation_id: "sess-7", state: "running" });
  assert.deepEqual(fake.requests, [{ plan: PLAN, correlation_id: "sess-7" }]);
  const fresh = await postJson(`${url}/exec`, { plan: PLAN });
  assert.deepEqual(fresh.body, { run_id: "plan-2", correlation_id: "corr-2", state: "running" });
});

test("POST /resolve and /exec: bad bodies are 400 with a message naming the problem; the runtime is not called", async (t) => {
  const { url, fake } = await withPlans(t);
  const cases: [unknown, RegExp][] = [
    ["[1]", /request body must be a JSON object, got an array/],
    ['"plan"', /request body must be a JSON object, got string/],
    ["{plan:", /not valid JSON/],
    ["", /body is empty/],
    [{ plan: PLAN, colour: "red" }, /^unknown field colour \(expected plan, ctx, correlation_id\)$/],
    [{ plan: PLAN, a: 1, b: 2 }, /^unknown fields a, b /],
    [{}, /^plan must be an object/],
    [{ plan: [PLAN] }, /^plan must be an object/],
    [{ plan: "film.yaml" }, /^plan must be an object/],
    [{ plan: null }, /^plan must be an object/],
    [{ plan: PLAN, ctx: [1] }, /^ctx must be an object \{origin\?, allow_addressed\?\}$/],
    [{ plan: PLAN, ctx: "browser-abc" }, /^ctx must be an object/],
    [{ plan: PLAN, ctx: null }, /^ctx must be an object/],
    [{ plan: PLAN, ctx: { origin: 7 } }, /^ctx\.origin must be a node id$/],
    [{ plan: PLAN, ctx: { allow_addressed: "yes" } }, /^ctx\.allow_addressed must be true or false$/],
    [{ plan: PLAN, correlation_id: "" }, /^correlation_id must be a string of 1–128 characters$/],
    [{ plan: PLAN, correlation_id: "x".repeat(129) }, /^correlation_id must be/],
  ];
  for (const path of ["/resolve", "/exec"]) {
    for (const [body, message] of cases) {
      const res = await call(`${url}${path}`, "POST", body);
      assert.equal(res.status, 400, `${path} ${JSON.stringify(body)}`);
      assert.equal(errorOf(res).code, "E_BAD_REQUEST");
      assert.match(errorOf(res).message, message, `${path} ${JSON.stringify(body)}`);
    }
  }
  assert.deepEqual(fake.calls, []);
});

test("POST /resolve: the runtime's BadRequestError is 400 with every issue", async (t) => {
  const { url, fake } = await withPlans(t);
  const issues = [{ pointer: "/steps/0/need", message: "must match pattern" }, { pointer: "/extra", message: "must NOT have additional properties" }];
  fake.fail.resolve = new BadRequestError("the plan is invalid (2 problems)", { issues });
  const res = await postJson(`${url}/resolve`, { plan: { steps: [{ id: "a", need: "nope" }], extra: 1 } });
  assert.equal(res.status, 400);
  assert.deepEqual(errorOf(res), { code: "E_BAD_REQUEST", message: "the plan is invalid (2 problems)", issues });
});

test("GET /exec/{id} and POST /exec/{id}/cancel reach the runtime with the id, URL-encoded ones decoded", async (t) => {
  const { url, fake } = await withPlans(t);
  const started = (await postJson(`${url}/exec`, { plan: PLAN })).body as { run_id: string };
  const status = await call(`${url}/exec/${started.run_id}`, "GET");
  assert.equal(status.status, 200);
  assert.deepEqual(status.body, planRunStatus({ run_id: "plan-1" }));

  const odd = "run/1 ü?#x";
  fake.runs.set(odd, planRunStatus({ run_id: odd }));
  const encoded = encodeURIComponent(odd);
  assert.equal(((await call(`${url}/exec/${encoded}`, "GET")).body as { run_id: string }).run_id, odd);
  const cancelled = await call(`${url}/exec/${encoded}/cancel`, "POST");
  assert.equal(cancelled.status, 200);
  assert.equal((cancelled.body as { state: string }).state, "cancelled");
  assert.deepEqual(fake.calls.slice(1).map((c) => [c.method, c.args[0]]), [["status", "plan-1"], ["status", odd], ["cancel", odd]]);
});

test("an unknown run is 404 naming it, for status and cancel", async (t) => {
  const { url, fake } = await withPlans(t);
  for (const [method, path] of [["GET", "/exec/ghost"], ["POST", "/exec/ghost/cancel"]] as const) {
    const res = await call(`${url}${path}`, method);
    assert.equal(res.status, 404, path);
    assert.equal(errorOf(res).code, "E_NOT_FOUND");
    assert.match(errorOf(res).message, /^no plan run ghost \(runs are kept in memory until the hub restarts\)$/);
  }
  assert.deepEqual(fake.calls.map((c) => c.method), ["status", "cancel"]);
});

test("without a plan runtime (a member) every route is 404 saying the hub resolves", async (t) => {
  const { url } = await startApi(t);
  const routes: [string, string, unknown][] = [["POST", "/resolve", { plan: PLAN }], ["POST", "/exec", { plan: PLAN }], ["GET", "/exec/plan-1", undefined], ["POST", "/exec/plan-1/cancel", undefined]];
  for (const [method, path, body] of routes) {
    const res = await call(`${url}${path}`, method, body);
    assert.equal(res.status, 404, path);
    assert.equal(errorOf(res).code, "E_NOT_FOUND");
    assert.match(errorOf(res).message, /resolved and run by the hub: send this to the hub's API/, path);
  }
});

test("a wrong or missing token is 401 and nothing reaches the runtime; a wrong method is 405", async (t) => {
  const { url, fake } = await withPlans(t);
  for (const headers of [{ "x-adaos-token": "wrong" }, {}]) {
    for (const [method, path, body] of [["POST", "/resolve", { plan: PLAN }], ["POST", "/exec", { plan: PLAN }], ["GET", "/exec/plan-1", undefined]] as const) {
      const res = await call(`${url}${path}`, method, body, headers);
      assert.equal(res.status, 401, `${path} ${JSON.stringify(headers)}`);
      assert.equal(errorOf(res).code, "E_UNAUTHORIZED");
    }
  }
  assert.equal((await call(`${url}/resolve`, "GET")).status, 405);
  assert.deepEqual(fake.calls, []);
});
