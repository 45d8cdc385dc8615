/**
 * /media/<id> and /media/<id>/poster served by a real node:http server on port 0: types and
 * lengths, single ranges byte-exact against the file, 416 past the end, HEAD, 404 for ids the
 * catalog does not have (traversal attempts included), 405 for other methods, and parseRange's cases.
 */
import { strict as assert } from "node:assert";
import { readFile } from "node:fs/promises";
import { createServer, request } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { test, type TestContext } from "node:test";
import { fileURLToPath } from "node:url";
import { loadCatalog } from "./catalog.js";
import { mediaHttp, parseRange } from "./media-http.js";

const MEDIA = fileURLToPath(new URL("../../../examples/media/", import.meta.url));

interface Reply {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: Buffer;
}

async function serve(t: TestContext): Promise<string> {
  const media = mediaHttp(await loadCatalog(join(MEDIA, "catalog.yaml")));
  const server = createServer((req, res) => {
    // The raw path, not URL-normalised as the API server's would be: the handler must hold by itself.
    if (!media.handle(req, res, (req.url ?? "/").split("?")[0] ?? "/")) {
      res.writeHead(599);
      res.end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** A raw request (the path is sent as given, unlike fetch, which would normalise ../). */
function get(base: string, path: string, headers: Record<string, string> = {}, method = "GET"): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request(`${base}/`, { method, path, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on("error", reject);
    req.end();
  });
}

test("a film and its poster: type, length, accept-ranges, the exact bytes", async (t) => {
  const base = await serve(t);
  const film = await readFile(join(MEDIA, "inception.webm"));
  const r = await get(base, "/media/inception");
  assert.equal(r.status, 200);
  assert.equal(r.headers["content-type"], "video/webm");
  assert.equal(r.headers["content-length"], String(film.length));
  assert.equal(r.headers["accept-ranges"], "bytes");
  assert.ok(r.body.equals(film));
  const poster = await get(base, "/media/inception/poster");
  assert.equal(poster.status, 200);
  assert.equal(poster.headers["content-type"], "image/png");
  assert.ok(poster.body.equals(await readFile(join(MEDIA, "poster.png"))));
});

test("single ranges come back byte-exact with 206 and Content-Range", async (t) => {
  const base = await serve(t);
  const film = await readFile(join(MEDIA, "interstellar.webm"));
  const size = film.length;
  const cases: [string, number, number][] = [
    ["bytes=0-0", 0, 0],
    ["bytes=0-99", 0, 99],
    ["bytes=1000-1999", 1000, 1999],
    [`bytes=${size - 10}-`, size - 10, size - 1],
    ["bytes=-500", size - 500, size - 1],
    [`bytes=100-${size + 5000}`, 100, size - 1],
    [`bytes=-${size + 10}`, 0, size - 1],
  ];
  for (const [range, start, end] of cases) {
    const r = await get(base, "/media/interstellar", { range });
    assert.equal(r.status, 206, range);
    assert.equal(r.headers["content-range"], `bytes ${start}-${end}/${size}`, range);
    assert.equal(r.headers["content-length"], String(end - start + 1), range);
    assert.ok(r.body.equals(film.subarray(start, end + 1)), `${range}: bytes differ`);
  }
});

test("a range past the end is 416 with the size; malformed and multi-range headers get the whole file", async (t) => {
  const base = await serve(t);
  const size = (await readFile(join(MEDIA, "inception.webm"))).length;
  for (const range of [`bytes=${size}-`, `bytes=${size + 1}-${size + 9}`, "bytes=-0"]) {
    const r = await get(base, "/media/inception", { range });
    assert.equal(r.status, 416, range);
    assert.equal(r.headers["content-range"], `bytes */${size}`, range);
    assert.equal(r.body.length, 0);
  }
  for (const range of ["bytes=5-2", "items=0-1", "bytes=0-1,5-6", "bytes=x-", "bytes=-"]) {
    const r = await get(base, "/media/inception", { range });
    assert.equal(r.status, 200, range);
    assert.equal(r.body.length, size, range);
  }
});

test("HEAD has the headers and no body", async (t) => {
  const base = await serve(t);
  const r = await get(base, "/media/inception", { range: "bytes=10-19" }, "HEAD");
  assert.equal(r.status, 206);
  assert.equal(r.headers["content-length"], "10");
  assert.equal(r.body.length, 0);
  const whole = await get(base, "/media/inception/poster", {}, "HEAD");
  assert.equal(whole.status, 200);
  assert.equal(whole.headers["content-type"], "image/png");
  assert.equal(whole.body.length, 0);
});

test("ids outside the catalog are 404, traversal included; other methods 405; other paths not handled", async (t) => {
  const base = await serve(t);
  for (const path of ["/media/nope", "/media", "/media/", "/media/inception/poster/x", "/media/inception/trailer",
    "/media/..%2F..%2Fetc%2Fpasswd", "/media/../../etc/passwd", "/media/inception/../../../package.json", "/media/%2e%2e"]) {
    const r = await get(base, path);
    assert.equal(r.status, 404, path);
    const body = JSON.parse(r.body.toString()) as { error: { code: string; message: string } };
    assert.equal(body.error.code, "E_NOT_FOUND", path);
  }
  const nope = JSON.parse((await get(base, "/media/nope")).body.toString()) as { error: { message: string } };
  assert.match(nope.error.message, /the catalog has inception, interstellar/);
  const post = await get(base, "/media/inception", {}, "POST");
  assert.equal(post.status, 405);
  assert.equal(post.headers.allow, "GET, HEAD");
  assert.equal((await get(base, "/mediax/inception")).status, 599);
  assert.equal((await get(base, "/display")).status, 599);
});

test("parseRange", () => {
  assert.equal(parseRange(undefined, 10), undefined);
  assert.deepEqual(parseRange("bytes=2-5", 10), { start: 2, end: 5 });
  assert.deepEqual(parseRange("BYTES = 2 - ", 10), { start: 2, end: 9 });
  assert.deepEqual(parseRange("bytes=-3", 10), { start: 7, end: 9 });
  assert.equal(parseRange("bytes=10-", 10), "unsatisfiable");
  assert.equal(parseRange("bytes=0-", 0), "unsatisfiable");
  assert.equal(parseRange("bytes=-1", 0), "unsatisfiable");
  assert.equal(parseRange("bytes=5-4", 10), undefined);
  assert.equal(parseRange("bytes=0-1, 3-4", 10), undefined);
});
