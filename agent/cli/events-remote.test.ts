import { strict as assert } from "node:assert";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import type { Envelope } from "../../abi/envelope.js";
import { createEnvelope } from "../core/envelope.js";
import { TOKEN, startApi, waitFor } from "../api/test-fixture.js";
import { SseParser } from "./api-client.js";
import type { CliIo } from "./command.js";
import { dispatch } from "./dispatch.js";

interface Captured {
  readonly io: CliIo;
  readonly out: string[];
  readonly err: string[];
}

function capture(env: Record<string, string> = {}, cwd = tmpdir()): Captured {
  const out: string[] = [];
  const err: string[] = [];
  return { io: { out: (l) => void out.push(l), err: (l) => void err.push(l), env, cwd }, out, err };
}

test("events publish: accepted <id>, and the bus gets the envelope", async (t) => {
  const { url, bus } = await startApi(t);
  const got: Envelope[] = [];
  bus.subscribe("ui.notify", (e) => void got.push(e));
  const c = capture();
  const code = await dispatch(["events", "publish", "ui.notify", "--data", '{"text":"from the cli"}', "--priority", "2", "--api", url, "--token", TOKEN], c.io);
  assert.deepEqual(c.err, []);
  assert.equal(code, 0);
  assert.equal(c.out.length, 1);
  const m = /^accepted (\S+)$/.exec(c.out[0] ?? "");
  assert.ok(m, c.out[0]);
  await waitFor("delivery", () => got.length === 1);
  assert.equal(got[0]?.id, m[1]);
  assert.equal(got[0]?.priority, 2);
  assert.deepEqual(got[0]?.payload, { text: "from the cli" });
});

test("events publish: API and token from the environment, or the token from <data-dir>/api.token", async (t) => {
  const { url } = await startApi(t);
  const viaEnv = capture({ ADAOS_EDGE_API: url, ADAOS_EDGE_TOKEN: TOKEN });
  assert.equal(await dispatch(["events", "publish", "ui.notify", "--data", '{"text":"a"}'], viaEnv.io), 0, viaEnv.err.join("\n"));
  assert.match(viaEnv.out[0] ?? "", /^accepted /);

  const dir = mkdtempSync(join(tmpdir(), "adaos-cli-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, "api.token"), TOKEN + "\n");
  const viaFile = capture({ ADAOS_EDGE_API: url }, dir);
  assert.equal(await dispatch(["events", "publish", "ui.notify", "--data", '{"text":"b"}', "--data-dir", "."], viaFile.io), 0, viaFile.err.join("\n"));
  assert.match(viaFile.out[0] ?? "", /^accepted /);

  const viaEnvDir = capture({ ADAOS_EDGE_API: url, ADAOS_EDGE_DATA_DIR: dir });
  assert.equal(await dispatch(["events", "publish", "test.do", "--kind", "command"], viaEnvDir.io), 0, viaEnvDir.err.join("\n"));

  // No token anywhere: the 401 says where it looked.
  const none = capture({ ADAOS_EDGE_API: url }, tmpdir());
  assert.equal(await dispatch(["events", "publish", "ui.notify", "--data", '{"text":"c"}', "--data-dir", join(dir, "nope")], none.io), 1);
  assert.match(none.err[0] ?? "", /missing API token.*no token was given .* or readable in .*nope\/api\.token \(E_UNAUTHORIZED\)$/);
});

test("events publish: a wrong token prints E_UNAUTHORIZED and exits 1", async (t) => {
  const { url } = await startApi(t);
  const c = capture();
  const code = await dispatch(["events", "publish", "ui.notify", "--data", '{"text":"x"}', "--api", url, "--token", "wrong"], c.io);
  assert.equal(code, 1);
  assert.deepEqual(c.out, []);
  assert.deepEqual(c.err, ["adaos-edge: wrong API token (E_UNAUTHORIZED)"]);
});

test("events publish: an invalid payload prints the error with its JSON pointers and exits 1", async (t) => {
  const { url } = await startApi(t);
  const c = capture();
  const code = await dispatch(["events", "publish", "ui.notify", "--data", '{"text":3}', "--api", url, "--token", TOKEN], c.io);
  assert.equal(code, 1);
  assert.match(c.err[0] ?? "", /^adaos-edge: invalid payload for ui\.notify@1: .* \(E_PAYLOAD_INVALID\)$/);
  assert.equal(c.err[1], "  /payload/text must be string");
});

test("events publish: bad arguments are usage errors (exit 2) before anything is sent", async () => {
  const cases: [string[], RegExp][] = [
    [["ui.notify", "--data", "{text:"], /--data is not valid JSON/],
    [["ui.notify", "--data", "[1]"], /--data must be a JSON object/],
    [["--data", "{}"], /expected exactly one event name/],
    [["ui.notify", "--version", "0"], /--version must be an integer/],
    [["ui.notify", "--priority", "7"], /--priority must be an integer between 0 and 5/],
    [["ui.notify", "--kind", "rumour"], /--kind must be one of event, command, reply/],
    [["ui.notify", "--api", "ftp://127.0.0.1:8777"], /--api must be an http:\/\/ or https:\/\/ URL/],
    [["ui.notify", "--api", "::nope"], /--api must be a URL/],
  ];
  for (const [args, message] of cases) {
    const c = capture();
    assert.equal(await dispatch(["events", "publish", ...args, "--token", "t"], c.io), 2, args.join(" "));
    assert.match(c.err.join("\n"), message);
    assert.match(c.err[0] ?? "", /\(E_USAGE\)$/);
  }
});

test("an unreachable API is E_API_UNREACHABLE naming the URL and suggesting `adaos-edge run`", async () => {
  const url = await closedPortUrl();
  for (const args of [["events", "publish", "ui.notify", "--data", "{}"], ["events", "tail", "--count", "1"]]) {
    const c = capture();
    assert.equal(await dispatch([...args, "--api", url, "--token", TOKEN], c.io), 1);
    assert.equal(c.err.length, 1, c.err.join("\n"));
    assert.ok(c.err[0]?.startsWith(`adaos-edge: cannot reach the agent's API at ${url} (connection refused)`), c.err[0]);
    assert.match(c.err[0] ?? "", /`adaos-edge run`.*\(E_API_UNREACHABLE\)$/);
  }
});

test("events tail --count: prints matching envelopes as NDJSON and exits 0", async (t) => {
  const { url, api, bus } = await startApi(t);
  const c = capture();
  const tail = dispatch(["events", "tail", "ui.>", "--count", "2", "--api", url, "--token", TOKEN], c.io);
  await waitFor("the tail to connect", () => api.streams === 1);
  const sent = [
    createEnvelope({ event_name: "ui.notify", version: 1, payload: { text: "one" }, source: "t@x" }),
    createEnvelope({ event_name: "test.pinged", version: 1, payload: { n: 1 }, source: "t@x" }),
    createEnvelope({ event_name: "ui.notify", version: 1, payload: { text: "two\nlines" }, source: "t@x" }),
    createEnvelope({ event_name: "ui.notify", version: 1, payload: { text: "three" }, source: "t@x" }),
  ];
  for (const e of sent) bus.publish(e);
  assert.equal(await tail, 0, c.err.join("\n"));
  assert.deepEqual(c.err, []);
  assert.equal(c.out.length, 2);
  assert.deepEqual(c.out.map((l) => JSON.parse(l) as Envelope), [sent[0], sent[2]]);
  await waitFor("the stream to close after the tail left", () => api.streams === 0);
});

test("events tail: a wrong token is E_UNAUTHORIZED; a bad pattern is E_SUBJECT_INVALID", async (t) => {
  const { url } = await startApi(t);
  const wrong = capture();
  assert.equal(await dispatch(["events", "tail", "--api", url, "--token", "nope"], wrong.io), 1);
  assert.deepEqual(wrong.err, ["adaos-edge: wrong API token (E_UNAUTHORIZED)"]);
  const bad = capture();
  assert.equal(await dispatch(["events", "tail", "ui.>.x", "--api", url, "--token", TOKEN], bad.io), 1);
  assert.match(bad.err[0] ?? "", /'>' must be the last token \(E_SUBJECT_INVALID\)$/);
});

test("events tail: when the agent stops, the tail reports it and exits 1", async (t) => {
  const { url, api, bus } = await startApi(t);
  const c = capture();
  const tail = dispatch(["events", "tail", "--api", url, "--token", TOKEN], c.io);
  await waitFor("the tail to connect", () => api.streams === 1);
  bus.publish(createEnvelope({ event_name: "ui.notify", version: 1, payload: { text: "before" }, source: "t@x" }));
  await waitFor("the envelope", () => c.out.length === 1);
  await api.stop();
  assert.equal(await tail, 1);
  assert.equal(c.err.length, 1);
  assert.match(c.err[0] ?? "", /event stream from .* (ended|broke).*\(E_API_UNREACHABLE\)$/);
});

test("events tail: SIGINT ends it cleanly with exit 0", async (t) => {
  const { url, api } = await startApi(t);
  const c = capture();
  const before = process.listenerCount("SIGINT");
  const tail = dispatch(["events", "tail", "--api", url, "--token", TOKEN], c.io);
  await waitFor("the tail to connect", () => api.streams === 1);
  assert.equal(process.listenerCount("SIGINT"), before + 1);
  process.emit("SIGINT", "SIGINT");
  assert.equal(await tail, 0);
  assert.deepEqual(c.err, []);
  assert.equal(process.listenerCount("SIGINT"), before);
  await waitFor("the stream to close", () => api.streams === 0);
});

test("SseParser: lines split across chunks, CRLF/CR/LF, multi-line data, comments, ids", () => {
  const p = new SseParser();
  const all = [
    ...p.push(": connected\r\nretry: 3000\r\n\r\nid: 1\nevent: ui.no"),
    ...p.push("tify\ndata: {\"a\":"),
    ...p.push("1}\r"),
    ...p.push("\n\r\ndata:first\rdata:  second\n\n"),
    ...p.push("event: ignored-without-data\n\nfield-without-colon\n:no space\ndata\n\n"),
    ...p.push("data: pending"),
  ];
  assert.deepEqual(all, [
    { type: "comment", text: "connected" },
    { type: "event", event: "ui.notify", data: '{"a":1}', id: "1" },
    { type: "event", event: "message", data: "first\n second", id: "1" },
    { type: "comment", text: "no space" },
    { type: "event", event: "message", data: "", id: "1" },
  ]);
  assert.deepEqual(p.push("\n\n"), [{ type: "event", event: "message", data: "pending", id: "1" }]);
});

/** A URL where nothing listens: a port that was free a moment ago. */
async function closedPortUrl(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}`;
}
