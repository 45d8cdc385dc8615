/**
 * media.search and media.playback as plan steps over the example catalog: outputs with URLs
 * under the base URL, NotFoundError naming the title and the catalog's titles, bad args refused.
 */
import { strict as assert } from "node:assert";
import { join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { BadRequestError, NotFoundError } from "../core/errors.js";
import type { StepRequest } from "../plans/step-handler.js";
import { loadCatalog } from "./catalog.js";
import { mediaStepHandlers, mediaSteps } from "./media-steps.js";

const MEDIA = fileURLToPath(new URL("../../../examples/media/", import.meta.url));
const signal = new AbortController().signal;

function step(need: string, args: Record<string, unknown>): StepRequest {
  return { run_id: "run-1", step_id: "s", need, args, attempt: 1, correlation_id: "c-1" };
}

test("search then playback: the ids, formats and URLs a display needs", async () => {
  const steps = mediaSteps(await loadCatalog(join(MEDIA, "catalog.yaml")), "http://10.0.0.5:8080/");
  const found = await steps.search.run(step("capability://media.search", { title: "play inception" }), signal);
  assert.deepEqual(found, { item_id: "inception", title: "Inception", format: "webm", poster: "http://10.0.0.5:8080/media/inception/poster" });
  const stream = await steps.playback.run(step("capability://media.playback", { item_id: found.item_id }), signal);
  assert.deepEqual(stream, { url: "http://10.0.0.5:8080/media/inception", format: "webm", poster: "http://10.0.0.5:8080/media/inception/poster" });
});

test("a title or id the catalog lacks is a NotFoundError naming it and the titles", async () => {
  const steps = mediaSteps(await loadCatalog(join(MEDIA, "catalog.yaml")), "http://hub.local:8080");
  await assert.rejects(steps.search.run(step("capability://media.search", { title: "The Matrix" }), signal), (e: unknown) =>
    e instanceof NotFoundError && e.message === 'no film matches "The Matrix"; the catalog has: Inception, Interstellar');
  await assert.rejects(steps.playback.run(step("capability://media.playback", { item_id: "matrix" }), signal), (e: unknown) =>
    e instanceof NotFoundError && /no film with id "matrix"; the catalog has: inception \(Inception\), interstellar \(Interstellar\)/.test(e.message));
});

test("missing or empty args are a BadRequestError; a bad base URL is refused up front", async () => {
  const catalog = await loadCatalog(join(MEDIA, "catalog.yaml"));
  const steps = mediaSteps(catalog, "http://hub.local:8080");
  await assert.rejects(steps.search.run(step("capability://media.search", {}), signal), (e: unknown) => e instanceof BadRequestError && /args\.title/.test(e.message));
  await assert.rejects(steps.playback.run(step("capability://media.playback", { item_id: " " }), signal), BadRequestError);
  assert.throws(() => mediaSteps(catalog, "hub.local:8080/x"), BadRequestError);
  assert.throws(() => mediaSteps(catalog, "not a url"), BadRequestError);
});

test("mediaStepHandlers keys the handlers by capability name", async () => {
  const handlers = mediaStepHandlers(await loadCatalog(join(MEDIA, "catalog.yaml")), "http://hub.local:8080");
  assert.deepEqual([...handlers.keys()], ["media.search", "media.playback"]);
});
