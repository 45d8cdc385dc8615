/**
 * The headline flow end to end (issue 7 "Show"), real processes throughout: a hub whose
 * microphone is a fake `arecord` streaming espeak-ng speech at real-time pace, with the real VAD,
 * pocketsphinx (grammar generated from examples/voice/intents.yaml), the intent rules, the
 * resolver and plan runtime; a media member serving examples/media over HTTP; a TV member whose
 * kiosk page is open in a real headless Chromium. "show inception on the tv" → the page shows
 * "Inception" and its video plays from the media member → the hub says "Playing Inception on
 * Living-room TV". Also: speech without a push-to-talk starts nothing; the TV killed before
 * speaking → the film plays on the other screen (a member with real mpv); that one killed too →
 * the spoken degrade notice (captured by the fake audio sink); Russian and English text give the
 * same intent and slots; a reply said through POST /api/say, captured and recognised back.
 */
import { strict as assert } from "node:assert";
import { execFileSync } from "node:child_process";
import { mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { chromium, type Browser, type Page } from "playwright-core";
import { writeFakeRecorder } from "../drivers/mic/fake-recorder.js";
import { writeFakePlayer } from "../drivers/speaker/fake-player.js";
import { create as createStt } from "../drivers/stt/index.js";
import { call, freePort, REPO_ROOT, tempDir, waitFor, type RunningAgent } from "./helpers.js";
import { collect, type SeenEvent } from "./plan-subnet.js";
import { HUB_ID, makeHub, startMember, TOKEN } from "./saf-harness.js";

const CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--autoplay-policy=no-user-gesture-required"];

function say(dir: string, name: string, text: string): string {
  const file = join(dir, `${name}.wav`);
  execFileSync("espeak-ng", ["-v", "en-us", "-w", file, text]);
  return file;
}

function config(dir: string, name: string, value: unknown): string {
  const file = join(dir, `${name}.yaml`);
  writeFileSync(file, `${JSON.stringify(value, null, 2)}\n`);
  return file;
}

async function member(t: Parameters<typeof makeHub>[0], hub: Awaited<ReturnType<typeof makeHub>>, id: string, dir: string, extra: Record<string, unknown>): Promise<RunningAgent> {
  const port = await freePort();
  const file = config(dir, id, { directory: { heartbeat_ms: 1000, base_url: `http://127.0.0.1:${port}` }, ...extra });
  return startMember(t, hub, id, { ADAOS_EDGE_CONFIG: file, ADAOS_EDGE_HUB_ID: HUB_ID }, port);
}

/** What the page's script sees of the DOM here (the project compiles without the DOM library). */
declare const document: { getElementById(id: string): { textContent: string | null; currentSrc?: string; currentTime?: number } | null };

/** The kiosk's title and its video's state, read in the page. */
async function screen(page: Page): Promise<{ title: string; src: string; time: number }> {
  return page.evaluate(() => {
    const video = document.getElementById("video");
    return { title: document.getElementById("title")?.textContent ?? "", src: video?.currentSrc ?? "", time: video?.currentTime ?? 0 };
  });
}

const median = (xs: readonly number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;

test("voice → TV: spoken commands play on the TV's kiosk page from the media member; guarded speech starts nothing; the TV down → the other screen; none left → a spoken notice", { timeout: 240_000 }, async (t) => {
  const dir = tempDir(t, "adaos-voice-tv-");
  const bin = join(dir, "bin");
  const captured = join(dir, "said");
  mkdirSync(bin);
  mkdirSync(captured);
  const recorder = writeFakeRecorder(bin);
  const player = writeFakePlayer(bin, captured);
  const fifo = join(dir, "mic.fifo");
  execFileSync("mkfifo", [fifo]);
  const wav = {
    inception: say(dir, "inception", "show inception on the tv"),
    interstellar: say(dir, "interstellar", "show interstellar on the tv"),
    chatter: say(dir, "chatter", "i think we should have pasta for dinner tonight"),
  };

  const hubConfig = config(dir, "hub", {
    directory: { heartbeat_ms: 1000 },
    // Every node is a process on this one machine: their load and rtt are the same machine's,
    // sampled at different moments — noise that could outweigh the screens' prio (80 vs 40).
    resolver: { startup_sla_ms: 15_000, weights: { load: 0, rtt: 0 } },
    voice: {
      enabled: true, intents: join(REPO_ROOT, "examples/voice/intents.yaml"), guard: "push_to_talk",
      mic: { recorder }, tts: { enabled: true }, speaker: { command: player },
    },
  });
  const hub = await makeHub(t, undefined, ["tv", "bedroom", "media"], { ADAOS_EDGE_CONFIG: hubConfig, FAKE_MIC_FIFO: fifo });
  await hub.start();
  const [tv, bedroom] = await Promise.all([
    member(t, hub, "tv", dir, { display: { mode: "kiosk", name: "Living-room TV", inputs: ["webm"], prio: 80 } }),
    // A second screen without a browser: real mpv, with no video or audio output on this machine.
    member(t, hub, "bedroom", dir, { display: { mode: "mpv", name: "Bedroom TV", inputs: ["webm"], prio: 40, args: ["--no-terminal", "--vo=null", "--ao=null"] } }),
    member(t, hub, "media", dir, { media: { catalog: join(REPO_ROOT, "examples/media/catalog.yaml") } }),
  ]);
  await waitFor("tv, bedroom and media online with their capabilities", async () => {
    const { body } = await call<{ nodes: { node_id: string; online: boolean; capabilities: { id: string }[] }[] }>(hub.url, "/api/subnet/nodes");
    const has = (id: string, cap: string) => body.nodes.some((n) => n.node_id === id && n.online && n.capabilities.some((c) => c.id === cap));
    return has("tv", "capability://display.play") && has("bedroom", "capability://display.play") && has("media", "capability://media.playback") ? true : undefined;
  }, 30_000, 100);
  const events = await collect(t, hub.url, ">");

  const browser: Browser = await chromium.launch({ executablePath: "/usr/bin/chromium", args: CHROMIUM_ARGS });
  t.after(() => browser.close());
  const page = await browser.newPage();
  await page.goto(`${tv.url}/display`);
  // The TV's display capability is down until a kiosk page is open; wait for the hub to see it up.
  await waitFor("the TV's display up at the hub", async () => {
    const { body } = await call<{ nodes: { node_id: string; capabilities: { id: string; status: string }[] }[] }>(hub.url, "/api/subnet/nodes");
    return body.nodes.find((n) => n.node_id === "tv")?.capabilities.find((c) => c.id === "capability://display.play")?.status === "up" ? true : undefined;
  }, 15_000, 100);

  const speak = async (file: string): Promise<void> => writeFile(fifo, `${file}\n`);
  const listen = async (): Promise<void> => {
    const r = await call<{ open_until: number }>(hub.url, "/api/voice/listen", {});
    assert.equal(r.status, 200, JSON.stringify(r.body));
  };
  const inputs = (): SeenEvent[] => events.filter((e) => e.name === "voice.input");

  /** On a timeout, what the hub's voice pipeline did (its log and counters) goes into the error. */
  const explained = async <T>(p: Promise<T>): Promise<T> => p.catch(async (err: unknown) => {
    const log = hub.proc().stdout().split("\n").filter((l) => /"component":"(voice|mic|stt)/.test(l)).slice(-20).join("\n");
    const metrics = (await (await fetch(`${hub.url}/metrics`, { headers: { "x-adaos-token": TOKEN } })).text()).split("\n").filter((l) => l.startsWith("adaos_voice")).join("\n");
    const plans = events.filter((e) => e.name === "plan.run.completed" || e.name === "route.changed").slice(-3).map((e) => `${e.name} ${JSON.stringify(e.payload)}`).join("\n");
    throw new Error(`${String(err)}\n${metrics}\nthe hub's last voice log lines:\n${log}\nplan events:\n${plans}`);
  });
  // 1. Several commands; each: push to talk, speak, wait for the page to change.
  const latencies: number[] = [];
  for (const [file, title] of [[wav.inception, "Inception"], [wav.interstellar, "Interstellar"], [wav.inception, "Inception"]] as const) {
    const before = inputs().length;
    await listen();
    await speak(file);
    const shownAt = await explained(waitFor(`the TV to show ${title}`, async () => {
      const s = await screen(page);
      return s.title === title && s.time > 0 ? performance.timeOrigin + performance.now() : undefined;
    }, 30_000, 10));
    const input = await waitFor("its voice.input", () => inputs()[before], 5000, 10);
    assert.equal(input.payload.raw, `show ${title.toLowerCase()} on the tv`);
    const endedAt = (input.payload.timings as { speech_end_epoch_ms: number }).speech_end_epoch_ms;
    latencies.push(Math.round(shownAt - endedAt));
    const s = await screen(page);
    assert.ok(s.src.startsWith("http://127.0.0.1:") && s.src.includes("/media/"), `the video plays from the media member: ${s.src}`);
    await waitFor("the video to keep playing", async () => ((await screen(page)).time > 0.5 ? true : undefined), 10_000, 50);
    const notice = await waitFor("the hub's notice", () => events.find((e) => e.name === "ui.notify" && e.correlation_id === input.correlation_id && String(e.payload.text).startsWith("Playing")), 10_000, 20);
    assert.equal(notice.payload.text, `Playing ${title} on Living-room TV`);
  }
  t.diagnostic(`end of speech → page updated: ${latencies.join(", ")} ms (median ${median(latencies)} ms)`);

  // 2. The guard: speech with no push to talk is not even recognised, and nothing plays.
  const guardedBefore = await guarded(hub.url);
  const runsBefore = events.filter((e) => e.name === "plan.run.completed").length;
  await speak(wav.chatter);
  await explained(waitFor("the chatter to be cut and ignored", async () => ((await guarded(hub.url)) > guardedBefore ? true : undefined), 20_000, 100));
  await speak(wav.interstellar); // a real command, but no push either
  await explained(waitFor("the unpushed command to be ignored too", async () => ((await guarded(hub.url)) > guardedBefore + 1 ? true : undefined), 20_000, 100));
  assert.equal(events.filter((e) => e.name === "plan.run.completed").length, runsBefore, "nothing ran");
  assert.equal((await screen(page)).title, "Inception", "the TV still shows the last command's film");

  // 3. The TV goes away: the next command plays on the other screen (mpv, fetching from the media member).
  const offline = async (id: string): Promise<boolean> => waitFor(`${id} offline`, async () => {
    const { body } = await call<{ nodes: { node_id: string; online: boolean }[] }>(hub.url, "/api/subnet/nodes");
    return body.nodes.some((n) => n.node_id === id && !n.online) ? true : undefined;
  }, 15_000, 100);
  const command = async (file: string): Promise<SeenEvent> => {
    const before = inputs().length;
    await listen();
    await speak(file);
    return explained(waitFor("the command heard", () => inputs()[before], 30_000, 20));
  };
  tv.child.kill("SIGKILL");
  await offline("tv");
  const moved = await command(wav.interstellar);
  const elsewhere = await waitFor("the notice from the other screen", () => events.find((e) => e.name === "ui.notify" && e.correlation_id === moved.correlation_id), 20_000, 20);
  assert.equal(elsewhere.payload.text, "Playing Interstellar on Bedroom TV");

  // 4. No screen left: the command ends in a spoken notice on the hub (and a printed one).
  const saidBefore = readdirSync(captured).length;
  bedroom.child.kill("SIGKILL");
  await offline("bedroom");
  const input = await command(wav.interstellar);
  const spoken = await waitFor("the spoken notice", () => events.find((e) => e.name === "ui.say" && e.correlation_id === input.correlation_id), 20_000, 20);
  assert.match(String(spoken.payload.text), /^Sorry, I could not play Interstellar/);
  await waitFor("the notice played through the speaker", () => (readdirSync(captured).length > saidBefore ? true : undefined), 10_000, 50);

  // 5. Text in Russian and English: the same intent and slots.
  const en = await call<{ intent: string; slots: Record<string, string> }>(hub.url, "/api/intent/recognize", { text: "Show Inception on the TV!" });
  const ru = await call<{ intent: string; slots: Record<string, string> }>(hub.url, "/api/intent/recognize", { text: "Покажи «Начало» на телевизоре" });
  assert.equal(en.status, 200, JSON.stringify(en.body));
  assert.equal(ru.status, 200, JSON.stringify(ru.body));
  assert.deepEqual([ru.body.intent, ru.body.slots], [en.body.intent, en.body.slots]);
  assert.deepEqual([en.body.intent, en.body.slots], ["media.find_and_show", { title: "Inception" }]);

  // 6. A reply said by the hub (POST /api/say → IO router → espeak-ng → speaker), captured from the
  // fake audio sink and recognised back by our own pocketsphinx driver: the same text.
  const sinkBefore = readdirSync(captured).filter((f) => f.endsWith(".wav")).length;
  const reply = await call<unknown>(hub.url, "/api/say", { text: "playing inception on the tv" });
  assert.ok(reply.status >= 200 && reply.status < 300, JSON.stringify(reply.body));
  const wavs = await waitFor("the reply captured", () => {
    const all = readdirSync(captured).filter((f) => f.endsWith(".wav"));
    return all.length > sinkBefore ? all : undefined;
  }, 10_000, 20);
  const newest = wavs.sort((a, b) => Number.parseInt(b, 10) - Number.parseInt(a, 10))[0] ?? "";
  const pcm = execFileSync("sox", [join(captured, newest), "-t", "raw", "-r", "16000", "-e", "signed", "-b", "16", "-c", "1", "-"]);
  const stt = createStt({ engine: "pocketsphinx", grammar: { patterns: ["playing {title} on the tv", "show {title} on the tv"], slots: { title: ["inception", "interstellar"] } } }, { logger: { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined } });
  t.after(() => stt.stop());
  await stt.start();
  assert.equal((await stt.transcribe(pcm)).text, "playing inception on the tv");
});

async function guarded(url: string): Promise<number> {
  const res = await fetch(`${url}/metrics`, { headers: { "x-adaos-token": TOKEN } });
  const m = /adaos_voice_utterances_total\{outcome="guarded"\} (\d+)/.exec(await res.text());
  return Number(m?.[1] ?? 0);
}
