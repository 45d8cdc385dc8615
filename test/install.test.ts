/**
 * Installing adaos-edge as a systemd service, always inside throw-away roots (never the real
 * /etc/passwd, /usr/bin, dpkg database or systemd):
 * - the unit passes `systemd-analyze verify` with no warning and keeps its hardening;
 * - systemd/install.sh lays out a hub and a member (files, modes, owners, user, starter config
 *   that the real binary accepts), is idempotent, keeps an edited config, and the installed
 *   service starts as its user with the unit's own command line and environment;
 * - `--uninstall` keeps config and state, `--uninstall --purge` removes them;
 * - buildscripts/build-deb.sh makes a .deb per architecture that dpkg installs, reinstalls,
 *   removes and purges in a temp root (`dpkg --root --force-script-chrootless`).
 * Runs as root (useradd --prefix, chown); the binaries come from `npm run package`.
 */
import { strict as assert } from "node:assert";
import { spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { chmodSync, chownSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { test } from "node:test";
import { GiveUp, freePort, waitFor, within } from "./helpers.js";

const REPO = fileURLToPath(new URL("../../", import.meta.url));
const INSTALL_SH = join(REPO, "systemd", "install.sh");
const BUILD_DEB = join(REPO, "buildscripts", "build-deb.sh");
const UNIT_SRC = join(REPO, "systemd", "adaos-edge.service");
const ENV_EXAMPLE = join(REPO, "systemd", "adaos-edge.env.example");
const ARM64_SYSROOT = "/usr/aarch64-linux-gnu";
const VERSION = (JSON.parse(readFileSync(join(REPO, "package.json"), "utf8")) as { version: string }).version;
const DEB_TIMEOUT_MS = 300_000;

interface After {
  after(fn: () => void | Promise<void>): void;
}

// --- small helpers -------------------------------------------------------------------------

function binaryPath(arch: "x64" | "arm64"): string {
  const bin = join(REPO, "dist", `adaos-edge-linux-${arch}`);
  assert.ok(existsSync(bin), `${bin} is missing: build it with \`npm run package\``);
  return bin;
}

function tempRoot(t: After, prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  // Traversable like a real / (the service user must reach its files below it).
  chmodSync(dir, 0o755);
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A tree with its own user database (as on a Pi image), so useradd --prefix has files to edit. */
function seedUsers(root: string): void {
  mkdirSync(join(root, "etc"), { recursive: true });
  writeFileSync(join(root, "etc/passwd"), "root:x:0:0:root:/root:/bin/bash\n");
  writeFileSync(join(root, "etc/group"), "root:x:0:\naudio:x:29:\nvideo:x:44:\n");
  writeFileSync(join(root, "etc/shadow"), "root:*:19000:0:99999:7:::\n", { mode: 0o640 });
  writeFileSync(join(root, "etc/gshadow"), "root:*::\naudio:*::\nvideo:*::\n", { mode: 0o640 });
}

interface Result {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Run a command synchronously with no ADAOS_EDGE_* from the caller's environment. */
function run(cmd: string, args: readonly string[], opts: { env?: Record<string, string>; timeoutMs?: number; cwd?: string } = {}): Result {
  const env: Record<string, string | undefined> = { ...process.env };
  for (const k of Object.keys(env)) if (k.startsWith("ADAOS_EDGE_")) delete env[k];
  const r = spawnSync(cmd, args, {
    env: { ...env, ...opts.env },
    cwd: opts.cwd ?? REPO,
    encoding: "utf8",
    maxBuffer: 64 * 1024 * 1024,
    timeout: opts.timeoutMs ?? 120_000,
  });
  if (r.error) throw r.error;
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function ok(r: Result, what: string): Result {
  assert.equal(r.status, 0, `${what} failed (exit ${r.status}):\n${r.stdout}\n${r.stderr}`);
  return r;
}

function requireTool(tool: string, pkg: string): void {
  const r = spawnSync("sh", ["-c", `command -v ${tool}`], { encoding: "utf8" });
  assert.equal(r.status, 0, `${tool} is not installed: apt-get install -y ${pkg}`);
}

function requireRoot(): void {
  assert.equal(process.getuid?.(), 0, "the install tests run as root (useradd --prefix and chown in a temp root): run the suite as root");
}

const mode = (p: string): number => lstatSync(p).mode & 0o7777;
const owner = (p: string): string => `${lstatSync(p).uid}:${lstatSync(p).gid}`;

/** uid and gid of a user in a tree's own /etc/passwd. */
function userIn(root: string, name: string): { uid: number; gid: number; home: string; shell: string } | undefined {
  const line = readFileSync(join(root, "etc/passwd"), "utf8").split("\n").find((l) => l.startsWith(`${name}:`));
  if (line === undefined) return undefined;
  const f = line.split(":");
  return { uid: Number(f[2]), gid: Number(f[3]), home: f[5] ?? "", shell: f[6] ?? "" };
}

function groupMembers(root: string, group: string): string[] | undefined {
  const line = readFileSync(join(root, "etc/group"), "utf8").split("\n").find((l) => l.startsWith(`${group}:`));
  return line === undefined ? undefined : (line.split(":")[3] ?? "").split(",").filter((s) => s !== "");
}

/** Every path below root with its metadata and content hash: equal snapshots = nothing changed. */
function snapshot(root: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir).sort()) {
      const p = join(dir, name);
      const st = lstatSync(p);
      let content = "";
      if (st.isFile()) content = createHash("sha256").update(readFileSync(p)).digest("hex");
      else if (st.isSymbolicLink()) content = readlinkSync(p);
      out.set(p.slice(root.length), `${(st.mode & 0o7777).toString(8)} ${st.uid}:${st.gid} ${st.size} ${st.mtimeMs} ${content}`);
      if (st.isDirectory()) walk(p);
    }
  };
  walk(root);
  return out;
}

/**
 * What these tests could change on the host if a path leaked out of a temp root: adaos-edge
 * lines in the user and package databases, and our paths. (Not whole-file hashes: other
 * suites install Debian packages, which add users, while this one runs.)
 */
const HOST_DATABASES = ["/etc/passwd", "/etc/group", "/etc/shadow", "/etc/gshadow", "/var/lib/dpkg/status"];
const HOST_PATHS = ["/usr/bin/adaos-edge", "/lib/systemd/system/adaos-edge.service", "/etc/systemd/system/multi-user.target.wants/adaos-edge.service", "/etc/adaos-edge", "/var/lib/adaos-edge", "/var/cache/adaos-edge"];
function hostState(): string {
  const lines = HOST_DATABASES.flatMap((f) => (existsSync(f) ? readFileSync(f, "utf8").split("\n").filter((l) => l.includes("adaos-edge")).map((l) => `${f}: ${l}`) : []));
  const paths = HOST_PATHS.map((p) => (existsSync(p) ? `${p} ${lstatSync(p).mtimeMs}` : `${p} absent`));
  return [...lines, ...paths].join("\n");
}
const HOST_BEFORE = hostState();

/** Directives of the unit's [Service] (and [Unit]) sections: key → values in order. */
function unitDirectives(text: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#") || line.startsWith("[")) continue;
    const eq = line.indexOf("=");
    const key = line.slice(0, eq);
    out.set(key, [...(out.get(key) ?? []), line.slice(eq + 1)]);
  }
  return out;
}

function installSh(args: readonly string[]): Result {
  return run("bash", [INSTALL_SH, ...args]);
}

// --- the unit ------------------------------------------------------------------------------

test("the unit passes `systemd-analyze verify` with no warning and keeps its hardening", (t) => {
  requireTool("systemd-analyze", "systemd");
  const text = readFileSync(UNIT_SRC, "utf8");
  const d = unitDirectives(text);
  const one = (k: string): string | undefined => d.get(k)?.[0];
  assert.equal(one("Type"), "exec");
  assert.equal(one("ExecStart"), "/usr/bin/adaos-edge run --config /etc/adaos-edge/agent.yaml");
  assert.equal(one("User"), "adaos-edge");
  assert.equal(one("Group"), "adaos-edge");
  assert.equal(d.has("DynamicUser"), false, "a fixed user keeps /var/lib/adaos-edge's owner stable");
  assert.equal(one("Restart"), "on-failure");
  for (const k of ["StateDirectory", "CacheDirectory", "ConfigurationDirectory"]) assert.equal(one(k), "adaos-edge", k);
  assert.deepEqual(d.get("Environment"), ["ADAOS_EDGE_DATA_DIR=%S/adaos-edge", "PKG_NATIVE_CACHE_PATH=%C/adaos-edge"]);
  assert.equal(one("EnvironmentFile"), "-/etc/adaos-edge/adaos-edge.env");
  assert.equal(one("CapabilityBoundingSet"), "");
  for (const k of ["NoNewPrivileges", "ProtectHome", "PrivateTmp", "ProtectKernelTunables", "ProtectKernelModules", "ProtectKernelLogs", "ProtectControlGroups", "RestrictNamespaces", "RestrictSUIDSGID", "LockPersonality", "RestrictRealtime"]) {
    assert.equal(one(k), "yes", k);
  }
  assert.equal(one("ProtectSystem"), "strict");
  assert.equal(one("RestrictAddressFamilies"), "AF_UNIX AF_INET AF_INET6 AF_NETLINK");
  assert.equal(one("DevicePolicy"), "closed");
  assert.deepEqual(d.get("DeviceAllow"), ["char-alsa rw", "char-drm rw"]);
  assert.equal(d.has("MemoryDenyWriteExecute"), false, "V8's JIT needs W+X memory");
  const stopSec = Number.parseFloat(one("TimeoutStopSec") ?? "0");
  assert.ok(stopSec > 5 && stopSec <= 15, `TimeoutStopSec ${stopSec} s should be a little above the agent's 5 s`);

  // The real ExecStart binary is not installed here: verify a copy that starts an existing file.
  const dir = tempRoot(t, "adaos-unit-");
  const copy = join(dir, "adaos-edge.service");
  writeFileSync(copy, text.replace(/^ExecStart=\/usr\/bin\/adaos-edge /m, `ExecStart=${process.execPath} `));
  const r = run("systemd-analyze", ["verify", "--man=no", copy]);
  const ours = `${r.stdout}${r.stderr}`.split("\n").filter((l) => l.includes("adaos-edge"));
  assert.equal(r.status, 0, `systemd-analyze verify failed:\n${r.stderr}`);
  assert.deepEqual(ours, [], `systemd-analyze verify warned about the unit:\n${r.stderr}`);

  // The check above would see a bad directive (so "no warning" means something).
  const bad = join(dir, "bad", "adaos-edge.service");
  mkdirSync(join(dir, "bad"));
  writeFileSync(bad, readFileSync(copy, "utf8").replace("[Service]\n", "[Service]\nMemoryDenyWriteExecutable=yes\n"));
  assert.match(run("systemd-analyze", ["verify", "--man=no", bad]).stderr, /Unknown key.*MemoryDenyWriteExecutable/);

  const sec = run("systemd-analyze", ["security", "--offline=yes", "--no-pager", copy]);
  const level = /Overall exposure level for adaos-edge\.service: ([\d.]+)/.exec(sec.stdout);
  assert.ok(level?.[1] !== undefined, `no exposure level in:\n${sec.stdout}\n${sec.stderr}`);
  t.diagnostic(`systemd-analyze security exposure: ${level[1]} (0 safest, 10 unprotected)`);
  assert.ok(Number(level[1]) <= 2.5, `exposure ${level[1]} regressed (was 1.8)`);
});

test("the scripts pass bash -n and shellcheck; every variable of the env example is a config key", (t) => {
  requireTool("shellcheck", "shellcheck");
  for (const script of [INSTALL_SH, BUILD_DEB]) {
    ok(run("bash", ["-n", script]), `bash -n ${script}`);
    ok(run("shellcheck", [script]), `shellcheck ${script}`);
  }
  // Uncommented, the example's variables are accepted by `config check` without a warning.
  const env: Record<string, string> = {};
  for (const m of readFileSync(ENV_EXAMPLE, "utf8").matchAll(/^#(ADAOS_EDGE_[A-Z_]+)=(.*)$/gm)) env[m[1] ?? ""] = m[2] ?? "";
  assert.ok(Object.keys(env).length >= 5, "the example shows the usual variables");
  for (const k of ["ADAOS_EDGE_TOKEN", "ADAOS_EDGE_LOG_LEVEL", "ADAOS_EDGE_NODE_ID"]) assert.ok(k in env, `${k} in the example`);
  const dir = tempRoot(t, "adaos-envex-");
  const conf = join(dir, "agent.yaml");
  writeFileSync(conf, ok(installSh(["--print-config", "--role", "hub"]), "--print-config").stdout);
  const r = ok(run(binaryPath("x64"), ["config", "check", "--config", conf], { env: { ...env, PKG_NATIVE_CACHE_PATH: join(dir, "cache") } }), "config check with the example's variables");
  assert.doesNotMatch(r.stderr, /warning/i, r.stderr);
});

// --- install.sh ----------------------------------------------------------------------------

/** Start the installed binary as systemd would: the unit's ExecStart, Environment, user, cwd. */
async function startAsService(t: After, root: string, role: "hub" | "member"): Promise<void> {
  const d = unitDirectives(readFileSync(join(root, "lib/systemd/system/adaos-edge.service"), "utf8"));
  const user = userIn(root, d.get("User")?.[0] ?? "");
  assert.ok(user !== undefined, "the unit's User= exists in the installed tree");
  const spec = (s: string): string => s.replaceAll("%S", join(root, "var/lib")).replaceAll("%C", join(root, "var/cache"));
  // systemd creates the CacheDirectory (0750, owned by User=) before ExecStart.
  mkdirSync(join(root, "var/cache"), { recursive: true, mode: 0o755 });
  const cache = join(root, "var/cache/adaos-edge");
  mkdirSync(cache, { mode: 0o750 });
  chownSync(cache, user.uid, user.gid);
  const env: Record<string, string> = { PATH: "/usr/bin:/bin", HOME: join(root, user.home), LANG: "C.UTF-8" };
  for (const kv of d.get("Environment") ?? []) {
    const eq = kv.indexOf("=");
    env[kv.slice(0, eq)] = spec(kv.slice(eq + 1));
  }
  // As if from /etc/adaos-edge/adaos-edge.env: a free port, and the token shared by the subnet.
  const port = await freePort();
  Object.assign(env, { ADAOS_EDGE_API_PORT: String(port), ADAOS_EDGE_API_HOST: "127.0.0.1", ADAOS_EDGE_TOKEN: "install-test-token-0123456789" });
  const [exe, ...args] = (d.get("ExecStart")?.[0] ?? "").split(" ").map((a) => (a.startsWith("/") ? join(root, a) : a));
  assert.ok(exe !== undefined);
  const child = spawn(exe, args, { cwd: spec(d.get("WorkingDirectory")?.[0] ?? "/"), env, uid: user.uid, gid: user.gid, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  child.stdout.setEncoding("utf8").on("data", (s: string) => (out += s));
  child.stderr.setEncoding("utf8").on("data", (s: string) => (out += s));
  const exited = new Promise<number | string>((resolve) => child.once("exit", (code, signal) => resolve(code ?? signal ?? -1)));
  t.after(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill("SIGKILL");
      await exited;
    }
  });
  const ready = await waitFor(
    `the installed ${role} to answer /health/ready`,
    async () => {
      if (child.exitCode !== null) throw new GiveUp(`exited ${child.exitCode}:\n${out}`);
      const res = await fetch(`http://127.0.0.1:${port}/health/ready`);
      return res.ok ? ((await res.json()) as { adaos: { role: string } }) : undefined;
    },
    30_000,
    100,
  );
  assert.equal(ready.adaos.role, role);
  const stateDb = join(root, "var/lib/adaos-edge/agent.db");
  assert.ok(existsSync(stateDb), `the service wrote its state into the StateDirectory:\n${out}`);
  assert.equal(owner(stateDb), `${user.uid}:${user.gid}`);
  child.kill("SIGTERM");
  const stopMs = Number.parseFloat(d.get("TimeoutStopSec")?.[0] ?? "8") * 1000;
  assert.equal(await within(stopMs, "a clean stop within TimeoutStopSec", exited), 0, out);
}

for (const role of ["hub", "member"] as const) {
  test(`install.sh installs a ${role} into a temp root: files, modes, user, config; idempotent; the service runs; uninstall and purge`, async (t) => {
    requireRoot();
    const binary = binaryPath("x64");
    const root = tempRoot(t, `adaos-install-${role}-`);
    seedUsers(root);
    const extra = role === "member" ? ["--role", "member", "--hub", "hub.local", "--node-id", "living-room-tv"] : [];
    const first = ok(installSh(["--binary", binary, "--root", root, ...extra]), "install.sh");
    assert.match(first.stdout, /user adaos-edge: created/);
    assert.match(first.stdout, /systemd was not touched/);

    // Files, modes, owners.
    const user = userIn(root, "adaos-edge");
    assert.ok(user !== undefined, "user adaos-edge created in the tree's /etc/passwd");
    assert.equal(user.home, "/var/lib/adaos-edge");
    assert.equal(user.shell, "/usr/sbin/nologin");
    assert.ok(user.uid < 1000, `a system uid (${user.uid})`);
    assert.deepEqual(groupMembers(root, "audio"), ["adaos-edge"]);
    assert.deepEqual(groupMembers(root, "video"), ["adaos-edge"]);
    const gid = user.gid;
    const bin = join(root, "usr/bin/adaos-edge");
    assert.equal(mode(bin), 0o755);
    assert.ok(readFileSync(bin).equals(readFileSync(binary)), "the binary is a byte copy");
    const unit = join(root, "lib/systemd/system/adaos-edge.service");
    assert.equal(mode(unit), 0o644);
    assert.equal(readFileSync(unit, "utf8"), readFileSync(UNIT_SRC, "utf8"));
    const conf = join(root, "etc/adaos-edge/agent.yaml");
    const envFile = join(root, "etc/adaos-edge/adaos-edge.env");
    assert.equal(mode(join(root, "etc/adaos-edge")), 0o755);
    for (const f of [conf, envFile]) {
      assert.equal(mode(f), 0o640, f);
      assert.equal(owner(f), `0:${gid}`, f);
    }
    assert.equal(readFileSync(envFile, "utf8"), readFileSync(ENV_EXAMPLE, "utf8"));
    const state = join(root, "var/lib/adaos-edge");
    assert.equal(mode(state), 0o750);
    assert.equal(owner(state), `${user.uid}:${gid}`);

    // The starter config: the role's, and the real binary accepts it.
    const yaml = readFileSync(conf, "utf8");
    assert.match(yaml, new RegExp(`^role: ${role}$`, "m"));
    const check = ok(run(binary, ["config", "check", "--config", conf], { env: { PKG_NATIVE_CACHE_PATH: join(root, "tmp-cache") } }), "config check");
    if (role === "member") {
      assert.match(yaml, /^# hub: nats:\/\/hub\.local:4222,mqtt:\/\/hub\.local:1883$/m, "the hub address as a commented hint");
      assert.match(check.stdout, /role member, node living-room-tv/);
    } else {
      assert.match(check.stdout, /role hub/);
    }
    rmSync(join(root, "tmp-cache"), { recursive: true, force: true });

    // A second run changes nothing at all.
    const before = snapshot(root);
    const second = ok(installSh(["--binary", binary, "--root", root, ...extra]), "install.sh again");
    assert.match(second.stdout, /binary \/usr\/bin\/adaos-edge: unchanged/);
    assert.match(second.stdout, /config \/etc\/adaos-edge\/agent\.yaml: kept/);
    assert.deepEqual(snapshot(root), before, "the second run changed the tree");

    // An edited config survives a re-run, even one asking for the other role.
    const edited = yaml.replace("level: info", "level: debug");
    writeFileSync(conf, edited);
    const other = role === "hub" ? "member" : "hub";
    const third = ok(installSh(["--binary", binary, "--root", root, "--role", other]), "install.sh with the other role");
    assert.match(third.stderr, /exists \(role \w+\) and is kept/);
    assert.equal(readFileSync(conf, "utf8"), edited);

    // The installed service runs as its user with the unit's command line and environment.
    await startAsService(t, root, role);

    // --uninstall keeps config and state; --purge removes them and the user.
    ok(installSh(["--uninstall", "--root", root]), "install.sh --uninstall");
    assert.equal(existsSync(bin), false);
    assert.equal(existsSync(unit), false);
    assert.equal(readFileSync(conf, "utf8"), edited);
    assert.ok(existsSync(join(state, "agent.db")), "state kept");
    assert.ok(userIn(root, "adaos-edge") !== undefined, "user kept");
    const purge = ok(installSh(["--uninstall", "--purge", "--root", root]), "install.sh --uninstall --purge");
    assert.match(purge.stdout, /removed user adaos-edge/);
    for (const p of ["etc/adaos-edge", "var/lib/adaos-edge", "var/cache/adaos-edge"]) assert.equal(existsSync(join(root, p)), false, p);
    assert.equal(userIn(root, "adaos-edge"), undefined);
    assert.equal(readFileSync(join(root, "etc/group"), "utf8"), "root:x:0:\naudio:x:29:\nvideo:x:44:\n");
  });
}

test("install.sh refuses bad input before writing anything, and installs without a user database", (t) => {
  requireRoot();
  const binary = binaryPath("x64");
  const root = tempRoot(t, "adaos-install-bad-");
  const cases: [string[], RegExp][] = [
    [["--root", root], /--binary PATH is required/],
    [["--binary", join(root, "nope"), "--root", root], /not found \(build it with: npm run package\)/],
    [["--binary", binary, "--root", root, "--role", "king"], /--role must be hub or member/],
    [["--binary", binary, "--root", root, "--node-id", "Living Room"], /not a valid id/],
    [["--binary", binary, "--root", root, "--role", "hub", "--hub", "h"], /--hub is for a member/],
    [["--binary", binary, "--root", join(root, "missing")], /is not a directory/],
    [["--uninstall", "--root", root, "--bogus"], /unknown argument: --bogus/],
  ];
  for (const [args, message] of cases) {
    const r = installSh(args);
    assert.notEqual(r.status, 0, `install.sh ${args.join(" ")} should fail`);
    assert.match(r.stderr, message);
  }
  assert.deepEqual(readdirSync(root), [], "nothing written");

  // No etc/passwd in the tree: no user, root-owned files, and it says so.
  const r = ok(installSh(["--binary", binary, "--root", root, "--no-enable"]), "install.sh without a user database");
  assert.match(r.stdout, /not creating user adaos-edge/);
  assert.equal(owner(join(root, "var/lib/adaos-edge")), "0:0");
  assert.equal(existsSync(join(root, "etc/passwd")), false);
});

// --- the .deb ------------------------------------------------------------------------------

for (const arch of ["x64", "arm64"] as const) {
  const debArch = arch === "x64" ? "amd64" : "arm64";
  test(`build-deb.sh ${arch} makes a .deb that dpkg installs, reinstalls, removes and purges in a temp root`, { timeout: DEB_TIMEOUT_MS }, (t) => {
    requireRoot();
    requireTool("dpkg-deb", "dpkg");
    requireTool("shellcheck", "shellcheck");
    if (arch === "arm64") requireTool("qemu-aarch64-static", "qemu-user-static libc6-arm64-cross");
    const binary = binaryPath(arch);
    const out = tempRoot(t, `adaos-deb-${arch}-`);
    const started = Date.now();
    // --fast: xz -1 instead of -6, the same format (the suite has 120 s per file).
    ok(run("bash", [BUILD_DEB, arch, "--out", out, "--fast"], { timeoutMs: DEB_TIMEOUT_MS - 30_000 }), `build-deb.sh ${arch}`);
    const deb = join(out, `adaos-edge_${VERSION.replaceAll("-", "~")}_${debArch}.deb`);
    assert.ok(existsSync(deb), `${deb} was built`);
    t.diagnostic(`${deb.slice(out.length + 1)}: ${(lstatSync(deb).size / 1e6).toFixed(1)} MB in ${((Date.now() - started) / 1000).toFixed(0)} s`);

    // Control fields and contents.
    const info = ok(run("dpkg-deb", ["--info", deb]), "dpkg-deb --info").stdout;
    for (const field of [
      "Package: adaos-edge",
      `Version: ${VERSION.replaceAll("-", "~")}`,
      `Architecture: ${debArch}`,
      "Maintainer: AdaOS",
      "Depends: libc6 (>= 2.34), libstdc++6 (>= 12), adduser",
      "Recommends: alsa-utils",
      "Suggests: nats-server",
    ]) {
      assert.ok(info.includes(` ${field}\n`), `control has "${field}":\n${info}`);
    }
    assert.match(info, / Description: \S/);
    const listing = ok(run("dpkg-deb", ["--contents", deb]), "dpkg-deb --contents").stdout;
    const files = new Map(
      listing
        .trim()
        .split("\n")
        .map((l) => l.split(/\s+/))
        .map((f) => [(f[5] ?? "").replace(/^\.\//, "/"), `${f[0]} ${f[1]}`]),
    );
    assert.equal(files.get("/usr/bin/adaos-edge"), "-rwxr-xr-x root/root");
    assert.equal(files.get("/lib/systemd/system/adaos-edge.service"), "-rw-r--r-- root/root");
    assert.equal(files.get("/etc/adaos-edge/agent.yaml"), "-rw-r----- root/root");
    assert.equal(files.get("/etc/adaos-edge/adaos-edge.env"), "-rw-r----- root/root");
    const control = join(out, "control");
    ok(run("dpkg-deb", ["--control", deb, control]), "dpkg-deb --control");
    assert.equal(readFileSync(join(control, "conffiles"), "utf8"), "/etc/adaos-edge/agent.yaml\n/etc/adaos-edge/adaos-edge.env\n");
    for (const s of ["postinst", "prerm", "postrm"]) {
      assert.equal(mode(join(control, s)), 0o755, s);
      ok(run("sh", ["-n", join(control, s)]), `sh -n ${s}`);
      ok(run("shellcheck", ["-s", "sh", join(control, s)]), `shellcheck ${s}`);
    }

    // dpkg into a throw-away root with its own admin dir and user database. The maintainer
    // scripts run on the host with DPKG_ROOT set (--force-script-chrootless); the package's
    // Depends are not in this empty database (--force-depends).
    const root = tempRoot(t, `adaos-dpkg-${arch}-`);
    seedUsers(root);
    for (const dir of ["var/lib/dpkg/updates", "var/lib/dpkg/info", "var/log"]) mkdirSync(join(root, dir), { recursive: true });
    writeFileSync(join(root, "var/lib/dpkg/status"), "");
    if (arch === "arm64") ok(run("dpkg", [`--root=${root}`, "--add-architecture", "arm64"]), "dpkg --add-architecture arm64");
    const dpkg = (...args: string[]): Result =>
      ok(run("dpkg", [`--root=${root}`, `--log=${join(root, "var/log/dpkg.log")}`, "--force-script-chrootless", "--force-depends", ...args]), `dpkg ${args.join(" ")}`);
    dpkg("-i", deb);
    const status = run("dpkg-query", [`--admindir=${join(root, "var/lib/dpkg")}`, "-W", "-f=${Status} ${Version}", "adaos-edge"]).stdout;
    assert.equal(status, `install ok installed ${VERSION.replaceAll("-", "~")}`);
    const bin = join(root, "usr/bin/adaos-edge");
    assert.ok(readFileSync(bin).equals(readFileSync(binary)), "the packaged binary is the built one");
    const version = run(arch === "x64" ? bin : "qemu-aarch64-static", arch === "x64" ? ["version"] : ["-L", ARM64_SYSROOT, bin, "version"], { env: { PKG_NATIVE_CACHE_PATH: join(out, "cache") } });
    ok(version, "adaos-edge version");
    assert.match(version.stdout, new RegExp(`^adaos-edge ${VERSION.replaceAll(".", "\\.")} \\(node 22\\.\\d+\\.\\d+, linux-${arch}\\)\\n$`));
    const conf = join(root, "etc/adaos-edge/agent.yaml");
    ok(run(binaryPath("x64"), ["config", "check", "--config", conf], { env: { PKG_NATIVE_CACHE_PATH: join(out, "cache") } }), "config check of the packaged agent.yaml");
    // postinst: user, state dir, conffile group, the unit enabled (deb-systemd-helper in DPKG_ROOT).
    const user = userIn(root, "adaos-edge");
    assert.ok(user !== undefined, "postinst created the user in the tree");
    assert.deepEqual(groupMembers(root, "audio"), ["adaos-edge"]);
    const state = join(root, "var/lib/adaos-edge");
    assert.equal(mode(state), 0o750);
    assert.equal(owner(state), `${user.uid}:${user.gid}`);
    for (const f of [conf, join(root, "etc/adaos-edge/adaos-edge.env")]) assert.equal(owner(f), `0:${user.gid}`, f);
    const wants = join(root, "etc/systemd/system/multi-user.target.wants/adaos-edge.service");
    assert.equal(readlinkSync(wants), "/lib/systemd/system/adaos-edge.service", "enabled for the next boot");

    // dpkg -i again keeps an edited conffile; -r keeps config and state; -P removes them.
    const edited = readFileSync(conf, "utf8").replace("level: info", "level: warn");
    writeFileSync(conf, edited);
    writeFileSync(join(state, "agent.db"), "state");
    dpkg("-i", deb);
    assert.equal(readFileSync(conf, "utf8"), edited, "the edited conffile survived a reinstall");
    dpkg("-r", "adaos-edge");
    assert.equal(existsSync(bin), false);
    assert.equal(existsSync(join(root, "lib/systemd/system/adaos-edge.service")), false);
    assert.equal(readFileSync(conf, "utf8"), edited, "remove keeps the config");
    assert.ok(existsSync(join(state, "agent.db")), "remove keeps the state");
    dpkg("-P", "adaos-edge");
    for (const p of ["etc/adaos-edge", "var/lib/adaos-edge", "etc/systemd/system/multi-user.target.wants/adaos-edge.service"]) {
      assert.equal(existsSync(join(root, p)), false, `purge removed ${p}`);
    }
    assert.equal(userIn(root, "adaos-edge"), undefined, "purge removed the user");
  });
}

test("the host system was not touched (passwd, dpkg database, /usr/bin, systemd units)", () => {
  assert.equal(hostState(), HOST_BEFORE);
});
