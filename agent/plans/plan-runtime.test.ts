import { strict as assert } from "node:assert";
import { test } from "node:test";
import type { Envelope } from "../../abi/envelope.js";
import { plan, step } from "../resolver/fixture.js";
import { FILM, startSubnet, type Subnet } from "./plan-fixture.js";

const never = (): Promise<Record<string, unknown>> => new Promise(() => undefined);
const named = (s: Subnet, name: string): Envelope[] => s.events.filter((e) => e.event_name === name);
const bound = (st: { steps: readonly { id: string; node_id: string | null }[] }): Record<string, string | null> => Object.fromEntries(st.steps.map((x) => [x.id, x.node_id]));

test("resolve has no side effects: bindings with scores and reasons, no lease, nothing sent", async (t) => {
  const s = await startSubnet(t);
  const answer = s.runtime.resolve({ plan: FILM });
  assert.equal(answer.ok, true);
  assert.deepEqual(answer.bindings.map((b) => [b.step, b.node_id]), [["find", "plex1"], ["stream", "plex1"], ["display", "browser-abc"]]);
  assert.equal(answer.nodes, 6);
  assert.equal(answer.hub_id, "hub-1");
  assert.ok(answer.rejected.some((r) => r.step === "display" && r.node_id === "tv" && /formats/.test(r.reason)));
  assert.equal(s.calls.length, 0);
  assert.deepEqual(s.events.filter((e) => e.event_name.startsWith("plan.")), []);
  assert.match(s.metrics.gauge("adaos_plan_leases", "").render().join("\n"), /adaos_plan_leases 0/);
});

test("exec runs the DAG: each step on its node, outputs passed on, one correlation id, leases released", async (t) => {
  const s = await startSubnet(t);
  const { run_id, correlation_id } = s.runtime.exec({ plan: FILM, correlation_id: "session-42" });
  assert.equal(correlation_id, "session-42");
  const st = await s.done(run_id);
  assert.equal(st.state, "completed");
  assert.deepEqual(bound(st), { find: "plex1", stream: "plex1", display: "browser-abc" });
  const display = s.calls.find((c) => c.req.step_id === "display");
  assert.deepEqual(display?.req.args, { url: "http://plex1.local/hls/inception-2010.m3u8", title: "Inception" });
  assert.equal(display?.req.correlation_id, "session-42");
  const [completed] = named(s, "plan.run.completed");
  assert.equal(completed?.correlation_id, "session-42");
  assert.equal((completed?.payload as { state: string }).state, "completed");
  assert.ok(named(s, "plan.step.exec").every((e) => e.correlation_id === "session-42" && typeof e.headers.exec_token === "string"));
  assert.match(s.metrics.gauge("adaos_plan_leases", "").render().join("\n"), /adaos_plan_leases 0/);
});

test("a display that answers an error: route.changed and the next compatible display plays it", async (t) => {
  const s = await startSubnet(t);
  s.behave("browser-abc", "ui.render.video", () => Promise.reject(new Error("no video decoder")));
  const st = await s.done(s.runtime.exec({ plan: FILM }).run_id);
  assert.equal(st.state, "completed");
  assert.equal(bound(st).display, "browser-2", "tv takes mp4 only, plex1 streams hls: tv is never bound");
  const [changed] = named(s, "route.changed");
  assert.deepEqual({ ...(changed?.payload as object), detected_to_bound_ms: 0, score: 0 }, {
    run_id: st.run_id, step_id: "display", need: "capability://ui.render.video", from: "browser-abc", to: "browser-2",
    reason: "browser-abc answered E_INTERNAL: no video decoder", score: 0, detected_to_bound_ms: 0,
  });
  assert.equal(changed?.correlation_id, st.correlation_id);
  assert.equal(st.steps.find((x) => x.id === "display")?.attempts, 2);
});

test("no ack within startup_sla: the step fails over", async (t) => {
  const s = await startSubnet(t, { slaMs: 150 });
  s.behave("browser-abc", "ui.render.video", never);
  const st = await s.done(s.runtime.exec({ plan: FILM }).run_id);
  assert.equal(bound(st).display, "browser-2");
  assert.match(st.route_changes[0]?.reason ?? "", /no ack from browser-abc within startup_sla_ms \(150 ms\)/);
});

test("the display's node goes down mid-step: failover at once, not after the SLA", async (t) => {
  const s = await startSubnet(t, { slaMs: 30_000 });
  s.behave("browser-abc", "ui.render.video", () => {
    s.setOnline("browser-abc", false);
    s.bus.publish({ ...downEvent("browser-abc") });
    return never();
  });
  const started = Date.now();
  const st = await s.done(s.runtime.exec({ plan: FILM }).run_id, 5_000);
  assert.ok(Date.now() - started < 5_000);
  assert.equal(bound(st).display, "browser-2");
  assert.match(st.route_changes[0]?.reason ?? "", /node browser-abc went offline/);
  assert.ok((st.route_changes[0]?.detected_to_bound_ms ?? 99) < 50);
});

test("no display left: degraded, find and stream kept, a notification says what is missing", async (t) => {
  const s = await startSubnet(t);
  s.setOnline("browser-2", false);
  s.behave("browser-abc", "ui.render.video", () => Promise.reject(new Error("screen off")));
  const st = await s.done(s.runtime.exec({ plan: FILM }).run_id);
  assert.equal(st.state, "degraded");
  assert.deepEqual(st.steps.map((x) => x.state), ["done", "done", "failed"]);
  assert.equal(st.steps[0]?.outputs?.title, "Inception");
  const changed = named(s, "route.changed").map((e) => e.payload as { from: string; to: string | null });
  assert.deepEqual(changed.map((c) => [c.from, c.to]), [["browser-abc", null]]);
  const [notify] = named(s, "ui.notify");
  assert.match((notify?.payload as { text: string }).text, /display \(ui\.render\.video\) could not run: .*Kept: find, stream/);
  assert.equal(notify?.correlation_id, st.correlation_id);
});

test("a node offline or a probe down before the step is sent: the next candidate, the dead one never called", async (t) => {
  const s = await startSubnet(t);
  const i = s.nodes.findIndex((n) => n.node_id === "browser-abc");
  const b = s.nodes[i];
  assert.ok(b);
  // Bound at resolve time, down by the time its step comes: the stream step is slow.
  s.behave("plex1", "media.playback", () => {
    s.nodes[i] = { ...b, capabilities: b.capabilities.map((c) => ({ ...c, status: "down" as const })) };
    return Promise.resolve({ url: "http://plex1/x.m3u8" });
  });
  const st = await s.done(s.runtime.exec({ plan: FILM }).run_id);
  assert.equal(bound(st).display, "browser-2");
  assert.match(st.route_changes[0]?.reason ?? "", /probe: capability:\/\/ui\.render\.video is down on browser-abc/);
  assert.ok(!s.calls.some((c) => c.node === "browser-abc"));
});

test("arguments that read a step the step does not depend on are refused when the plan is loaded", async (t) => {
  const s = await startSubnet(t);
  const p = plan([step("find", "media.search"), step("show", "ui.render.video", { args: { url: "${steps.find.url}", n: ["${steps.nope.x}"] } })]);
  assert.throws(() => s.runtime.exec({ plan: p }), (e: Error & { code?: string }) => {
    assert.equal(e.code, "E_BAD_REQUEST");
    assert.match(e.message, /\/steps\/1\/args\/url steps\.find: show can only read the outputs of steps it depends on \(none\)/);
    assert.match(e.message, /\/steps\/1\/args\/n\/0 steps\.nope/);
    return true;
  });
  assert.equal(s.calls.length, 0);
});

test("cancel lets the step in flight go and starts no other", async (t) => {
  const s = await startSubnet(t, { slaMs: 30_000 });
  s.behave("plex1", "media.playback", never);
  const { run_id } = s.runtime.exec({ plan: FILM });
  while (!s.calls.some((c) => c.req.step_id === "stream")) await new Promise((r) => setTimeout(r, 5));
  s.runtime.cancel(run_id);
  const st = await s.done(run_id, 2_000);
  assert.equal(st.state, "cancelled");
  assert.ok(!s.calls.some((c) => c.req.step_id === "display"));
});

test("a plan nobody can run fails at once with the reason; a bad plan is refused before anything starts", async (t) => {
  const s = await startSubnet(t);
  const st = await s.done(s.runtime.exec({ plan: plan([step("x", "lights.dim")]) }).run_id);
  assert.equal(st.state, "failed");
  assert.match(st.error?.message ?? "", /no node left for capability:\/\/lights\.dim/);
  assert.throws(() => s.runtime.exec({ plan: { steps: [{ id: "Bad Id", need: "x" }] } }), (e: Error & { code?: string }) => e.code === "E_BAD_REQUEST");
});

function downEvent(nodeId: string): object {
  return {
    id: `0193f0c2-5b1a-7c3d-8e4f-${String(Date.now()).padStart(12, "0").slice(-12)}`,
    event_name: "net.subnet.node.down", version: 1, kind: "event", ts: new Date().toISOString(), source: "agent://hub/hub-1",
    correlation_id: "0193f0c2-5b1a-7c3d-8e4f-0123456789ab", tenant: "default", priority: 2, headers: {},
    payload: { node_id: nodeId, reason: "link", last_seen: new Date().toISOString(), missed: 0 },
  };
}
