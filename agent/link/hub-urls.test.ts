import { strict as assert } from "node:assert";
import { test } from "node:test";
import { ConfigInvalidError } from "../core/errors.js";
import { MAX_HUB_URLS, parseHubUrls } from "./hub-urls.js";

test("a comma list in order of preference, with default ports and canonical URLs", () => {
  assert.deepEqual(parseHubUrls("nats://hub.local:4222, mqtt://hub.local"), [
    { transport: "nats", url: "nats://hub.local:4222", host: "hub.local", port: 4222 },
    { transport: "mqtt", url: "mqtt://hub.local:1883", host: "hub.local", port: 1883 },
  ]);
  assert.deepEqual(parseHubUrls(["mqtt://10.0.0.2:11883/", "nats://10.0.0.2"]).map((u) => u.url), ["mqtt://10.0.0.2:11883", "nats://10.0.0.2:4222"]);
  assert.deepEqual(parseHubUrls(["nats://[::1]:4222"]).map((u) => u.url), ["nats://[::1]:4222"]);
});

test("every bad entry is reported at once, with where and why", () => {
  const bad = ["nats://hub:4222", "tls://hub:4222", "mqtt://tv:secret@hub", "nats://hub:99999", "nats://hub:4222", "mqtt://hub/topic", "", "hub:1883"].join(",");
  assert.throws(() => parseHubUrls(bad, "hub.urls"), (err: unknown) => {
    assert.ok(err instanceof ConfigInvalidError);
    assert.deepEqual(err.issues.map((i) => i.pointer), ["/hub/urls/1", "/hub/urls/2", "/hub/urls/3", "/hub/urls/4", "/hub/urls/5", "/hub/urls/6", "/hub/urls/7"]);
    const text = err.message;
    for (const why of ['unsupported scheme "tls://"', "credentials do not go in a hub URL", "not a URL", "listed twice", 'unexpected path "/topic"', "empty entry"]) {
      assert.ok(text.includes(why), `${why} in:\n${text}`);
    }
    assert.ok(!text.includes("secret") && text.includes('"mqtt://***@hub"'), "a password is never quoted back");
    return true;
  });
});

test("an empty list and a list that is too long are refused", () => {
  assert.throws(() => parseHubUrls(""), /no hub URL given/);
  assert.throws(() => parseHubUrls([]), /no hub URL given/);
  const many = Array.from({ length: MAX_HUB_URLS + 1 }, (_, i) => `nats://h${i}:4222`);
  assert.throws(() => parseHubUrls(many), new RegExp(`at most ${MAX_HUB_URLS}`));
});
