/** The supervisor's decisions with a fake process and a manual clock (the real thing: test/natsd.test.ts). */
import { strict as assert } from "node:assert";
import type { ChildProcess } from "node:child_process";
import { EventEmitter } from "node:events";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { test } from "node:test";
import { ManualClock } from "../core/clock.js";
import { silentLogger } from "../core/logger.js";
import { MetricsRegistry } from "../core/metrics.js";
import type { SpawnFn } from "./child.js";
import { NatsdSupervisor, STABLE_AFTER_MS, STOP_GRACE_MS, type NatsdState } from "./supervisor.js";
import { subnetUsers } from "./users.js";

class FakeProc extends EventEmitter {
  static nextPid = 1000;
  readonly pid: number | undefined = FakeProc.nextPid++;
  readonly stdout = new PassThrough();
  readonly stderr = new PassThrough();
  readonly signals: string[] = [];
  ignoreTerm = false;

  kill(signal: NodeJS.Signals): boolean {
    this.signals.push(signal);
    if (signal === "SIGHUP" || (signal === "SIGTERM" && this.ignoreTerm)) return true;
    queueMicrotask(() => this.emit("exit", null, signal));
    return true;
  }
}

const tick = () => new Promise<void>((r) => setImmediate(r));

function setup(t: { after: (fn: () => void | Promise<void>) => void }, opts: { ready?: () => boolean; check?: boolean } = {}) {
  const dir = mkdtempSync(join(tmpdir(), "adaos-sup-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const clock = new ManualClock();
  const procs: FakeProc[] = [];
  const spawn: SpawnFn = () => {
    const p = new FakeProc();
    procs.push(p);
    return p as unknown as ChildProcess;
  };
  const metrics = new MetricsRegistry();
  const users = subnetUsers({ hubId: "h", hubPassword: "pw", token: null, memberIds: [] });
  const sup = new NatsdSupervisor(
    // process.execPath: any existing executable will do, the fake spawn never runs it.
    { bin: process.execPath, server: { nodeId: "h", host: "0.0.0.0", port: 4222, monitorPort: 8222, maxPayload: 1 << 20, dir, users }, readyTimeoutMs: 1_000 },
    {
      logger: silentLogger(),
      metrics,
      clock,
      spawn,
      random: () => 0.5,
      probe: () => Promise.resolve(opts.ready?.() ?? true),
      check: () => Promise.resolve(opts.check === false ? { ok: false as const, reason: "Duplicate user" } : { ok: true as const }),
    },
  );
  const states: NatsdState[] = [];
  sup.onState((s) => states.push(s));
  t.after(async () => {
    const stopping = sup.stop();
    clock.advance(STOP_GRACE_MS * 2);
    await stopping;
  });
  const restarts = () => metrics.counter("adaos_natsd_restarts_total", "").get();
  const up = () => metrics.gauge("adaos_natsd_up", "").get();
  return { sup, clock, procs, states, restarts, up };
}

test("a crash is restarted after a jittered, growing delay; the delay resets once it was stable", async (t) => {
  const { sup, clock, procs, states, restarts, up } = setup(t);
  await sup.start(new AbortController().signal);
  assert.deepEqual(states, [{ type: "up", url: "nats://127.0.0.1:4222" }]);
  assert.equal(up(), 1);

  procs[0]?.emit("exit", 1, null);
  await tick();
  assert.deepEqual(states[1], { type: "down", reason: "exited with status 1" });
  assert.equal(up(), 0);
  clock.advance(249); // random 0.5 × base 500
  assert.equal(procs.length, 1);
  clock.advance(1);
  assert.equal(procs.length, 2);
  assert.equal(restarts(), 1);
  await tick();
  assert.equal(sup.state?.type, "up");

  procs[1]?.emit("exit", null, "SIGSEGV");
  await tick();
  clock.advance(499); // 0.5 × 1000: the second attempt waits longer
  assert.equal(procs.length, 2);
  clock.advance(1);
  assert.equal(procs.length, 3);
  await tick();

  clock.advance(STABLE_AFTER_MS);
  procs[2]?.emit("exit", 0, null);
  await tick();
  clock.advance(250);
  assert.equal(procs.length, 4, "back to the first step after a stable run");
  assert.equal(restarts(), 3);
  assert.deepEqual(states.map((s) => s.type), ["up", "down", "up", "down", "up", "down"]);
});

test("stop(): SIGTERM, SIGKILL after the grace period; no restart afterwards", async (t) => {
  const { sup, clock, procs, states } = setup(t);
  await sup.start(new AbortController().signal);
  const proc = procs[0] as FakeProc;
  proc.ignoreTerm = true;
  const stopping = sup.stop();
  await tick();
  assert.deepEqual(proc.signals, ["SIGTERM"]);
  clock.advance(STOP_GRACE_MS - 1);
  await tick();
  assert.deepEqual(proc.signals, ["SIGTERM"]);
  clock.advance(1);
  await stopping;
  assert.deepEqual(proc.signals, ["SIGTERM", "SIGKILL"]);
  clock.advance(60_000);
  assert.equal(procs.length, 1);
  assert.deepEqual(states.map((s) => s.type), ["up"]);
});

test("not ready by the deadline: start() returns with `down`, and `up` follows when it is", async (t) => {
  let ready = false;
  const { sup, clock, states } = setup(t, { ready: () => ready });
  const starting = sup.start(new AbortController().signal);
  await tick();
  clock.advance(1_000);
  await starting;
  assert.deepEqual(states, [{ type: "down", reason: "not ready within 1000 ms (still waiting)" }]);
  ready = true;
  await new Promise((r) => setTimeout(r, 120));
  assert.equal(sup.state?.type, "up");
});

test("abort during start: the child is stopped and start() rejects with the reason", async (t) => {
  const { sup, procs } = setup(t, { ready: () => false });
  const abort = new AbortController();
  const starting = sup.start(abort.signal);
  await tick();
  abort.abort(new Error("SIGTERM during start-up"));
  await assert.rejects(starting, /SIGTERM during start-up/);
  assert.deepEqual(procs[0]?.signals, ["SIGTERM"]);
});

test("a rejected config: unavailable, nothing spawned, start() resolves", async (t) => {
  const { sup, procs, states } = setup(t, { check: false });
  await sup.start(new AbortController().signal);
  assert.equal(procs.length, 0);
  assert.deepEqual(states, [{ type: "unavailable", reason: "it refused its config (Duplicate user)" }]);
  assert.equal(await sup.reload([]), false);
});

test("reload(): checked, then SIGHUP to the running server", async (t) => {
  const { sup, procs } = setup(t);
  await sup.start(new AbortController().signal);
  assert.equal(await sup.reload(subnetUsers({ hubId: "h", hubPassword: "pw", token: "subnet-token-0123456789", memberIds: ["tv"] })), true);
  assert.deepEqual(procs[0]?.signals, ["SIGHUP"]);
});
