/** The agent's configuration as the runtime sees it: agent/config/schema.json after merging and resolving. */
import type { LevelWithSilent } from "pino";

export type Role = "hub" | "member";

/** A capability declared in config (defaults filled in); its probe is checked with the manifest. */
export interface ConfigCapability {
  id: string;
  prio: number;
  cost: number;
  inputs: string[];
  outputs: string[];
  probe?: unknown;
  /** "<skill>:<tool>" that runs plan steps needing it here. */
  tool?: string;
}

/** What agent.yaml + env + flags give, validated, with schema defaults filled in. */
export interface RawConfig {
  role: Role;
  node_id: string | null;
  data_dir: string;
  tenant: string;
  token: string | null;
  api: { host: string; port: number | null; max_body_bytes: number; sse_heartbeat_ms: number };
  bus: { dedup_window: number; max_pending: number; request_timeout_ms: number };
  log: { level: LevelWithSilent };
  /** The hub's nats-server (agent/natsd/). */
  nats: { port: number; host: string; server_bin: string | null; leaf: boolean; monitor_port: number; max_payload: number };
  /** The root cluster: client URLs, leafnode URLs, its JetStream domain and this hub's credentials there. */
  root: { urls: string[]; leaf_urls: string[]; jetstream_domain: string; user: string | null; password: string | null };
  /** The hub's embedded MQTT broker. */
  mqtt: { port: number; host: string };
  /** A member's way to its hub: links in order of preference, the hub's id (null: unknown) and its password (null: the subnet token). */
  hub: { urls: string[]; id: string | null; password: string | null };
  /** Store-and-forward of envelopes leaving this node (agent/outbox/). */
  outbox: {
    uplink: string[]; max_rows: number; max_bytes: number; ttl_s: number; batch: number;
    retry_base_ms: number; retry_cap_ms: number; probe_interval_ms: number; dlq_max_rows: number;
  };
  /** Dedup of received envelopes. */
  inbox: { window: number; max_attempts: number };
  /** The node's manifest, heartbeats and (hub) liveness (agent/directory/). */
  directory: {
    heartbeat_ms: number; ttl_ms: number | null; snapshot_ms: number; kind: "hub" | "member" | "browser" | null;
    prio_base: number; tags: string[]; capabilities: ConfigCapability[]; metered_network: boolean | null;
    sys_root: string; proc_root: string; base_url: string | null;
  };
  /** The scenario runtime (agent/scenarios/). dirs null: <data_dir>/scenarios. */
  scenarios: { enabled: boolean; dirs: string[] | null; max_concurrent_per_node: number; runs_kept: number };
  /** The resolver (agent/resolver/): score weights, routing DSL file, exec tokens, re-planning. */
  resolver: {
    weights: { prio: number; base: number; load: number; rtt: number; cost: number; policy: number; addressed: number };
    routing: string | null; token_ttl_ms: number; startup_sla_ms: number;
  };
  /** The IO router (agent/io/): route_rules.yaml (null: <data_dir>/route_rules.yaml if present). */
  io: { route_rules: string | null };
  /** Skills for /api/tools/call (agent/skills/): dirs null = <data_dir>/skills. */
  skills: { dirs: string[] | null; call_timeout_ms: number };
  /** The microphone pipeline and TTS (agent/voice/, drivers/mic, stt, tts, speaker). */
  voice: {
    enabled: boolean; lang: string; intents: string | null; guard: "push_to_talk" | "none"; listen_window_ms: number;
    mic: { recorder: string; device: string | null };
    vad: { end_of_speech_ms: number; padding_ms: number; min_speech_ms: number; max_utterance_ms: number };
    stt: { engine: "pocketsphinx" | "command"; model_dir: string; dictionary: string; command: string[]; timeout_ms: number };
    tts: { enabled: boolean; voice: string | null; rate: number };
    speaker: { command: string; device: string | null };
  };
  /** A screen for display.play steps (drivers/display). */
  display: { mode: "kiosk" | "mpv" | null; name: string | null; inputs: string[]; prio: number; ack_timeout_ms: number; command: string; args: string[] | null };
  /** A media member's catalog (agent/media/). */
  media: { catalog: string | null; prio: number };
  shutdown_timeout_ms: number;
}

/** The config after role-dependent defaults are applied: every value is concrete. Frozen. */
export interface Config extends Omit<RawConfig, "node_id" | "api"> {
  readonly node_id: string;
  readonly api: RawConfig["api"] & { readonly port: number };
  /** Where the config file came from, if any. */
  readonly config_file: string | null;
}

/** Default API ports per role (ARCHITECTURE.md "HTTP API"). */
export const DEFAULT_API_PORT: Readonly<Record<Role, number>> = { hub: 8777, member: 8778 };
