/**
 * A member's hub URL list, `nats://H:4222,mqtt://H:1883`: the links to try, in order of
 * preference. Parsed once, with every problem reported at the same time (`hub.urls[1] "…": why`).
 * Credentials never go in a URL (they would end up in logs and events): the member logs in with
 * hub.password or the subnet token.
 */
import { ConfigInvalidError, type Issue } from "../core/errors.js";
import type { TransportName } from "../transport/transport.js";

export const DEFAULT_PORTS: Readonly<Record<TransportName, number>> = { nats: 4222, mqtt: 1883 };
/** The same limit as the config schema (hub.urls maxItems). */
export const MAX_HUB_URLS = 8;

export interface HubUrl {
  readonly transport: TransportName;
  /** Canonical form, `<scheme>://<host>:<port>`, safe to log and to put in events. */
  readonly url: string;
  readonly host: string;
  readonly port: number;
}

/** An entry as it may be quoted in an error: credentials, if any, replaced by `***`. */
function redact(entry: string): string {
  return entry.replace(/\/\/[^/@]*@/, "//***@");
}

const SCHEMES: Readonly<Record<string, TransportName>> = { "nats:": "nats", "mqtt:": "mqtt" };

/** One URL, or the reason it is not a hub URL. */
function parseOne(raw: string): HubUrl | string {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    return "not a URL (expected nats://host:port or mqtt://host:port)";
  }
  const transport = SCHEMES[u.protocol];
  if (transport === undefined) return `unsupported scheme "${u.protocol}//" (use nats:// or mqtt://)`;
  if (u.username !== "" || u.password !== "") return "credentials do not go in a hub URL (use hub.password or ADAOS_EDGE_TOKEN)";
  if (u.hostname === "") return "no host";
  if (u.pathname !== "" && u.pathname !== "/") return `unexpected path "${u.pathname}"`;
  if (u.search !== "" || u.hash !== "") return "unexpected query or fragment";
  const port = u.port === "" ? DEFAULT_PORTS[transport] : Number(u.port);
  if (!Number.isInteger(port) || port < 1 || port > 65535) return `port ${u.port} is out of range 1-65535`;
  return { transport, url: `${transport}://${u.hostname}:${port}`, host: u.hostname, port };
}

/**
 * The hub URLs in order of preference, from a comma list (flag, env) or a list of such lists
 * (config). Throws ConfigInvalidError naming every bad entry; an empty list is an error too
 * (a member without a hub does not build a link).
 */
export function parseHubUrls(input: string | readonly string[], where = "hub.urls"): HubUrl[] {
  const raw = (typeof input === "string" ? [input] : input).flatMap((s) => s.split(",")).map((s) => s.trim());
  const base = `/${where.replace(/\./g, "/")}`;
  if (raw.every((s) => s === "")) raw.length = 0;
  const issues: Issue[] = [];
  const urls: HubUrl[] = [];
  const seen = new Set<string>();
  raw.forEach((entry, i) => {
    const parsed = entry === "" ? "empty entry" : parseOne(entry);
    const problem = typeof parsed === "string" ? parsed : seen.has(parsed.url) ? `${parsed.url} is listed twice` : undefined;
    if (problem !== undefined) return void issues.push({ pointer: `${base}/${i}`, message: `"${redact(entry)}": ${problem}` });
    if (typeof parsed !== "string") {
      seen.add(parsed.url);
      urls.push(parsed);
    }
  });
  if (raw.length === 0) issues.push({ pointer: base, message: "no hub URL given" });
  if (raw.length > MAX_HUB_URLS) issues.push({ pointer: base, message: `${raw.length} URLs; at most ${MAX_HUB_URLS}` });
  if (issues.length > 0) {
    const lines = issues.map((is) => `  ${is.pointer} ${is.message}`).join("\n");
    throw new ConfigInvalidError(`invalid ${where} (expected e.g. nats://hub.local:4222,mqtt://hub.local:1883):\n${lines}`, { issues });
  }
  return urls;
}
