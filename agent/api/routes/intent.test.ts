import { strict as assert } from "node:assert";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { test, type TestContext } from "node:test";
import { fileURLToPath } from "node:url";
import type { Envelope } from "../../../abi/envelope.js";
import { LocalBus } from "../../bus/local-bus.js";
import { systemClock } from "../../core/clock.js";
import { NotFoundError } from "../../core/errors.js";
import { silentLogger } from "../../core/logger.js";
import { MetricsRegistry } from "../../core/metrics.js";
import { createRecognizer, type Recognizer } from "../../intent/recognizer.js";
import { loadIntentRules } from "../../intent/rules-load.js";
import { precompiledCatalog } from "../../registry/precompiled.js";
import { sendError, type Route } from "../http.js";
import { errorOf, waitFor } from "../test-fixture.js";
import { intentRoutes, MAX_TEXT_CHARS, RECOGNIZE_PATH } from "./intent.js";

const EXAMPLE = fileURLToPath(new URL("../../../../examples/voice/intents.yaml", import.meta.url));
const UUID7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/**
 * The routes behind a bare node:http server on a free loopback port, dispatched as ApiServer does
 * (exact path and method, errors through sendError); ApiServer takes no extra routes yet.
 */
async function serve(t: TestContext, recognizer: Recognizer | undefined) {
  const logger = silentLogger();
  const bus = new LocalBus({ catalog: precompiledCatalog(), logger, metrics: new MetricsRegistry(), source: "agent://hub/hub-test" });
  const detected: Envelope[] = [];
  bus.subscribe("nlp.intent.detected", (env) => {
    detected.push(env);
  });
  const routes: Route[] = intentRoutes({ recognizer, bus, source: "api@hub-test", tenant: "home", clock: systemClock, maxBodyBytes: 4096, logger });
  const server = createServer((req, res) => {
    const route = routes.find((r) => r.method === req.method && r.path === new URL(req.url ?? "/", "http://x").pathname);
    Promise.resolve(route === undefined ? sendError(res, new NotFoundError("no route"), logger) : route.handler(req, res, { url: new URL(req.url ?? "/", "http://x") })).catch((err: unknown) => sendError(res, err, logger));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  t.after(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    await bus.stop();
  });
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}${RECOGNIZE_PATH}`;
  const post = async (body: unknown, headers: Record<string, string> = {}): Promise<{ status: number; body: Record<string, unknown> }> => {
    const res = await fetch(url, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: typeof body === "string" ? body : JSON.stringify(body) });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };
  return { post, detected };
}

const example = (): Recognizer => createRecognizer(loadIntentRules(EXAMPLE));

test("a Russian command: 200 with intent and canonical slots; nlp.intent.detected carries the given correlation id", async (t) => {
  const { post, detected } = await serve(t, example());
  const res = await post({ text: "Покажи «Начало» на телевизоре!" }, { "x-correlation-id": "voice-session-42" });
  assert.equal(res.status, 200);
  const { intent_id, ...rest } = res.body;
  assert.match(String(intent_id), UUID7);
  assert.deepEqual(rest, { intent: "media.find_and_show", slots: { title: "Inception" }, confidence: 1, lang: "ru", pattern: "покажи {title} на телевизоре", correlation_id: "voice-session-42" });
  await waitFor("nlp.intent.detected", () => detected.length === 1);
  const env = detected[0];
  assert.equal(env?.event_name, "nlp.intent.detected");
  assert.equal(env?.version, 1);
  assert.equal(env?.correlation_id, "voice-session-42");
  assert.equal(env?.source, "api@hub-test");
  assert.equal(env?.tenant, "home");
  assert.deepEqual(env?.payload, { intent_id, intent: "media.find_and_show", slots: { title: "Inception" }, confidence: 1, locale: "ru", text: "Покажи «Начало» на телевизоре!", modality: "text" });
});

test("English gives the same intent and slots; without the header a new correlation id is made and returned", async (t) => {
  const { post, detected } = await serve(t, example());
  const res = await post({ text: "please show inception on the tv", lang: "en-US" });
  assert.equal(res.status, 200);
  assert.deepEqual([res.body.intent, res.body.slots, res.body.confidence, res.body.lang], ["media.find_and_show", { title: "Inception" }, 0.8, "en"]);
  assert.match(String(res.body.correlation_id), UUID7);
  await waitFor("nlp.intent.detected", () => detected.length === 1);
  assert.equal(detected[0]?.correlation_id, res.body.correlation_id);
  assert.equal((detected[0]?.payload as { locale: string }).locale, "en");
});

test("no match: 200 with intent null, nothing published", async (t) => {
  const { post, detected } = await serve(t, example());
  const res = await post({ text: "what is the weather", lang: null }, { "x-correlation-id": "c-1" });
  assert.deepEqual(res, { status: 200, body: { intent: null, slots: {}, confidence: 0, lang: null, correlation_id: "c-1" } });
  const inRu = await post({ text: "stop the tv", lang: "ru-RU" });
  assert.equal(inRu.body.intent, null);
  assert.equal(inRu.body.lang, "ru");
  const marker = await post({ text: "stop the tv" }, { "x-correlation-id": "marker" });
  assert.equal(marker.body.intent, "media.stop");
  await waitFor("the marker's event", () => detected.length > 0);
  assert.deepEqual(detected.map((e) => e.correlation_id), ["marker"], "the requests before it published nothing");
});

test("bad bodies: 400 E_BAD_REQUEST naming each bad field", async (t) => {
  const { post, detected } = await serve(t, example());
  const cases: [unknown, string, RegExp][] = [
    [{}, "/text", /is required/],
    [{ text: 5 }, "/text", /must be string/],
    [{ text: "" }, "/text", /must not be empty/],
    [{ text: "ы".repeat(MAX_TEXT_CHARS + 1) }, "/text", /at most 1000 characters/],
    [{ text: "stop the tv", lang: "English" }, "/lang", /language tag/],
    [{ text: "stop the tv", ctx: {} }, "/ctx", /not allowed \(expected text, lang\)/],
    [[1], "/", /must be object/],
    ["not json", "", /not valid JSON/],
  ];
  for (const [body, pointer, message] of cases) {
    const res = await post(body);
    assert.equal(res.status, 400, JSON.stringify(body).slice(0, 40));
    const err = errorOf(res);
    assert.equal(err.code, "E_BAD_REQUEST");
    if (pointer === "") assert.match(err.message, message);
    else assert.ok(err.issues?.some((i) => i.pointer === pointer && message.test(i.message)), JSON.stringify(err));
  }
  const ok = await post({ text: "ы".repeat(MAX_TEXT_CHARS) });
  assert.equal(ok.status, 200, "exactly the limit is fine");
  const de = await post({ text: "stop the tv", lang: "de" });
  assert.equal(de.status, 400);
  assert.match(errorOf(de).message, /no intent rules for language "de" \(the rules have en, ru\)/);
  const badCid = await post({ text: "stop the tv" }, { "x-correlation-id": "x".repeat(129) });
  assert.equal(badCid.status, 400);
  assert.match(errorOf(badCid).message, /x-correlation-id header must be 1–128 visible ASCII characters/);
  assert.equal(detected.length, 0);
});

test("an agent without intent rules answers 404 saying so", async (t) => {
  const { post } = await serve(t, undefined);
  const res = await post({ text: "stop the tv" });
  assert.equal(res.status, 404);
  assert.match(errorOf(res).message, /no intent rules/);
});
