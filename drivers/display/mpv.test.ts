/**
 * The mpv display with a fake mpv (there is no screen here): a shell script that records its
 * argv and starts a `sleep` child of its own, so the tests also see that the whole process group
 * goes when a playback is replaced or stopped. Plus: a quitting mpv rejects with its exit code
 * and stderr, a missing program fails start(), abort kills the playback.
 */
import { strict as assert } from "node:assert";
import { existsSync, readFileSync } from "node:fs";
import { chmod, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test, type TestContext } from "node:test";
import { fileURLToPath } from "node:url";
import { driverContract, memoryLogger } from "../contract.js";
import { MpvDisplay } from "./mpv.js";

const FILM = { url: "http://127.0.0.1:9/media/inception", title: "Inception", play_id: "p1" };

interface FakeMpv {
  readonly command: string;
  readonly dir: string;
}

/** A fake mpv that writes argv to argv.<n> and the pid of its sleep child to sleep.<n>. */
async function fakeMpv(t: TestContext, body?: string): Promise<FakeMpv> {
  const dir = await mkdtemp(join(tmpdir(), "adaos-mpv-"));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const command = join(dir, "mpv");
  await writeFile(command, body ?? [
    "#!/bin/sh",
    `n=$(ls "${dir}" | grep -c '^argv\\.')`,
    `printf '%s\\n' "$@" > "${dir}/argv.$n.tmp" && mv "${dir}/argv.$n.tmp" "${dir}/argv.$n"`,
    "sleep 60 &",
    `echo $! > "${dir}/sleep.$n"`,
    "wait",
    "",
  ].join("\n"));
  await chmod(command, 0o755);
  return { command, dir };
}

/** The process runs (a zombie or a gone pid does not). */
function alive(pid: number): boolean {
  try {
    return !/\) Z /.test(readFileSync(`/proc/${pid}/stat`, "utf8"));
  } catch {
    return false;
  }
}

async function until(what: string, ok: () => boolean | Promise<boolean>, ms = 3000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await ok())) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

driverContract("display (mpv)", async (t) => {
  const { command } = await fakeMpv(t);
  return new MpvDisplay({ command, settleMs: 100 }, { logger: memoryLogger() });
});

test("mpv: play runs the command with the flags, the title and the URL; a second play replaces the first", async (t) => {
  const { command, dir } = await fakeMpv(t);
  const display = new MpvDisplay({ command, settleMs: 150 }, { logger: memoryLogger() });
  t.after(() => display.stop());
  await display.start();
  assert.deepEqual(display.capabilities, [{ id: "capability://display.play", inputs: ["webm", "mp4", "mkv", "hls"] }]);

  const first = await display.play(FILM);
  assert.match(first.shown_by, /mpv pid \d+$/);
  assert.ok(first.ack_ms >= 150 && first.ack_ms < 5000, `ack_ms ${first.ack_ms}`);
  await until("argv.0", () => existsSync(join(dir, "sleep.0")));
  const argv = (await readFile(join(dir, "argv.0"), "utf8")).trimEnd().split("\n");
  assert.deepEqual(argv, ["--fs", "--no-terminal", "--force-window=yes", "--force-media-title=Inception", "--", FILM.url]);
  const sleep0 = Number(await readFile(join(dir, "sleep.0"), "utf8"));
  assert.ok(alive(sleep0));

  await display.play({ url: "http://127.0.0.1:9/media/interstellar", title: "Interstellar", play_id: "p2" });
  // The group gets SIGTERM with mpv; its other members end a moment later.
  await until("the first playback's whole process group gone", () => !alive(sleep0), 2000);
  await until("sleep.1", () => existsSync(join(dir, "sleep.1")));
  const argv1 = (await readFile(join(dir, "argv.1"), "utf8")).trimEnd().split("\n");
  assert.equal(argv1.at(-1), "http://127.0.0.1:9/media/interstellar");
  const sleep1 = Number(await readFile(join(dir, "sleep.1"), "utf8"));

  await display.stop();
  await until("stop() to end the playback and its children", () => !alive(sleep1), 2000);
  assert.equal(display.health().state, "stopped");
});

test("mpv: a player that quits at once rejects with its exit code and last stderr lines", async (t) => {
  const { command } = await fakeMpv(t, "#!/bin/sh\necho 'Failed to open display' >&2\necho '[vo] no video output' >&2\nexit 2\n");
  const display = new MpvDisplay({ command, settleMs: 1000 }, { logger: memoryLogger() });
  t.after(() => display.stop());
  await display.start();
  await assert.rejects(display.play(FILM), (e: unknown) =>
    e instanceof Error && e.message.includes("quit at once playing http://127.0.0.1:9/media/inception (exit code 2)") &&
    e.message.includes("Failed to open display\n[vo] no video output"));
});

test("mpv: a missing program fails start() naming it; bad requests and play before start are refused", async (t) => {
  const missing = new MpvDisplay({ command: "adaos-no-such-mpv" }, { logger: memoryLogger() });
  await assert.rejects(missing.start(), /the display program adaos-no-such-mpv is not found on PATH; install it \(apt-get install mpv\) or set display\.command/);
  const { command } = await fakeMpv(t);
  const display = new MpvDisplay({ command, settleMs: 50 }, { logger: memoryLogger() });
  t.after(() => display.stop());
  await assert.rejects(display.play(FILM), /not started/);
  await display.start();
  await assert.rejects(display.play({ ...FILM, url: "file:///etc/passwd" }), /url must be http\(s\)/);
  await assert.rejects(display.play({ ...FILM, title: " " }), /title must be a non-empty string/);
});

test("mpv: abort while settling kills the playback and rejects with the reason", async (t) => {
  const { command, dir } = await fakeMpv(t);
  const display = new MpvDisplay({ command, settleMs: 2000 }, { logger: memoryLogger() });
  t.after(() => display.stop());
  await display.start();
  const ac = new AbortController();
  const playing = display.play(FILM, ac.signal);
  await until("sleep.0", () => existsSync(join(dir, "sleep.0")));
  const sleep0 = Number(await readFile(join(dir, "sleep.0"), "utf8"));
  ac.abort(new Error("the step was cancelled"));
  await assert.rejects(playing, /the step was cancelled/);
  await until("the aborted playback's group gone", () => !alive(sleep0), 2000);
});

test("mpv: the real player (no screen here: --vo=null --ao=null) fetches and plays the film over HTTP; a URL that answers 404 fails the play", async (t) => {
  const film = await readFile(fileURLToPath(new URL("../../../examples/media/inception.webm", import.meta.url)));
  const fetched: string[] = [];
  const server = createServer((req, res) => {
    fetched.push(req.url ?? "");
    if (req.url !== "/media/inception") return void res.writeHead(404).end();
    res.writeHead(200, { "content-type": "video/webm", "content-length": film.length }).end(film);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  t.after(() => { server.closeAllConnections(); server.close(); });
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const display = new MpvDisplay({ args: ["--no-terminal", "--vo=null", "--ao=null"] }, { logger: memoryLogger() });
  t.after(() => display.stop());
  await display.start();
  const ack = await display.play({ url: `${base}/media/inception`, title: "Inception", play_id: "real-1" });
  assert.match(ack.shown_by, /mpv pid \d+$/);
  assert.ok(fetched.includes("/media/inception"), `mpv fetched the film: ${fetched.join(", ")}`);
  await assert.rejects(display.play({ url: `${base}/media/nothing`, title: "Nothing", play_id: "real-2" }), /exit|quit|code/i);
  await display.stop();
  assert.equal(display.health().state, "stopped");
});
