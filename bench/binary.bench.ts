/**
 * The packaged binary against `node dist/agent/main.js` on the same machine: file size, cold
 * start to /health/ready, and idle RSS once ready. The unpackaged agent on the pinned Node 22 is
 * the raw limit; the ratio is the binary's cost.
 *
 *   npm run package && node dist/bench/binary.bench.js [runs]
 */
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { rssBytes } from "./bench-util.js";

const RUNS = Number(process.argv[2] ?? 5);
const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const BINARY = join(ROOT, "dist", `adaos-edge-linux-${process.arch}`);
const MAIN = join(ROOT, "dist", "agent", "main.js");
/** Let the process settle (JIT, lazy allocations) before reading its resident memory. */
const SETTLE_MS = 1000;

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const srv = createServer().listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      srv.close(() => resolve(typeof addr === "object" && addr !== null ? addr.port : 0));
    });
  });
}

async function startOnce(cmd: string, args: string[]): Promise<{ readyMs: number; rss: number }> {
  const dir = mkdtempSync(join(tmpdir(), "adaos-bench-"));
  const port = await freePort();
  const t0 = performance.now();
  const child = spawn(cmd, [...args, "run", "--api-port", String(port), "--data-dir", join(dir, "var")], {
    cwd: dir,
    // MQTT on a free port and no nats-server: the figure is the agent itself, not the brokers.
    env: { ...process.env, HOME: dir, PKG_NATIVE_CACHE_PATH: join(dir, "cache"), ADAOS_EDGE_LOG_LEVEL: "warn", ADAOS_EDGE_MQTT_PORT: "0", ADAOS_EDGE_NATS_SERVER_BIN: "" },
    stdio: "ignore",
  });
  try {
    for (;;) {
      try {
        if ((await fetch(`http://127.0.0.1:${port}/health/ready`)).ok) break;
      } catch {
        // not listening yet
      }
      if (performance.now() - t0 > 30_000) throw new Error(`${cmd} did not become ready`);
      await new Promise((r) => setTimeout(r, 5));
    }
    const readyMs = performance.now() - t0;
    await new Promise((r) => setTimeout(r, SETTLE_MS));
    return { readyMs, rss: rssBytes(child.pid ?? 0) };
  } finally {
    child.kill("SIGTERM");
    await new Promise((r) => child.once("exit", r));
    rmSync(dir, { recursive: true, force: true });
  }
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? 0;
}

async function measure(cmd: string, args: string[]): Promise<{ readyMs: number; rss: number }> {
  const runs: { readyMs: number; rss: number }[] = [];
  for (let i = 0; i < RUNS; i++) runs.push(await startOnce(cmd, args));
  return { readyMs: median(runs.map((r) => r.readyMs)), rss: median(runs.map((r) => r.rss)) };
}

const mb = (b: number): string => `${(b / 1024 / 1024).toFixed(1)} MB`;

console.log(`binary benchmark: median of ${RUNS} cold starts each, ${process.platform}-${process.arch}`);
for (const arch of ["x64", "arm64"]) {
  try {
    console.log(`  size  dist/adaos-edge-linux-${arch}  ${mb(statSync(join(ROOT, "dist", `adaos-edge-linux-${arch}`)).size)}`);
  } catch {
    console.log(`  size  dist/adaos-edge-linux-${arch}  (not built: npm run package)`);
  }
}
const raw = await measure(process.execPath, [MAIN]);
const ours = await measure(BINARY, []);
console.log(`  raw limit  node dist/agent/main.js    ready ${raw.readyMs.toFixed(0)} ms   idle RSS ${mb(raw.rss)}`);
console.log(`  ours       packaged binary            ready ${ours.readyMs.toFixed(0)} ms   idle RSS ${mb(ours.rss)}`);
console.log(`  ratio      start ${(ours.readyMs / raw.readyMs).toFixed(2)}×   RSS ${(ours.rss / raw.rss).toFixed(2)}×`);
