/**
 * The media member's files over HTTP, for the TV's browser or mpv: GET and HEAD of
 * /media/<id> (the film) and /media/<id>/poster (its poster). The agent mounts handle() on its
 * API server without the token: a kiosk browser has none, and the routes are read-only.
 * Rules: ids are looked up in the catalog and only the catalog's own paths are ever opened, so no
 * request can name another file (no decoding, no joining of request text onto a path). Range
 * follows RFC 9110 §14 for one range: 206 with Content-Range; 416 with a Content-Range of
 * "bytes *" and the size when it starts past the end; a malformed or multi-range header is ignored and the
 * whole file is sent (§14.2 lets a server ignore Range). Every answer has Content-Length and
 * `Accept-Ranges: bytes`; errors are {error: {code, message}} like the rest of the API.
 */
import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import type { IncomingMessage, ServerResponse } from "node:http";
import { extname } from "node:path";
import { pipeline } from "node:stream/promises";
import { sendJson, statusOf } from "../api/http.js";
import { MethodNotAllowedError, NotFoundError, type AdaosError } from "../core/errors.js";
import type { Catalog } from "./catalog.js";

export const MEDIA_PREFIX = "/media";

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  ".webm": "video/webm",
  ".mp4": "video/mp4",
  ".png": "image/png",
  ".jpg": "image/jpeg",
  ".jpeg": "image/jpeg",
};

export interface MediaHttp {
  /** Serves /media/…; false for any other path. */
  handle(req: IncomingMessage, res: ServerResponse, path: string): boolean;
}

/** A byte range, both ends inclusive. */
export interface ByteRange {
  readonly start: number;
  readonly end: number;
}

export function mediaHttp(catalog: Catalog, onError: (err: unknown) => void = () => undefined): MediaHttp {
  return {
    handle(req, res, path) {
      if (path !== MEDIA_PREFIX && !path.startsWith(`${MEDIA_PREFIX}/`)) return false;
      if (req.method !== "GET" && req.method !== "HEAD") {
        fail(res, new MethodNotAllowedError(`${req.method ?? "?"} is not allowed on ${path}; allowed: GET, HEAD`), { allow: "GET, HEAD" });
        return true;
      }
      const [, , id, part, ...rest] = path.split("/");
      const item = id === undefined ? undefined : catalog.get(id);
      const file = item === undefined || rest.length > 0 ? undefined : part === undefined ? item.file : part === "poster" ? item.poster : undefined;
      if (file === undefined) {
        fail(res, new NotFoundError(`no media at ${path}; the catalog has ${catalog.items.map((i) => i.id).join(", ")}`));
        return true;
      }
      serveFile(req, res, file).catch((err: unknown) => {
        // A browser drops a range request as soon as it has enough bytes: that is no error.
        if ((err as { code?: unknown }).code === "ERR_STREAM_PREMATURE_CLOSE") return;
        onError(err);
        if (!res.headersSent) fail(res, new NotFoundError(`the media file for ${path} cannot be read`));
        else res.destroy();
      });
      return true;
    },
  };
}

async function serveFile(req: IncomingMessage, res: ServerResponse, file: string): Promise<void> {
  const info = await stat(file);
  const size = info.size;
  const type = CONTENT_TYPES[extname(file).toLowerCase()] ?? "application/octet-stream";
  const common = { "content-type": type, "accept-ranges": "bytes", "cache-control": "no-cache", "last-modified": info.mtime.toUTCString() };
  const range = parseRange(req.headers.range, size);
  if (range === "unsatisfiable") {
    res.writeHead(416, { ...common, "content-range": `bytes */${size}`, "content-length": 0 });
    res.end();
    return;
  }
  const { start, end } = range ?? { start: 0, end: size - 1 };
  const length = size === 0 ? 0 : end - start + 1;
  res.writeHead(range === undefined ? 200 : 206, {
    ...common,
    "content-length": length,
    ...(range === undefined ? {} : { "content-range": `bytes ${start}-${end}/${size}` }),
  });
  if (req.method === "HEAD" || length === 0) {
    res.end();
    return;
  }
  await pipeline(createReadStream(file, { start, end }), res);
}

/**
 * One `bytes=` range of a file of `size` bytes: undefined when there is no usable header (absent,
 * malformed, another unit, several ranges: send it all), "unsatisfiable" when it starts past the end.
 */
export function parseRange(header: string | undefined, size: number): ByteRange | "unsatisfiable" | undefined {
  if (header === undefined) return undefined;
  const m = /^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$/i.exec(header);
  if (m === null) return undefined;
  const [, first = "", last = ""] = m;
  if (first === "" && last === "") return undefined;
  if (first === "") {
    const suffix = Number(last);
    if (suffix === 0 || size === 0) return "unsatisfiable";
    return { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(first);
  const end = last === "" ? Infinity : Number(last);
  if (end < start) return undefined;
  if (start >= size) return "unsatisfiable";
  return { start, end: Math.min(end, size - 1) };
}

function fail(res: ServerResponse, err: AdaosError, headers: Record<string, string> = {}): void {
  sendJson(res, statusOf(err.code), { error: err.toWire() }, headers);
}
