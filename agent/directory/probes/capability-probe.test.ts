import { strict as assert } from "node:assert";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { test } from "node:test";
import type { CapabilityDecl, Probe } from "../../../abi/manifest.js";
import { CapabilityProbes } from "./capability-probe.js";

const cap = (id: string, probe?: Probe): CapabilityDecl => ({
  id: `capability://${id}`, prio: 1, cost: 0, inputs: [], outputs: [], ...(probe === undefined ? {} : { probe }),
});

async function httpServer(t: { after(fn: () => Promise<void>): void }): Promise<string> {
  const server: Server = createServer((req, res) => {
    if (req.url === "/ok") { res.writeHead(200).end("fine"); return; }
    if (req.url === "/moved") { res.writeHead(302, { location: "/ok" }).end(); return; }
    if (req.url === "/busy") { res.writeHead(503).end("busy"); return; }
    if (req.url === "/hang") return; // never answers
    res.writeHead(404).end();
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  t.after(() => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

test("no probe is up; http: 2xx/3xx up, 503 degraded, refused and silent down", async (t) => {
  const base = await httpServer(t);
  const probes = new CapabilityProbes({
    capabilities: [
      cap("display.play"),
      cap("a.ok", { kind: "http", url: `${base}/ok` }),
      cap("a.moved", { kind: "http", url: `${base}/moved` }),
      cap("a.busy", { kind: "http", url: `${base}/busy` }),
      cap("a.refused", { kind: "http", url: "http://127.0.0.1:1/" }),
      cap("a.hang", { kind: "http", url: `${base}/hang`, timeout_ms: 200 }),
    ],
  });
  const got = await probes.run();
  assert.deepEqual(got.map((s) => [s.id.replace("capability://", ""), s.status]), [
    ["display.play", "up"], ["a.ok", "up"], ["a.moved", "up"], ["a.busy", "degraded"], ["a.refused", "down"], ["a.hang", "down"],
  ]);
  assert.equal(got[0]?.error, undefined);
  assert.equal(got[3]?.error, "HTTP 503");
  assert.match(got[4]?.error ?? "", /127\.0\.0\.1:1/);
  assert.match(got[5]?.error ?? "", /within 200 ms/);
});

test("command: exit 0 up, 1 degraded with stderr, 2 down, missing program down, a signal down", async () => {
  const probes = new CapabilityProbes({
    capabilities: [
      cap("c.zero", { kind: "command", argv: ["true"] }),
      cap("c.one", { kind: "command", argv: ["sh", "-c", "echo 'no device' >&2; exit 1"] }),
      cap("c.two", { kind: "command", argv: ["sh", "-c", "exit 2"] }),
      cap("c.missing", { kind: "command", argv: ["/nonexistent/adaos-probe"] }),
      cap("c.signal", { kind: "command", argv: ["sh", "-c", "kill -TERM $$"] }),
      cap("c.empty", { kind: "command", argv: [] }),
    ],
  });
  const got = await probes.run();
  assert.deepEqual(got.map((s) => s.status), ["up", "degraded", "down", "down", "down", "down"]);
  assert.match(got[1]?.error ?? "", /exited 1: no device/);
  assert.match(got[3]?.error ?? "", /command not found/);
  assert.match(got[4]?.error ?? "", /SIGTERM/);
  assert.match(got[5]?.error ?? "", /empty/);
});

test("a command that overruns is killed with its children and reported down", async () => {
  const marker = `adaos-probe-${process.pid}-${Date.now()}`;
  const probes = new CapabilityProbes({
    capabilities: [cap("c.slow", { kind: "command", argv: ["sh", "-c", `sleep 30 & exec sleep 31 # ${marker}`], timeout_ms: 300 })],
  });
  const started = Date.now();
  const [s] = await probes.run();
  assert.equal(s?.status, "down");
  assert.match(s?.error ?? "", /within 300 ms/);
  assert.ok(Date.now() - started < 5000);
  // The background `sleep 30` was in the same group: nothing is left behind.
  const { execFileSync } = await import("node:child_process");
  const left = execFileSync("sh", ["-c", "ps -eo args | grep -c '^sleep 3[01]$' || true"], { encoding: "utf8" }).trim();
  assert.equal(left, "0");
});

test("internal checks by name; an unknown one is down naming the known ones; a throwing one is down", async () => {
  const probes = new CapabilityProbes({
    capabilities: [
      cap("i.mic", { kind: "internal", check: "mic" }),
      cap("i.tts", { kind: "internal", check: "tts" }),
      cap("i.bad", { kind: "internal", check: "boom" }),
      cap("i.unknown", { kind: "internal", check: "camera" }),
    ],
    internal: { mic: () => "up", tts: () => Promise.resolve("degraded"), boom: () => { throw new Error("driver crashed"); } },
  });
  const got = await probes.run();
  assert.deepEqual(got.map((s) => s.status), ["up", "degraded", "down", "down"]);
  assert.match(got[2]?.error ?? "", /driver crashed/);
  assert.match(got[3]?.error ?? "", /"camera".*known: mic, tts, boom/);
});

test("long errors are cut to 200 characters on one line", async () => {
  const probes = new CapabilityProbes({
    capabilities: [cap("c.noisy", { kind: "command", argv: ["sh", "-c", "for i in $(seq 100); do printf 'line %s\\n' $i >&2; done; exit 3"] })],
  });
  const [s] = await probes.run();
  assert.equal(s?.status, "down");
  assert.ok((s?.error ?? "").length <= 200);
  assert.doesNotMatch(s?.error ?? "", /\n/);
});
