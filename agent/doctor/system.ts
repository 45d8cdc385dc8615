/**
 * Everything the doctor's checks learn from outside the process goes through this narrow
 * interface, so every check is tested with a fake. realSystem() is the one implementation that
 * touches the machine: commands run without a shell and with a timeout, and the SQLite addon is
 * loaded only when a check opens a database (an addon that cannot load is a finding, not a crash).
 */
import { execFile } from "node:child_process";
import { constants } from "node:fs";
import { access, mkdir, readFile, rm, rmdir, stat, statfs } from "node:fs/promises";
import { get } from "node:http";
import { createServer } from "node:net";
import { userInfo } from "node:os";
import { dirname, resolve } from "node:path";

export type RunResult =
  | { readonly kind: "exited"; readonly code: number; readonly stdout: string; readonly stderr: string }
  | { readonly kind: "not-found" }
  | { readonly kind: "timeout" }
  | { readonly kind: "error"; readonly message: string };

/** Free and total bytes of a filesystem, and its type (statfs f_type magic number). */
export interface Space {
  readonly availableBytes: number;
  readonly totalBytes: number;
  readonly type: number;
}

/** "free" when a listener could be opened (and was closed again), else the errno code. */
export type ListenResult = "free" | { readonly code: string; readonly message: string };

export interface HttpAnswer {
  readonly status: number;
  readonly body: string;
}

/** The few things the data-dir check does with a database. */
export interface SqliteFile {
  /** Run a pragma and return its single value (`PRAGMA journal_mode = WAL` → "wal"). */
  pragma(source: string): unknown;
  /** Run one statement that returns no rows. */
  run(sql: string, ...params: readonly unknown[]): void;
  /** The first column of the first row, or undefined. */
  value(sql: string, ...params: readonly unknown[]): unknown;
  close(): void;
}

export interface System {
  readonly platform: string;
  readonly nodeVersion: string;
  /** glibc version of the running process ("2.36"), or null when the C library is not glibc. */
  glibcVersion(): string | null;
  userName(): string;
  run(command: string, args: readonly string[], timeoutMs: number): Promise<RunResult>;
  /** The file's text, or null when it cannot be read. */
  readFile(path: string): Promise<string | null>;
  exists(path: string): Promise<boolean>;
  /** mkdir -p; the first directory it had to create, or null when the path existed. Throws the errno error. */
  ensureDir(path: string): Promise<string | null>;
  /** rmdir: removes the directory only when it is empty. */
  removeEmptyDir(path: string): Promise<void>;
  /** Throws the errno error when the current user cannot write into the directory. */
  checkWritable(path: string): Promise<void>;
  removeFile(path: string): Promise<void>;
  statfs(path: string): Promise<Space>;
  tryListen(host: string, port: number): Promise<ListenResult>;
  httpGet(url: string, timeoutMs: number): Promise<HttpAnswer | null>;
  openSqlite(path: string): Promise<SqliteFile>;
}

/** Enough for `--version` and `-l` listings; more is cut off as an error. */
const MAX_OUTPUT_BYTES = 1024 * 1024;
const KILL_SIGNAL = "SIGKILL";

export function realSystem(): System {
  return {
    platform: process.platform,
    nodeVersion: process.versions.node,
    glibcVersion: () => {
      const header = (process.report.getReport() as { header?: { glibcVersionRuntime?: string } }).header;
      return header?.glibcVersionRuntime ?? null;
    },
    userName: () => {
      try {
        return userInfo().username;
      } catch {
        return `uid ${process.getuid?.() ?? "?"}`;
      }
    },
    run,
    readFile: (path) => readFile(path, "utf8").catch(() => null),
    exists: (path) => access(path).then(() => true, () => false),
    ensureDir,
    removeEmptyDir: (path) => rmdir(path),
    checkWritable: (path) => access(path, constants.W_OK | constants.X_OK),
    removeFile: (path) => rm(path, { force: true }),
    statfs: async (path) => {
      const s = await statfs(path);
      return { availableBytes: s.bavail * s.bsize, totalBytes: s.blocks * s.bsize, type: s.type };
    },
    tryListen,
    httpGet,
    openSqlite,
  };
}

function run(command: string, args: readonly string[], timeoutMs: number): Promise<RunResult> {
  return new Promise((resolve) => {
    // LC_ALL=C: the checks read the output, so it must not be translated.
    const options = { timeout: timeoutMs, killSignal: KILL_SIGNAL, maxBuffer: MAX_OUTPUT_BYTES, env: { ...process.env, LC_ALL: "C" } } as const;
    execFile(command, [...args], options, (err, stdout, stderr) => {
      if (err === null) return resolve({ kind: "exited", code: 0, stdout, stderr });
      if (err.code === "ENOENT") return resolve({ kind: "not-found" });
      if (err.killed === true && err.signal === KILL_SIGNAL) return resolve({ kind: "timeout" });
      if (typeof err.code === "number") return resolve({ kind: "exited", code: err.code, stdout, stderr });
      resolve({ kind: "error", message: err.signal ? `killed by ${err.signal}` : err.message });
    });
  });
}

/**
 * mkdir -p by hand: Node 22's `mkdir(…, {recursive: true})` never returns when the kernel answers
 * ENOENT for a directory whose parent exists (e.g. under /proc), and it spins a libuv thread.
 */
async function ensureDir(path: string): Promise<string | null> {
  const missing: string[] = [];
  for (let d = resolve(path); ; d = dirname(d)) {
    const found = await stat(d).catch((err: NodeJS.ErrnoException) => {
      if (err.code === "ENOENT") return null;
      throw err;
    });
    if (found !== null) {
      if (!found.isDirectory()) throw Object.assign(new Error(`${d} is not a directory`), { code: "ENOTDIR" });
      break;
    }
    missing.unshift(d);
    if (dirname(d) === d) break;
  }
  const made: string[] = [];
  try {
    for (const d of missing) {
      await mkdir(d, { mode: 0o750 });
      made.unshift(d);
    }
  } catch (err) {
    for (const d of made) await rmdir(d).catch(() => undefined);
    throw err;
  }
  return missing[0] ?? null;
}

function tryListen(host: string, port: number): Promise<ListenResult> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", (err: NodeJS.ErrnoException) => resolve({ code: err.code ?? "ERROR", message: err.message }));
    server.listen({ host, port, exclusive: true }, () => server.close(() => resolve("free")));
  });
}

function httpGet(url: string, timeoutMs: number): Promise<HttpAnswer | null> {
  return new Promise((resolve) => {
    const req = get(url, { timeout: timeoutMs }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => {
        if (body.length + chunk.length <= MAX_OUTPUT_BYTES) body += chunk;
      });
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
      res.on("error", () => resolve(null));
    });
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.on("error", () => resolve(null));
  });
}

async function openSqlite(path: string): Promise<SqliteFile> {
  const { openSqliteFile } = await import("./sqlite-file.js");
  return openSqliteFile(path);
}
