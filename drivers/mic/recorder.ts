/**
 * One run of the recorder program through node-record-lpcm16: spawn it, hand its raw PCM to a
 * callback, report once how it ended (exit code or signal, spawn error, last stderr lines), and
 * kill it on request. The driver (mic.ts) decides what a death means; this file only runs it.
 * Rules it keeps: raw output (`-t raw`), never a WAV header; every 'error' the library or the
 * child emits is caught here (the library emits one on the stdout stream whenever the recorder
 * ends with a non-zero code or a signal — which includes our own stop), so none reaches the
 * process; kill() resolves once the process has exited (SIGTERM, then SIGKILL after a grace time).
 */
import type { ChildProcess } from "node:child_process";
import { createRequire } from "node:module";
import type { Readable } from "node:stream";
import { fileURLToPath } from "node:url";

/** The recorder names node-record-lpcm16 knows; anything else must be an absolute program path. */
export const RECORDER_NAMES = ["arecord", "sox", "rec"] as const;

export interface RecorderSpec {
  /** arecord | sox | rec, or the absolute path of a program that takes arecord's arguments. */
  readonly recorder: string;
  /** ALSA device (arecord -D) or AUDIODEV for sox; null for the system default. */
  readonly device: string | null;
  readonly sampleRate: number;
  readonly channels: number;
}

export interface RecorderEnd {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  /** Set when the program could not be run at all (ENOENT, EACCES). */
  readonly spawnError?: NodeJS.ErrnoException;
  /** The last lines the program wrote to stderr, trimmed. */
  readonly stderrTail: string;
}

export interface RecorderEvents {
  data(chunk: Buffer): void;
  /** Called once, after the process is gone and its output is drained. */
  end(how: RecorderEnd): void;
  /** The library's own error reports, for the debug log. */
  libraryError(message: string): void;
}

export interface RecorderRun {
  kill(): Promise<void>;
}

interface Lpcm16Recording {
  readonly process: ChildProcess;
  stream(): Readable;
}
interface Lpcm16 {
  record(options: Record<string, unknown>): Lpcm16Recording;
}

const require = createRequire(import.meta.url);
const lpcm16 = require("node-record-lpcm16") as Lpcm16;
const AT_PATH_MODULE = fileURLToPath(new URL("./recorder-at-path.cjs", import.meta.url));

/** SIGTERM is arecord's normal stop; a program that ignores it for this long gets SIGKILL. */
const KILL_GRACE_MS = 2000;
const STDERR_KEEP_CHARS = 2000;
const STDERR_TAIL_LINES = 3;

function libraryOptions(spec: RecorderSpec): Record<string, unknown> {
  const common = { sampleRate: spec.sampleRate, channels: spec.channels, audioType: "raw", ...(spec.device === null ? {} : { device: spec.device }) };
  if ((RECORDER_NAMES as readonly string[]).includes(spec.recorder)) return { ...common, recorder: spec.recorder };
  return { ...common, recorder: AT_PATH_MODULE, program: spec.recorder };
}

export function runRecorder(spec: RecorderSpec, on: RecorderEvents): RecorderRun {
  const recording = lpcm16.record(libraryOptions(spec));
  const child = recording.process;
  let stderr = "";
  let spawnError: NodeJS.ErrnoException | undefined;
  const exited = new Promise<void>((resolve) => {
    child.once("exit", () => resolve());
    child.once("error", () => {
      if (child.pid === undefined) resolve(); // never ran: there is nothing to wait for
    });
  });

  child.on("error", (err: NodeJS.ErrnoException) => {
    spawnError ??= err;
  });
  child.stderr?.setEncoding("utf8");
  child.stderr?.on("data", (text: string) => {
    stderr = (stderr + text).slice(-STDERR_KEEP_CHARS);
  });
  const stream = recording.stream();
  stream.on("error", (err: unknown) => on.libraryError(String(err)));
  stream.on("data", (chunk: Buffer) => on.data(chunk));
  child.once("close", (code: number | null, signal: NodeJS.Signals | null) => {
    const stderrTail = stderr.trim().split("\n").slice(-STDERR_TAIL_LINES).join(" | ");
    on.end({ code, signal, stderrTail, ...(spawnError === undefined ? {} : { spawnError }) });
  });

  return {
    async kill(): Promise<void> {
      if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) {
        child.kill("SIGTERM");
        const timer = setTimeout(() => child.kill("SIGKILL"), KILL_GRACE_MS);
        await exited;
        clearTimeout(timer);
      }
      stream.destroy(); // a grandchild still holding the pipe must not keep it open
    },
  };
}
