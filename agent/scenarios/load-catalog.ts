/**
 * What a scenario refers to, checked against the event catalog (only when the loader is given
 * one), and its declared effects (always).
 *
 * Catalog: an event trigger's and a wait's event must be registered (the version given, or any
 * version); publish must name an event of kind "event", call one of kind "command"; say needs
 * ui.say@1 and notify ui.notify@1. A payload without any template is final already, so it is
 * validated against the event's schema now instead of failing on the bus later.
 * Effects: when the file lists `effects`, every event a step or compensation publishes (publish,
 * say → ui.say@1, notify → ui.notify@1) must be in it. Calls are requests, not effects to declare.
 */
import type { EventCatalog, CatalogEvent } from "../registry/catalog.js";
import { issuesFromAjv } from "../registry/issues.js";
import type { Action, Trigger } from "./scenario.js";
import type { ActionSite } from "./load-actions.js";
import { pointer, type Problems } from "./load-problems.js";
import { holdsTemplate, refKey, type EventRef } from "./load-values.js";

const SAY: EventRef = { name: "ui.say", version: 1 };
const NOTIFY: EventRef = { name: "ui.notify", version: 1 };

/** An effect as written, normalised to `name@N`. */
export interface DeclaredEffect {
  readonly key: string;
  readonly at: string;
}

function article(kind: string): string {
  return `${/^[aeiou]/.test(kind) ? "an" : "a"} ${kind}`;
}

function shown(ref: EventRef): string {
  return ref.version === undefined ? ref.name : refKey(ref);
}

function registered(catalog: EventCatalog, ref: EventRef): boolean {
  return ref.version === undefined ? catalog.list().some((e) => e.fqdn === ref.name) : catalog.get(ref.name, ref.version) !== undefined;
}

/** The event, which must be of `kind`; undefined with an issue otherwise. */
function ofKind(catalog: EventCatalog, ref: EventRef, kind: "event" | "command", at: string, problems: Problems): CatalogEvent | undefined {
  const found = catalog.get(ref.name, ref.version ?? 1);
  if (found === undefined) problems.add(at, `unknown ${kind} ${refKey(ref)}: the event catalog does not have it`);
  else if (found.entry.kind !== kind) problems.add(at, `${refKey(ref)} is ${article(found.entry.kind)}, not ${article(kind)}${kind === "event" && found.entry.kind === "command" ? " (send a command with call)" : ""}`);
  else return found;
  return undefined;
}

/** Any version of an event when `version` is absent, as triggers and waits take it. */
function checkRegistered(catalog: EventCatalog, name: string, version: number | undefined, at: string, problems: Problems): void {
  const ref: EventRef = version === undefined ? { name } : { name, version };
  if (!registered(catalog, ref)) problems.add(at, `unknown event ${shown(ref)}: the event catalog does not have it`);
}

/**
 * A literal payload against the event's schema (on a copy: the validators fill defaults in);
 * `fieldAt` maps a pointer into the payload to one into the file.
 */
function validateLiteral(found: CatalogEvent, payload: unknown, fieldAt: (p: string) => string, problems: Problems): void {
  if (holdsTemplate(payload)) return;
  const validate = found.validatePayload;
  if (validate(structuredClone(payload))) return;
  const key = refKey({ name: found.entry.fqdn, version: found.entry.version });
  for (const issue of issuesFromAjv(validate.errors)) problems.add(fieldAt(issue.pointer === "/" ? "" : issue.pointer), `${issue.message} (payload of ${key})`);
}

function checkAction(site: ActionSite, catalog: EventCatalog, problems: Problems): void {
  const { action, at } = site;
  switch (action.kind) {
    case "publish":
    case "call": {
      const isCall = action.kind === "call";
      const ref = { name: isCall ? action.command : action.event, version: action.version };
      const found = ofKind(catalog, ref, isCall ? "command" : "event", pointer(at, isCall ? "command" : "event"), problems);
      if (found !== undefined) validateLiteral(found, action.payload, (p) => `${at}/payload${p}`, problems);
      return;
    }
    case "say":
    case "notify": {
      const ref = action.kind === "say" ? SAY : NOTIFY;
      const found = catalog.get(ref.name, ref.version ?? 1);
      if (found === undefined) problems.add(at, `${action.kind} needs ${refKey(ref)}, which the event catalog does not have`);
      else validateLiteral(found, uiPayload(action), (p) => (site.short ? at : `${at}${p}`), problems);
      return;
    }
    case "wait":
      checkRegistered(catalog, action.event, action.version, pointer(at, "event"), problems);
      return;
    default:
      return;
  }
}

/** The payload actions.ts sends for a say or notify (before templates are filled). */
function uiPayload(action: Extract<Action, { kind: "say" | "notify" }>): Record<string, unknown> {
  return action.kind === "say"
    ? { text: action.text, ...(action.voice === undefined ? {} : { voice: action.voice }), ...(action.lang === undefined ? {} : { lang: action.lang }) }
    : { text: action.text, level: action.level, ...(action.title === undefined ? {} : { title: action.title }) };
}

export interface CatalogInput {
  readonly triggers: readonly { readonly trigger: Trigger; readonly at: string }[];
  readonly sites: readonly ActionSite[];
  readonly effects: readonly DeclaredEffect[];
}

export function checkCatalog(input: CatalogInput, catalog: EventCatalog, problems: Problems): void {
  for (const { trigger, at } of input.triggers) {
    if (trigger.kind === "event") checkRegistered(catalog, trigger.event, trigger.version, pointer(at, "event"), problems);
  }
  for (const site of input.sites) checkAction(site, catalog, problems);
  for (const effect of input.effects) {
    const at = effect.key.lastIndexOf("@");
    ofKind(catalog, { name: effect.key.slice(0, at), version: Number(effect.key.slice(at + 1)) }, "event", effect.at, problems);
  }
}

/** The event an action publishes, as `name@N`, if it publishes one. */
function published(action: Action): string | undefined {
  switch (action.kind) {
    case "publish": return refKey({ name: action.event, version: action.version });
    case "say": return refKey(SAY);
    case "notify": return refKey(NOTIFY);
    default: return undefined;
  }
}

export function checkEffects(sites: readonly ActionSite[], effects: readonly string[], problems: Problems): void {
  const declared = new Set(effects);
  for (const { action, at } of sites) {
    const key = published(action);
    if (key !== undefined && !declared.has(key)) problems.add(at, `publishes ${key}, which effects does not declare`);
  }
}
