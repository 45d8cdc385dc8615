/**
 * What a TV member and a media member bring (config display.*, media.*): the display driver
 * with its display.play step and, for a kiosk, its token-free /display page; the media catalog
 * with its media.search and media.playback steps and its token-free /media files. Each comes with
 * the capabilities it adds to the manifest (formats included, so the resolver only binds a
 * stream the screen can show) and, for the display, an internal probe on the driver's health.
 */
import type { CapabilityDecl } from "../../abi/manifest.js";
import type { DisplayDriver } from "../../drivers/display/index.js";
import { loadDriver } from "../../drivers/registry.js";
import type { OpenHandler } from "../api/server.js";
import type { Config } from "../config/config.js";
import type { Component } from "../core/component.js";
import { BadRequestError, ConfigInvalidError } from "../core/errors.js";
import { componentLogger, type Logger } from "../core/logger.js";
import type { InternalCheck } from "../directory/probes/capability-probe.js";
import { loadCatalog } from "../media/catalog.js";
import { MEDIA_PREFIX, mediaHttp } from "../media/media-http.js";
import { mediaStepHandlers } from "../media/media-steps.js";
import type { StepHandler } from "../plans/step-handler.js";
import { driverCheck, driverComponent } from "./driver-component.js";

export const DISPLAY_PREFIX = "/display";

export interface DeviceParts {
  readonly components: readonly Component[];
  readonly declared: readonly CapabilityDecl[];
  readonly internalChecks: Readonly<Record<string, InternalCheck>>;
  /** capability name → the step handler (merged with the skill tools' by the plans wiring). */
  readonly handlers: ReadonlyMap<string, StepHandler>;
  readonly open: readonly OpenHandler[];
}

export const NO_DEVICES: DeviceParts = { components: [], declared: [], internalChecks: {}, handlers: new Map(), open: [] };

/** display.play as a plan step: {url, title, poster?} → the screen's ack and name. */
export function displayStep(driver: DisplayDriver, screenName: string): StepHandler {
  return {
    async run(req, signal) {
      const { url, title, poster } = req.args;
      if (typeof url !== "string" || typeof title !== "string") throw new BadRequestError("display.play needs args.url and args.title as strings");
      const ack = await driver.play({ url, title, play_id: `${req.run_id}/${req.step_id}/${req.attempt}`, ...(typeof poster === "string" && poster !== "" ? { poster } : {}) }, signal);
      return { shown_by: screenName, device: ack.shown_by, ack_ms: Math.round(ack.ack_ms), title };
    },
  };
}

export async function screenParts(config: Config, logger: Logger): Promise<DeviceParts> {
  const parts = { components: [] as Component[], declared: [] as CapabilityDecl[], internalChecks: {} as Record<string, InternalCheck>, handlers: new Map<string, StepHandler>(), open: [] as OpenHandler[] };
  const base = config.directory.base_url;
  const d = config.display;
  if (d.mode !== null) {
    const mod = await loadDriver("display");
    const ctx = { logger: componentLogger(logger, "display") };
    const driver = mod.create({ mode: d.mode, inputs: d.inputs, ackTimeoutMs: d.ack_timeout_ms, command: d.command, ...(d.args === null ? {} : { args: d.args }), ...(base === null ? {} : { pageUrl: `${base}${DISPLAY_PREFIX}` }) }, ctx);
    parts.components.push(driverComponent(driver));
    const health = driverCheck(driver);
    parts.internalChecks.display = () => (driver.ready() ? health() : "down");
    parts.declared.push({ id: mod.DISPLAY_CAPABILITY, prio: d.prio, cost: 0, inputs: d.inputs, outputs: [], probe: { kind: "internal", check: "display" } });
    parts.handlers.set("display.play", displayStep(driver, d.name ?? config.node_id));
    const http = mod.httpHandler(driver);
    if (http !== undefined) parts.open.push({ prefix: DISPLAY_PREFIX, handle: (req, res, path) => http.handle(req, res, path) });
  }
  const m = config.media;
  if (m.catalog !== null) {
    if (base === null) throw new ConfigInvalidError("media.catalog needs directory.base_url: the URL other nodes (a TV) fetch the films from");
    const catalog = await loadCatalog(m.catalog);
    const formats = [...new Set(catalog.items.map((i) => i.format))];
    const mlog = componentLogger(logger, "media");
    parts.declared.push(
      { id: "capability://media.search", prio: m.prio, cost: 0, inputs: [], outputs: [] },
      { id: "capability://media.playback", prio: m.prio, cost: 0, inputs: [], outputs: formats },
    );
    for (const [cap, h] of mediaStepHandlers(catalog, base)) parts.handlers.set(cap, h);
    const http = mediaHttp(catalog, (err) => mlog.warn({ err }, "a media request failed"));
    parts.open.push({ prefix: MEDIA_PREFIX, handle: (req, res, path) => http.handle(req, res, path) });
  }
  return parts;
}
