/**
 * The subnet directory as a table for `adaos-edge nodes`: one row per node with its id, role,
 * online state, load, rtt to the hub, battery, capabilities (those not up marked with their
 * status) and how long ago it was last seen. Pure: rows in, lines out; missing values are "-".
 */

export interface NodeRow {
  readonly node_id: string;
  readonly kind?: unknown;
  readonly roles?: unknown;
  readonly online?: unknown;
  readonly last_seen?: unknown;
  readonly telemetry?: unknown;
  readonly capabilities?: unknown;
}

const HEADER = ["NODE", "ROLE", "ONLINE", "LOAD", "RTT", "BATTERY", "CAPABILITIES", "LAST SEEN"] as const;

interface Telemetry {
  load?: unknown;
  battery?: { percent?: unknown; charging?: unknown } | null;
  rtt_to?: Record<string, unknown>;
}

function role(n: NodeRow): string {
  if (typeof n.kind === "string") return n.kind;
  return Array.isArray(n.roles) && typeof n.roles[0] === "string" ? n.roles[0] : "-";
}

function load(t: Telemetry | null): string {
  return typeof t?.load === "number" ? t.load.toFixed(2) : "-";
}

function rtt(t: Telemetry | null): string {
  const v = t?.rtt_to?.hub;
  return typeof v === "number" ? `${v < 10 ? v.toFixed(1) : Math.round(v)} ms` : "-";
}

function battery(t: Telemetry | null): string {
  const b = t?.battery;
  if (b === null || b === undefined || typeof b.percent !== "number") return "-";
  return `${Math.round(b.percent)}%${b.charging === true ? " charging" : ""}`;
}

function capabilities(n: NodeRow): string {
  if (!Array.isArray(n.capabilities) || n.capabilities.length === 0) return "-";
  return n.capabilities
    .map((c: { id?: unknown; status?: unknown }) => {
      const id = typeof c.id === "string" ? c.id.replace(/^capability:\/\//, "") : "?";
      return typeof c.status !== "string" || c.status === "up" ? id : `${id}(${c.status})`;
    })
    .join(",");
}

/** "3s ago", "4m ago", "2h ago", "5d ago"; "-" when never. */
export function ago(lastSeenS: unknown, nowMs: number): string {
  if (typeof lastSeenS !== "number" || lastSeenS <= 0) return "-";
  const s = Math.max(0, Math.round(nowMs / 1000 - lastSeenS));
  if (s < 120) return `${s}s ago`;
  if (s < 7200) return `${Math.round(s / 60)}m ago`;
  if (s < 172_800) return `${Math.round(s / 3600)}h ago`;
  return `${Math.round(s / 86_400)}d ago`;
}

export function nodesTable(nodes: readonly NodeRow[], nowMs: number): string[] {
  const rows = nodes.map((n) => {
    const t = (typeof n.telemetry === "object" ? n.telemetry : null) as Telemetry | null;
    return [n.node_id, role(n), n.online === true ? "yes" : "no", load(t), rtt(t), battery(t), capabilities(n), ago(n.last_seen, nowMs)];
  });
  const all = [[...HEADER], ...rows];
  const widths = HEADER.map((_, i) => Math.max(...all.map((r) => (r[i] ?? "").length)));
  return all.map((r) => r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i] ?? 0))).join("  ").trimEnd());
}
