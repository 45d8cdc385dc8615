/**
 * Test fixture of the skills tests: skill folders with real scripts in a temp dir (removed in
 * t.after), a Tool for the runner without a skill.yaml, a stand-in for a member's HTTP API on a
 * free port (closed in t.after), and a subnet directory and local tools in memory.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestContext } from "node:test";
import type { CapacityItem } from "../../abi/manifest.js";
import { strict as assert } from "node:assert";
import { AdaosError, NotFoundError } from "../core/errors.js";
import type { SubnetNodeView, SubnetReader } from "../directory/subnet-port.js";
import type { LocalTools, ToolCallRequest, ToolCallResult } from "./skill-host.js";
import type { Tool } from "./skill-load.js";

/** A temp dir for the test, removed after it. */
export function tempDir(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), "adaos-skills-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Writes <root>/<name>/skill.yaml and the given files (scripts are made executable). */
export function writeSkill(root: string, name: string, yaml: string, files: Readonly<Record<string, string>> = {}): string {
  const dir = join(root, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "skill.yaml"), yaml);
  for (const [file, text] of Object.entries(files)) writeFileSync(join(dir, file), text, { mode: 0o755 });
  return dir;
}

/** A tool running `script` (a /bin/sh script body) from `dir`, as the loader would build it. */
export function shellTool(dir: string, script: string, extra: Partial<Tool> = {}): Tool {
  const file = join(dir, `tool-${Math.random().toString(36).slice(2)}.sh`);
  writeFileSync(file, `#!/bin/sh\n${script}\n`, { mode: 0o755 });
  return { skill: "t", name: "run", argv: [file], cwd: dir, ...extra };
}

export interface Received {
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

export interface Member {
  readonly url: string;
  readonly received: Received[];
}

/** A member's API: `answer` handles POST /api/tools/call (after the body is read). */
export async function startMember(t: TestContext, answer: (req: Received, res: ServerResponse) => void): Promise<Member> {
  const received: Received[] = [];
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const r = { headers: req.headers, body: Buffer.concat(chunks).toString("utf8") };
      received.push(r);
      if (req.method !== "POST" || req.url !== "/api/tools/call") {
        res.writeHead(404).end();
        return;
      }
      answer(r, res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  t.after(() => {
    server.closeAllConnections();
    server.close();
  });
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, received };
}

/** A URL where nothing listens: a port that was just free. */
export async function deadUrl(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}`;
}

/** A directory node as a hub's API shows it. */
export function node(node_id: string, extra: { base_url?: string | null; online?: boolean; last_seen?: number; skills?: readonly CapacityItem[] } = {}): SubnetNodeView {
  return {
    node_id,
    kind: "member",
    online: extra.online ?? true,
    last_seen: extra.last_seen ?? 1_700_000_000,
    base_url: extra.base_url ?? null,
    telemetry: null,
    capabilities: [],
    capacity: { io: [], skills: extra.skills ?? [], scenarios: [] },
  };
}

export function subnetOf(nodes: readonly SubnetNodeView[]): SubnetReader {
  return { list: () => nodes, get: (id) => nodes.find((n) => n.node_id === id) };
}

/** Local tools in memory: the skills it has answer {echo: arguments}; others are 404. */
export class FakeLocal implements LocalTools {
  readonly calls: ToolCallRequest[] = [];

  constructor(private readonly skills: readonly string[] = []) {}

  has(skill: string): boolean {
    return this.skills.includes(skill);
  }

  list(): CapacityItem[] {
    return this.skills.map((name) => ({ name, version: "1.0.0", active: true }));
  }

  call(req: ToolCallRequest): Promise<ToolCallResult> {
    this.calls.push(req);
    const skill = req.tool.split(":")[0] ?? "";
    if (!this.has(skill)) return Promise.reject(new NotFoundError(`this node has no skill "${skill}" (its skills: ${this.skills.join(", ")})`));
    return Promise.resolve({ ok: true, result: { echo: req.arguments ?? {} }, trace_id: req.request_id ?? "generated" });
  }
}

/** The AdaosError `p` rejects with; fails the test when it resolves. */
export async function failure(p: Promise<unknown>): Promise<AdaosError> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof AdaosError, `expected an AdaosError, got ${String(err)}`);
    return err;
  }
  assert.fail("the call succeeded, but it should not have");
}
