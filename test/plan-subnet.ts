/**
 * Plans end-to-end pieces: a node's agent.yaml with skills whose tools are shell scripts, declared
 * as runnable capabilities (directory.capabilities[].tool) with their formats, and the hub's view
 * of runs and events. Every script prints one JSON object naming the node it ran on and echoing
 * the arguments it got, so a test sees where each step ran and what reached it. The display tool
 * writes started.json into its skill folder, then holds for `hold_s` seconds (a slow screen).
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ApiClient } from "../agent/cli/api-client.js";
import { freePort, tempDir, TOKEN } from "./helpers.js";

interface After {
  after(fn: () => void | Promise<void>): void;
}

/** One runnable capability of a node: which skill tool serves it and how good the node is at it. */
export interface Runnable {
  readonly need: "nlp.intent.parse" | "media.search" | "media.playback" | "ui.render.video";
  readonly prio: number;
  readonly inputs?: readonly string[];
  readonly outputs?: readonly string[];
}

export interface NodeSpec {
  readonly kind?: "browser";
  readonly prio_base?: number;
  readonly tags?: readonly string[];
  readonly metered?: boolean;
  readonly can: readonly Runnable[];
}

export interface NodeFiles {
  /** agent.yaml, for ADAOS_EDGE_CONFIG. */
  readonly config: string;
  /** Where the skills live (the display tool's started.json appears under screen/). */
  readonly skills: string;
  /** The API port the node must be started on (its base_url announces it). */
  readonly port: number;
}

const TOOL: Record<Runnable["need"], { skill: string; tool: string; body: (node: string) => string }> = {
  "nlp.intent.parse": { skill: "nlp", tool: "parse", body: (n) => `printf '{"intent":"media.find_and_show","title":"Inception","node":"${n}","got":%s}\\n' "$in"` },
  "media.search": { skill: "media", tool: "search", body: (n) => `printf '{"item_id":"inception","node":"${n}","got":%s}\\n' "$in"` },
  "media.playback": { skill: "media", tool: "stream", body: (n) => `printf '{"url":"http://${n}.local/hls/inception.m3u8","node":"${n}","got":%s}\\n' "$in"` },
  "ui.render.video": {
    skill: "screen", tool: "show",
    body: (n) => [
      `printf '%s' "$in" > started.json`,
      `hold=$(printf '%s' "$in" | sed -n 's/.*"hold_s":\\([0-9.]*\\).*/\\1/p')`,
      `sleep "\${hold:-0}"`,
      `printf '{"shown":true,"node":"${n}","got":%s}\\n' "$in"`,
    ].join("\n"),
  },
};

/** Skill folders and agent.yaml for `node`; `extra` is merged into the config (e.g. resolver). */
export async function nodeFiles(t: After, node: string, spec: NodeSpec, extra: Record<string, unknown> = {}): Promise<NodeFiles> {
  const root = tempDir(t, `adaos-plan-${node}-`);
  const skills = join(root, "skills");
  const bySkill = new Map<string, Map<string, string>>();
  for (const r of spec.can) {
    const { skill, tool, body } = TOOL[r.need];
    const tools = bySkill.get(skill) ?? new Map<string, string>();
    tools.set(tool, `#!/bin/sh\nin=$(cat)\n${body(node)}\n`);
    bySkill.set(skill, tools);
  }
  for (const [skill, tools] of bySkill) {
    const dir = join(skills, skill);
    mkdirSync(dir, { recursive: true });
    const yaml = [`name: ${skill}`, "version: 1.0.0", "tools:"];
    for (const [tool, script] of tools) {
      writeFileSync(join(dir, `${tool}.sh`), script, { mode: 0o755 });
      yaml.push(`  ${tool}:`, `    argv: ["./${tool}.sh"]`, "    timeout_ms: 20000");
    }
    writeFileSync(join(dir, "skill.yaml"), `${yaml.join("\n")}\n`);
  }
  const port = await freePort();
  const config = {
    directory: {
      heartbeat_ms: 1000,
      base_url: `http://127.0.0.1:${port}`,
      ...(spec.kind === undefined ? {} : { kind: spec.kind }),
      ...(spec.prio_base === undefined ? {} : { prio_base: spec.prio_base }),
      ...(spec.tags === undefined ? {} : { tags: spec.tags }),
      ...(spec.metered === undefined ? {} : { metered_network: spec.metered }),
      capabilities: spec.can.map((r) => ({
        id: `capability://${r.need}`, prio: r.prio, tool: `${TOOL[r.need].skill}:${TOOL[r.need].tool}`,
        ...(r.inputs === undefined ? {} : { inputs: r.inputs }), ...(r.outputs === undefined ? {} : { outputs: r.outputs }),
      })),
    },
    skills: { dirs: [skills] },
    ...extra,
  };
  const file = join(root, "agent.yaml");
  writeFileSync(file, `${JSON.stringify(config, null, 2)}\n`); // JSON is YAML
  return { config: file, skills, port };
}

export interface StepView {
  id: string; need: string; state: string; node_id: string | null; attempts: number;
  outputs?: Record<string, unknown>; error?: { code: string; message: string };
}

export interface RunView {
  run_id: string; correlation_id: string; state: string; steps: StepView[];
  route_changes: { step_id: string; from: string | null; to: string | null; reason: string; detected_to_bound_ms: number }[];
  error?: { code: string; message: string };
}

export interface SeenEvent {
  readonly at: number;
  readonly name: string;
  readonly correlation_id: string;
  readonly payload: Record<string, unknown>;
}

/** The hub's events matching `pattern` as they stream in; resolves once the stream is open. */
export async function collect(t: After, url: string, pattern: string): Promise<SeenEvent[]> {
  const seen: SeenEvent[] = [];
  const stop = new AbortController();
  t.after(() => stop.abort());
  const client = new ApiClient(url, TOKEN, "test");
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  void (async () => {
    try {
      for await (const m of client.events(`/api/events/stream?pattern=${encodeURIComponent(pattern)}`, stop.signal)) {
        open();
        if (m.type !== "event" || m.data === "") continue;
        const e = JSON.parse(m.data) as { event_name: string; correlation_id: string; payload: Record<string, unknown> };
        seen.push({ at: performance.now(), name: e.event_name, correlation_id: e.correlation_id, payload: e.payload });
      }
    } catch {
      // the stream ends with the test
    }
  })();
  await opened;
  return seen;
}
