/**
 * The packaged single executables, as a user gets them: copied alone into an empty directory
 * (no node_modules, no Node on PATH needed), each runs `version`, `config check` and a hub until
 * /health/ready answers with a SQLite-backed boot count. The arm64 binary runs under
 * qemu-aarch64-static. `npm run package` builds them; the test command does so before the tests.
 */
import { strict as assert } from "node:assert";
import { spawn } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { REPO_ROOT, freePort, tempDir, waitFor, within } from "./helpers.js";

const ARM64_SYSROOT = "/usr/aarch64-linux-gnu";

interface Target {
  readonly arch: "x64" | "arm64";
  /** How to start the binary on this (x86_64) machine. */
  command(binary: string): [string, string[]];
}

const TARGETS: readonly Target[] = [
  { arch: "x64", command: (bin) => [bin, []] },
  { arch: "arm64", command: (bin) => ["qemu-aarch64-static", ["-L", ARM64_SYSROOT, bin]] },
];

function exec(cmd: [string, string[]], args: string[], cwd: string, env: Record<string, string>) {
  const child = spawn(cmd[0], [...cmd[1], ...args], { cwd, env: { PATH: "/usr/bin:/bin", ...env }, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  let err = "";
  child.stdout.setEncoding("utf8").on("data", (d: string) => (out += d));
  child.stderr.setEncoding("utf8").on("data", (d: string) => (err += d));
  const exited = new Promise<number | string>((resolve) => child.once("exit", (code, signal) => resolve(code ?? signal ?? -1)));
  return { child, exited, stdout: () => out, stderr: () => err };
}

for (const target of TARGETS) {
  test(`the linux-${target.arch} binary runs alone: version, config check, doctor, a hub with SQLite until ready, clean stop`, async (t) => {
    const built = join(REPO_ROOT, "dist", `adaos-edge-linux-${target.arch}`);
    assert.ok(existsSync(built), `${built} is missing: build it with \`npm run package\``);
    const dir = tempDir(t, `adaos-smoke-${target.arch}-`);
    const binary = join(dir, "adaos-edge");
    copyFileSync(built, binary);
    mkdirSync(join(dir, "cache"));
    // HOME and the native-addon cache point into the empty directory, as under systemd.
    const env = { HOME: dir, PKG_NATIVE_CACHE_PATH: join(dir, "cache"), ADAOS_EDGE_LOG_LEVEL: "warn", ADAOS_EDGE_MQTT_PORT: "0", ADAOS_EDGE_NATS_SERVER_BIN: "" };
    const cmd = target.command(binary);

    const version = exec(cmd, ["version"], dir, env);
    assert.equal(await within(60_000, "version", version.exited), 0, version.stderr());
    assert.match(version.stdout(), new RegExp(`^adaos-edge \\d+\\.\\d+\\.\\d+ \\(node 22\\.\\d+\\.\\d+, linux-${target.arch}\\)\\n$`));

    const check = exec(cmd, ["config", "check"], dir, env);
    assert.equal(await within(60_000, "config check", check.exited), 0, check.stderr());
    assert.match(check.stdout(), /config ok: built-in defaults/);

    const doctor = exec(cmd, ["doctor", "--data-dir", join(dir, "var")], dir, env);
    const doctorCode = await within(60_000, "doctor", doctor.exited);
    assert.ok(doctorCode === 0 || doctorCode === 1, `doctor exit ${doctorCode}: ${doctor.stderr()}`);
    assert.match(doctor.stdout(), /^ok +data-dir .*SQLite WAL write and read back ok/m, doctor.stdout());
    assert.match(doctor.stdout(), /^ok +glibc +glibc 2\.\d+/m, doctor.stdout());
    assert.match(doctor.stdout(), /^doctor: \d+ ok, \d+ warn, \d+ fail$/m);

    const port = await freePort();
    const hub = exec(cmd, ["run", "--role", "hub", "--api-port", String(port), "--data-dir", join(dir, "var"), "--node-id", "smoke"], dir, env);
    t.after(async () => {
      if (hub.child.exitCode === null && hub.child.signalCode === null) {
        hub.child.kill("SIGKILL");
        await hub.exited;
      }
    });
    const ready = await waitFor(
      `the ${target.arch} hub to be ready`,
      async () => {
        if (hub.child.exitCode !== null) throw new Error(`exited ${hub.child.exitCode}: ${hub.stderr()}`);
        const res = await fetch(`http://127.0.0.1:${port}/health/ready`);
        return res.ok ? ((await res.json()) as { adaos: { role: string; boot_count: number } }) : undefined;
      },
      60_000,
      100,
    );
    assert.equal(ready.adaos.role, "hub");
    assert.equal(ready.adaos.boot_count, 1, "the hub wrote its SQLite state database");
    assert.ok(existsSync(join(dir, "var", "agent.db")));
    hub.child.kill("SIGTERM");
    assert.equal(await within(15_000, "stop after SIGTERM", hub.exited), 0, hub.stderr());
  });
}
