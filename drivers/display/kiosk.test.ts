/**
 * The kiosk display: its handlers served by a node:http server on port 0, films from the media
 * member's handler (agent/media/media-http.ts, the demo's real source) on another port, so the
 * page plays cross-origin as on a real TV. First over plain HTTP (the page, the SSE stream, acks
 * by hand, every rejection), then with a real headless Chromium (playwright-core driving
 * /usr/bin/chromium): the film plays, a second replaces it, a reload and a dropped stream show the
 * current one again, an unplayable URL rejects play() through the page's error ack.
 * Figures (play() to the "playing" ack) go to the test's diagnostics.
 */
import { strict as assert } from "node:assert";
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { test, type TestContext } from "node:test";
import { fileURLToPath } from "node:url";
import { chromium, type Page } from "playwright-core";
import { loadCatalog } from "../../agent/media/catalog.js";
import { mediaHttp } from "../../agent/media/media-http.js";
import { driverContract, memoryLogger } from "../contract.js";
import { KIOSK_CSP, KIOSK_PAGE } from "./kiosk-page.js";
import { KioskDisplay, type KioskOptions } from "./kiosk.js";

/** The few DOM names the page functions below use (the project's tsconfig has no DOM lib); they run in Chromium. */
interface VideoElement {
  readonly src: string;
  readonly currentTime: number;
}
declare const document: { getElementById(id: string): ({ textContent: string | null } & Partial<VideoElement>) | null };

const MEDIA = fileURLToPath(new URL("../../../examples/media/", import.meta.url));
const CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
  "--disable-component-update", "--disable-sync", "--autoplay-policy=no-user-gesture-required"];

async function listen(t: TestContext, handle: (req: IncomingMessage, res: ServerResponse) => void): Promise<string> {
  const server: Server = createServer(handle);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  t.after(() => {
    server.closeAllConnections();
    return new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

function notFound(res: ServerResponse): void {
  res.writeHead(404, { "content-type": "text/plain" });
  res.end("not found");
}

/** A started kiosk display on its own server, and the media member's server beside it. */
async function setup(t: TestContext, options: KioskOptions = {}): Promise<{ display: KioskDisplay; tv: string; media: string }> {
  const display = new KioskDisplay(options, { logger: memoryLogger() });
  t.after(() => display.stop());
  await display.start();
  const tv = await listen(t, (req, res) => {
    if (!display.handle(req, res, new URL(req.url ?? "/", "http://x").pathname)) notFound(res);
  });
  const files = mediaHttp(await loadCatalog(join(MEDIA, "catalog.yaml")));
  const media = await listen(t, (req, res) => {
    if (!files.handle(req, res, new URL(req.url ?? "/", "http://x").pathname)) notFound(res);
  });
  return { display, tv, media };
}

interface SseEvent {
  readonly event?: string;
  readonly data?: string;
  readonly comment?: string;
}

/** A minimal SSE reader: every block as it arrives. */
async function openEvents(t: TestContext, url: string): Promise<{ events: SseEvent[]; close(): void; next(pred: (e: SseEvent) => boolean): Promise<SseEvent> }> {
  const events: SseEvent[] = [];
  const waiters: (() => void)[] = [];
  const res = await new Promise<IncomingMessage>((resolve, reject) => {
    const req = request(url, { agent: false }, resolve);
    req.on("error", reject);
    req.end();
  });
  assert.equal(res.statusCode, 200);
  assert.match(String(res.headers["content-type"]), /^text\/event-stream/);
  let buffer = "";
  res.setEncoding("utf8");
  res.on("data", (text: string) => {
    buffer += text;
    let cut: number;
    while ((cut = buffer.indexOf("\n\n")) >= 0) {
      const block = buffer.slice(0, cut);
      buffer = buffer.slice(cut + 2);
      const e: Record<string, string> = {};
      for (const line of block.split("\n")) {
        if (line.startsWith(":")) e.comment = line.slice(1).trim();
        else if (line.startsWith("event: ")) e.event = line.slice(7);
        else if (line.startsWith("data: ")) e.data = line.slice(6);
      }
      events.push(e);
      for (const w of waiters.splice(0)) w();
    }
  });
  res.on("error", () => undefined);
  const close = (): void => {
    res.destroy();
  };
  t.after(close);
  const next = async (pred: (e: SseEvent) => boolean): Promise<SseEvent> => {
    const deadline = Date.now() + 5000;
    for (let seen = 0; ; ) {
      const hit = events.slice(seen).find(pred);
      if (hit !== undefined) return hit;
      seen = events.length;
      if (Date.now() > deadline) assert.fail(`no such event in ${JSON.stringify(events)}`);
      await new Promise<void>((r) => {
        waiters.push(r);
        setTimeout(r, 100);
      });
    }
  };
  return { events, close, next };
}

async function post(url: string, body: string, contentType = "application/json"): Promise<{ status: number; json: unknown }> {
  const res = await fetch(url, { method: "POST", headers: { "content-type": contentType }, body });
  const text = await res.text();
  return { status: res.status, json: text.length > 0 ? (JSON.parse(text) as unknown) : undefined };
}

async function until(what: string, ok: () => boolean, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const film = (media: string, id: string, title: string, play_id: string) => ({ url: `${media}/media/${id}`, title, poster: `${media}/media/${id}/poster`, play_id });

driverContract("display (kiosk)", () => new KioskDisplay({}, { logger: memoryLogger() }));

test("kiosk: the page is served with its CSP, read-only, and nothing else is claimed", async (t) => {
  const { tv } = await setup(t);
  const page = await fetch(`${tv}/display`);
  assert.equal(page.status, 200);
  assert.equal(page.headers.get("content-type"), "text/html; charset=utf-8");
  assert.equal(page.headers.get("content-security-policy"), KIOSK_CSP);
  const html = await page.text();
  assert.equal(html, KIOSK_PAGE);
  assert.match(html, /<video id="video" autoplay muted playsinline><\/video>/);
  assert.match(html, /id="title"/);
  assert.doesNotMatch(html, /(src|href)="http/, "no external assets");
  assert.equal((await fetch(`${tv}/display`, { method: "HEAD" })).status, 200);
  const put = await fetch(`${tv}/display`, { method: "PUT" });
  assert.equal(put.status, 405);
  assert.equal(put.headers.get("allow"), "GET, HEAD");
  assert.equal((await fetch(`${tv}/display/events`, { method: "POST" })).status, 405);
  assert.equal((await fetch(`${tv}/display/ack`)).status, 405);
  assert.equal((await fetch(`${tv}/display/other`)).status, 404, "not handled: the agent answers");
});

test("kiosk: play() pushes to every page, resolves on the first playing ack, a reconnect gets the current item", async (t) => {
  const { display, tv, media } = await setup(t, { keepAliveMs: 50 });
  assert.equal(display.ready(), false, "started, but no page to show on");
  const a = await openEvents(t, `${tv}/display/events`);
  const b = await openEvents(t, `${tv}/display/events`);
  await until("two pages", () => display.pages === 2);
  assert.equal(display.ready(), true);
  const item = film(media, "inception", "Inception", "p1");
  const playing = display.play(item);
  for (const page of [a, b]) {
    const e = await page.next((x) => x.event === "play");
    assert.deepEqual(JSON.parse(e.data ?? ""), item);
  }
  await a.next((x) => x.comment === "keep-alive");
  assert.equal((await post(`${tv}/display/ack`, JSON.stringify({ play_id: "p1", state: "showing" }))).status, 204);
  assert.equal(display.showingMs !== undefined, true);
  assert.equal((await post(`${tv}/display/ack`, JSON.stringify({ play_id: "other", state: "playing" }))).status, 204, "another play_id is ignored");
  assert.equal((await post(`${tv}/display/ack`, JSON.stringify({ play_id: "p1", state: "playing" }))).status, 204);
  const ack = await playing;
  assert.match(ack.shown_by, /^kiosk page at .*127\.0\.0\.1/);
  assert.ok(ack.ack_ms >= 0 && ack.ack_ms < 5000);
  const late = await openEvents(t, `${tv}/display/events`);
  assert.deepEqual(JSON.parse((await late.next((x) => x.event === "play")).data ?? ""), item, "a new page gets the current item");
  a.close();
  b.close();
  late.close();
  await until("pages gone", () => display.pages === 0);
  assert.equal(display.ready(), false);
});

test("kiosk: rejections — no page, no ack in time, an error ack, replaced, aborted, stopped", async (t) => {
  const { display, tv, media } = await setup(t, { ackTimeoutMs: 300, pageUrl: "http://tv.local:8080/display" });
  const item = film(media, "inception", "Inception", "p1");
  await assert.rejects(display.play(item), /^Error: no display page is open at http:\/\/tv\.local:8080\/display; open it in the TV's browser$/);
  const page = await openEvents(t, `${tv}/display/events`);
  await until("a page", () => display.pages === 1);
  await assert.rejects(display.play(item), /no "playing" ack from the display page within 300 ms for "Inception" \(1 page\(s\) at http:\/\/tv\.local:8080\/display got it, none showed it\)/);

  const failing = assert.rejects(display.play({ ...item, play_id: "p2" }),
    /the display page at .* could not play http:\/\/127\.0\.0\.1:\d+\/media\/inception: media error 4: format not supported/);
  await page.next((x) => x.event === "play" && x.data?.includes('"p2"') === true);
  await post(`${tv}/display/ack`, JSON.stringify({ play_id: "p2", state: "error", detail: "media error 4: format not supported" }));
  await failing;

  const replaced = assert.rejects(display.play({ ...item, play_id: "p3" }), /replaced by a newer film \(play_id p4\)/);
  const newer = assert.rejects(display.play({ ...item, play_id: "p4" }), /replaced by a newer film \(play_id p5\)/);
  const ac = new AbortController();
  const aborted = assert.rejects(display.play({ ...item, play_id: "p5" }, ac.signal), /step cancelled/);
  await replaced;
  await newer;
  ac.abort(new Error("step cancelled"));
  await aborted;
  const stopped = assert.rejects(display.play({ ...item, play_id: "p6" }), /the display driver stopped/);
  await display.stop();
  await stopped;
  await assert.rejects(display.play(item), /not started/);
  const gone = await fetch(`${tv}/display/events`);
  assert.equal(gone.status, 503, "a stopped driver refuses new streams");
  await assert.rejects(display.play({ ...item, url: "javascript:alert(1)" }), /url must be http\(s\)/);
});

test("kiosk: a malformed ack is 400, a large one 413", async (t) => {
  const { tv } = await setup(t);
  const bad: [string, string?][] = [
    ["not json"],
    ["[1]"],
    ['"playing"'],
    ["{}"],
    [JSON.stringify({ play_id: "p1" })],
    [JSON.stringify({ play_id: "p1", state: "paused" })],
    [JSON.stringify({ play_id: "", state: "playing" })],
    [JSON.stringify({ play_id: 7, state: "playing" })],
    [JSON.stringify({ play_id: "p1", state: "error", detail: 5 })],
    [JSON.stringify({ play_id: "p1", state: "playing", url: "http://evil" })],
    [JSON.stringify({ play_id: "p1", state: "playing" }), "text/plain"],
  ];
  for (const [body, type] of bad) {
    const r = await post(`${tv}/display/ack`, body, type);
    assert.equal(r.status, 400, body);
    assert.equal((r.json as { error: { code: string } }).error.code, "E_BAD_REQUEST");
  }
  const big = await post(`${tv}/display/ack`, JSON.stringify({ play_id: "p1", state: "error", detail: "x".repeat(2000) }));
  assert.equal(big.status, 413);
});

test("kiosk in headless Chromium: plays, replaces, survives a reload and a dropped stream, reports an unplayable film", async (t) => {
  const { display, tv, media } = await setup(t, { ackTimeoutMs: 8000 });
  const browser = await chromium.launch({ executablePath: "/usr/bin/chromium", args: CHROMIUM_ARGS });
  t.after(() => browser.close());
  const page: Page = await browser.newPage();
  const problems: string[] = [];
  page.on("pageerror", (err) => problems.push(`pageerror: ${err.message}`));
  page.on("console", (msg) => {
    if (msg.type() === "error" && !msg.text().includes("404")) problems.push(`console: ${msg.text()}`);
  });
  await page.goto(`${tv}/display`);
  await until("the page's event stream", () => display.pages === 1);

  const figures: number[] = [];
  const showing: number[] = [];
  const playAndCheck = async (id: string, title: string, playId: string): Promise<void> => {
    const item = film(media, id, title, playId);
    const ack = await display.play(item);
    figures.push(ack.ack_ms);
    if (display.showingMs !== undefined) showing.push(display.showingMs);
    assert.match(ack.shown_by, /^kiosk page at/);
    assert.equal(await page.textContent("#title"), title);
    assert.equal(await page.getAttribute("#video", "poster"), item.poster);
    await page.waitForFunction((url) => {
      const v = document.getElementById("video") as VideoElement;
      return v.src === url && v.currentTime > 0.5;
    }, item.url, { timeout: 10_000 });
  };

  await t.test("play() of a film puts its title up and plays it", () => playAndCheck("inception", "Inception", "run-1/display/1"));
  await t.test("a second play() replaces it", () => playAndCheck("interstellar", "Interstellar", "run-2/display/1"));

  await t.test("a reloaded page shows the current film again", async () => {
    await page.reload();
    await page.waitForFunction(() => {
      const v = document.getElementById("video") as VideoElement;
      return document.getElementById("title")?.textContent === "Interstellar" && v.src.endsWith("/media/interstellar") && v.currentTime > 0.5;
    }, undefined, { timeout: 10_000 });
    await until("one page after the reload", () => display.pages === 1);
  });

  await t.test("a dropped stream reconnects by itself and leaves the current film playing", async () => {
    await playAndCheck("inception", "Inception", "run-3/display/1");
    const before = await page.evaluate(() => (document.getElementById("video") as VideoElement).currentTime);
    await display.stop();
    await until("the page left", () => display.pages === 0);
    await display.start();
    await until("the page reconnected", () => display.pages === 1, 15_000);
    await new Promise((r) => setTimeout(r, 300));
    const after = await page.evaluate(() => (document.getElementById("video") as VideoElement).currentTime);
    assert.ok(after >= before, `the film was not restarted (${before} s then ${after} s)`);
  });

  await t.test("more plays, for the figures", async () => {
    for (let i = 0; i < 6; i++) await playAndCheck(i % 2 === 0 ? "interstellar" : "inception", i % 2 === 0 ? "Interstellar" : "Inception", `run-f${i}/display/1`);
  });

  await t.test("an unplayable URL rejects play() through the page's error ack", async () => {
    const started = Date.now();
    await assert.rejects(display.play({ url: `${media}/media/no-such-film`, title: "Nothing", play_id: "run-9/display/1" }),
      /the display page at .* could not play http:\/\/127\.0\.0\.1:\d+\/media\/no-such-film: media error 4/);
    t.diagnostic(`error ack after ${Date.now() - started} ms`);
    await assert.rejects(display.play({ url: `${media}/media/inception/poster`, title: "A picture", play_id: "run-10/display/1" }), /media error/);
  });

  await t.test("no page open: a clear rejection", async () => {
    await page.close();
    await until("no page", () => display.pages === 0);
    await assert.rejects(display.play(film(media, "inception", "Inception", "run-11/display/1")), /no display page is open at \/display/);
  });

  assert.deepEqual(problems, []);
  const sorted = [...figures].sort((x, y) => x - y);
  t.diagnostic(`play() → "playing" ack in Chromium, ms: ${figures.join(", ")} (median ${sorted[Math.floor(sorted.length / 2)]}, max ${sorted.at(-1)})`);
  t.diagnostic(`play() → "showing" ack, ms: ${showing.join(", ")}`);
});
