/**
 * One action of a step or compensation, from its YAML form to the model's Action: names split
 * into name and version (call and publish default to @1, wait keeps "any version"), payloads
 * default to {}, say and notify take a text or an object, durations become ms (wait's timeout
 * defaults to 30s). Templates are checked where actions.ts fills them (say and notify text and
 * title, call target and payload, publish payload, set values); voice and lang take literal text.
 * Input the schema already refused gives undefined (the issue is on the list).
 */
import type { Action, NotifyAction } from "./scenario.js";
import { pointer, isRecord, type Problems } from "./load-problems.js";
import type { ActionKey } from "./load-schema.js";
import { checkExpression, checkLiteral, checkTemplates, durationAt, parseRef } from "./load-values.js";

export const DEFAULT_WAIT_TIMEOUT_MS = 30_000;

const LEVELS: readonly NotifyAction["level"][] = ["info", "success", "warning", "error"];

/** Where an action is written, for the catalog and effects checks. */
export interface ActionSite {
  readonly action: Action;
  /** Pointer of the action's value, e.g. `/steps/2/publish` or `/steps/2/compensate/call`. */
  readonly at: string;
  /** say or notify written as plain text (so a payload field has no pointer of its own). */
  readonly short: boolean;
}

function text(v: unknown): string | undefined {
  return typeof v === "string" ? v : undefined;
}

export function buildAction(key: ActionKey, raw: unknown, at: string, problems: Problems): Action | undefined {
  switch (key) {
    case "call":
    case "publish": {
      if (!isRecord(raw)) return undefined;
      const ref = text(key === "call" ? raw.command : raw.event);
      const payload = raw.payload ?? {};
      checkTemplates(payload, pointer(at, "payload"), problems);
      if (ref === undefined || !isRecord(payload)) return undefined;
      const { name, version = 1 } = parseRef(ref);
      if (key === "publish") return { kind: "publish", event: name, version, payload };
      const target = text(raw.target);
      if (target !== undefined) checkTemplates(target, pointer(at, "target"), problems);
      return { kind: "call", command: name, version, payload, ...(target === undefined ? {} : { target }) };
    }
    case "say": {
      const body = typeof raw === "string" ? { text: raw } : raw;
      if (!isRecord(body)) return undefined;
      const [t, voice, lang] = [text(body.text), text(body.voice), text(body.lang)];
      checkTemplates(t, typeof raw === "string" ? at : pointer(at, "text"), problems);
      checkLiteral(voice, pointer(at, "voice"), "a voice", problems);
      checkLiteral(lang, pointer(at, "lang"), "a lang", problems);
      if (t === undefined) return undefined;
      return { kind: "say", text: t, ...(voice === undefined ? {} : { voice }), ...(lang === undefined ? {} : { lang }) };
    }
    case "notify": {
      const body = typeof raw === "string" ? { text: raw } : raw;
      if (!isRecord(body)) return undefined;
      const [t, title] = [text(body.text), text(body.title)];
      const level = LEVELS.find((l) => l === (body.level ?? "info"));
      checkTemplates(t, typeof raw === "string" ? at : pointer(at, "text"), problems);
      checkTemplates(title, pointer(at, "title"), problems);
      if (t === undefined || level === undefined) return undefined;
      return { kind: "notify", text: t, level, ...(title === undefined ? {} : { title }) };
    }
    case "wait": {
      if (!isRecord(raw)) return undefined;
      const ref = text(raw.event);
      checkExpression(raw.filter, pointer(at, "filter"), problems);
      // A bad timeout is on the list already; the default stands in so the event still gets checked.
      const timeout = raw.timeout === undefined ? DEFAULT_WAIT_TIMEOUT_MS : durationAt(raw.timeout, pointer(at, "timeout"), "wait timeout", problems, { positive: true });
      const filter = text(raw.filter);
      if (ref === undefined) return undefined;
      const { name, version } = parseRef(ref);
      return { kind: "wait", event: name, ...(version === undefined ? {} : { version }), ...(filter === undefined ? {} : { filter }), timeout_ms: timeout ?? DEFAULT_WAIT_TIMEOUT_MS };
    }
    case "set": {
      if (!isRecord(raw)) return undefined;
      checkTemplates(raw, at, problems);
      return { kind: "set", values: raw };
    }
    case "sleep": {
      const ms = durationAt(raw, at, "sleep", problems);
      return ms === undefined ? undefined : { kind: "sleep", ms };
    }
  }
}
