/**
 * The kiosk page a TV's browser keeps open at /display: full screen, black, one video.
 * Rules: no external assets and nothing from a request is written into the page; items arrive
 * only over Server-Sent Events as JSON and are put up with textContent / src / poster. The page
 * acks each item once per state ("showing" when the title is up, "playing" on the video's first
 * "playing" event, "error" on the video's "error" event or a refused autoplay). A re-sent item
 * (after a reconnect) that is already up is left playing. The EventSource reconnects by itself on
 * network errors; when the browser gives up (an HTTP error answer) the page opens a new one with
 * a capped backoff. The Content-Security-Policy allows exactly this script and style (by hash),
 * same-origin fetches, and media and images from any http(s) host (films come from other nodes).
 */
import { createHash } from "node:crypto";

const STYLE = `
html, body { margin: 0; height: 100%; background: #000; color: #eee; overflow: hidden; cursor: none;
  font-family: system-ui, sans-serif; }
#video { position: fixed; inset: 0; width: 100vw; height: 100vh; object-fit: contain; background: #000; }
#title { position: fixed; left: 0; right: 0; top: 0; margin: 0; padding: 2vh 3vw; font-size: 5vh;
  background: linear-gradient(#000c, #0000); transition: opacity 1s 4s; }
body.playing #title { opacity: 0; }
#status { position: fixed; right: 3vw; bottom: 2vh; font-size: 2.5vh; color: #888; }
`;

const SCRIPT = `
"use strict";
const titleEl = document.getElementById("title");
const video = document.getElementById("video");
const statusEl = document.getElementById("status");
const RETRY_FIRST_MS = 1000;
const RETRY_MAX_MS = 30000;
let current = null;
let acked = new Set();
let retryMs = RETRY_FIRST_MS;

function ack(playId, state, detail) {
  const key = playId + "/" + state;
  if (acked.has(key)) return;
  acked.add(key);
  const body = { play_id: playId, state: state };
  if (detail) body.detail = String(detail).slice(0, 300);
  fetch("/display/ack", { method: "POST", headers: { "content-type": "application/json" },
    body: JSON.stringify(body), keepalive: true }).catch(function () { acked.delete(key); });
}

function show(item) {
  if (!item || typeof item.play_id !== "string" || typeof item.url !== "string") return;
  if (item.play_id === current) return;
  current = item.play_id;
  acked = new Set();
  document.body.classList.remove("playing");
  titleEl.textContent = typeof item.title === "string" ? item.title : "";
  if (typeof item.poster === "string") video.poster = item.poster; else video.removeAttribute("poster");
  statusEl.textContent = "";
  video.src = item.url;
  ack(item.play_id, "showing");
  const started = video.play();
  if (started) started.catch(function (err) {
    if (err && err.name === "NotAllowedError" && current === item.play_id) ack(item.play_id, "error", "autoplay refused: " + err.message);
  });
}

video.addEventListener("playing", function () {
  if (current === null) return;
  document.body.classList.add("playing");
  ack(current, "playing");
});
video.addEventListener("error", function () {
  if (current === null) return;
  const e = video.error;
  ack(current, "error", e ? "media error " + e.code + (e.message ? ": " + e.message : "") : "media error");
});

function connect() {
  const source = new EventSource("/display/events");
  source.addEventListener("open", function () { retryMs = RETRY_FIRST_MS; statusEl.textContent = current === null ? "waiting for a film" : ""; });
  source.addEventListener("play", function (ev) {
    let item = null;
    try { item = JSON.parse(ev.data); } catch (err) { return; }
    show(item);
  });
  source.addEventListener("error", function () {
    statusEl.textContent = "reconnecting";
    if (source.readyState !== EventSource.CLOSED) return;
    source.close();
    setTimeout(connect, retryMs);
    retryMs = Math.min(retryMs * 2, RETRY_MAX_MS);
  });
}
connect();
`;

const sha256 = (text: string): string => `'sha256-${createHash("sha256").update(text, "utf8").digest("base64")}'`;

export const KIOSK_PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>AdaOS display</title>
<style>${STYLE}</style>
</head>
<body>
<video id="video" autoplay muted playsinline></video>
<h1 id="title"></h1>
<div id="status">connecting</div>
<script>${SCRIPT}</script>
</body>
</html>
`;

export const KIOSK_CSP = [
  "default-src 'none'",
  `script-src ${sha256(SCRIPT)}`,
  `style-src ${sha256(STYLE)}`,
  "connect-src 'self'",
  "media-src http: https:",
  "img-src http: https: data:",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join("; ");
