/**
 * The media member's plan steps: capability://media.search finds a film by title in the
 * catalog, capability://media.playback turns its id into the URLs a display fetches.
 * Rules: outputs carry URLs under the node's announced base_url (never a local path: the step's
 * outputs go to other nodes); a title or id the catalog does not have is a NotFoundError that
 * names it and lists the catalog's titles, so a voice reply can say what there is; bad
 * arguments are a BadRequestError.
 */
import { BadRequestError, NotFoundError } from "../core/errors.js";
import type { StepHandler } from "../plans/step-handler.js";
import type { Catalog, CatalogItem } from "./catalog.js";
import { MEDIA_PREFIX } from "./media-http.js";

export interface MediaSteps {
  /** media.search: {title} → {item_id, title, poster?, format}. */
  readonly search: StepHandler;
  /** media.playback: {item_id} → {url, format, poster?}. */
  readonly playback: StepHandler;
}

/** The two handlers; baseUrl is the node's announced base_url (http(s), no trailing slash needed). */
export function mediaSteps(catalog: Catalog, baseUrl: string): MediaSteps {
  const base = checkBaseUrl(baseUrl);
  const posterUrl = (item: CatalogItem): { poster?: string } => (item.poster === undefined ? {} : { poster: `${base}${MEDIA_PREFIX}/${item.id}/poster` });
  return {
    search: {
      run: (req) => settle(() => {
        const title = stringArg(req.args, "title");
        const hit = catalog.search(title);
        if (hit === undefined) {
          throw new NotFoundError(`no film matches "${title}"; the catalog has: ${catalog.titles().join(", ")}`);
        }
        const item = catalog.get(hit.item_id) as CatalogItem;
        return { item_id: hit.item_id, title: hit.title, format: hit.format, ...posterUrl(item) };
      }),
    },
    playback: {
      run: (req) => settle(() => {
        const id = stringArg(req.args, "item_id");
        const item = catalog.get(id);
        if (item === undefined) {
          throw new NotFoundError(`no film with id "${id}"; the catalog has: ${catalog.items.map((i) => `${i.id} (${i.title})`).join(", ")}`);
        }
        return { url: `${base}${MEDIA_PREFIX}/${item.id}`, format: item.format, ...posterUrl(item) };
      }),
    },
  };
}

/** The handlers keyed by capability name (without capability://), as StepHandlers wants them. */
export function mediaStepHandlers(catalog: Catalog, baseUrl: string): Map<string, StepHandler> {
  const steps = mediaSteps(catalog, baseUrl);
  return new Map([["media.search", steps.search], ["media.playback", steps.playback]]);
}

/** fn's result as a promise; what it throws becomes the rejection. */
function settle<T>(fn: () => T): Promise<T> {
  return new Promise((resolve) => resolve(fn()));
}

function stringArg(args: Readonly<Record<string, unknown>>, name: string): string {
  const value = args[name];
  if (typeof value !== "string" || value.trim().length === 0) {
    throw new BadRequestError(`the step needs args.${name} as a non-empty string`, { issues: [{ pointer: `/args/${name}`, message: "must be a non-empty string" }] });
  }
  return value.trim();
}

function checkBaseUrl(baseUrl: string): string {
  let url: URL;
  try {
    url = new URL(baseUrl);
  } catch {
    throw new BadRequestError(`the media base URL ${JSON.stringify(baseUrl)} is not a URL; set the node's base_url`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") throw new BadRequestError(`the media base URL must be http(s), got ${baseUrl}`);
  return baseUrl.replace(/\/+$/, "");
}
