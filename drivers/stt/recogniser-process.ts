/**
 * One pocketsphinx_continuous process reading a FIFO: starts it, says when it is ready for
 * audio, and turns its output into events. pocketsphinx.ts decides what the events mean for the
 * utterances it wrote; this file only knows the program.
 *
 * Rules of this file:
 * - Ready means: the start-up log line READY_MARKER was seen (pocketsphinx logs it right before
 *   it opens -infile) and our end of the FIFO opened. The FIFO is opened non-blocking (retried
 *   while the reader is not there yet): a blocking open of a FIFO with no reader would hold a
 *   libuv thread for ever if the program died first.
 * - `ready` rejects naming the program and why (not found, exited during start-up with its exit
 *   status, no start within the time), with the last stderr lines; the process is then killed.
 * - After ready: every stdout line goes to onStdout; onNoMatch fires when the grammar search logs
 *   that an utterance fits no grammar path (UTTERANCE_END then NO_MATCH, which pocketsphinx logs
 *   twice: reported once); onExit fires once when the process ends.
 * - The last STDERR_LINES lines of its log are kept for error messages; the rest is dropped.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { constants, openSync } from "node:fs";
import { Socket } from "node:net";
import { performance } from "node:perf_hooks";
import { createInterface } from "node:readline";

/** pocketsphinx_continuous logs this right before it opens -infile. */
const READY_MARKER = "COMPILED ON";
/** Logged by the grammar search at the end of every utterance the VAD closed (N > 0). */
const UTTERANCE_END = /fsg_search\.c\(\d+\): [1-9]\d* frames,/;
/** Logged after UTTERANCE_END when the speech fits no path of the grammar: no hypothesis follows. */
const NO_MATCH = /does not match the grammar/;
const STDERR_LINES = 20;
const FIFO_RETRY_MS = 20;

export interface RecogniserOptions {
  readonly command: string;
  readonly args: readonly string[];
  /** The FIFO named by -infile in args. */
  readonly fifo: string;
  readonly startTimeoutMs: number;
}

export interface RecogniserEvents {
  onStdout(line: string): void;
  onNoMatch(): void;
  /** The process ended after it was ready; `status` reads "exit code 1" or "signal SIGKILL". */
  onExit(status: string, tail: readonly string[]): void;
}

export interface Recogniser {
  readonly child: ChildProcess;
  /** Resolves with the writing end of the FIFO once the process reads it. */
  readonly ready: Promise<Socket>;
}

function exitStatus(code: number | null, signal: NodeJS.Signals | null): string {
  return signal !== null ? `signal ${signal}` : `exit code ${String(code)}`;
}

export function startRecogniser(o: RecogniserOptions, events: RecogniserEvents): Recogniser {
  const tail: string[] = [];
  const child = spawn(o.command, [...o.args], { stdio: ["ignore", "pipe", "pipe"] });
  let phase: "starting" | "ready" | "failed" = "starting";
  let resolveReady!: (sink: Socket) => void;
  let rejectReady!: (err: Error) => void;
  const ready = new Promise<Socket>((resolve, reject) => {
    resolveReady = resolve;
    rejectReady = reject;
  });
  const deadline = performance.now() + o.startTimeoutMs;
  const fail = (why: string): void => {
    if (phase !== "starting") return;
    phase = "failed";
    clearTimeout(timer);
    child.kill("SIGKILL");
    const last = tail.length > 0 ? `; last stderr lines: ${tail.slice(-5).join(" | ")}` : "";
    rejectReady(new Error(`stt: ${o.command} ${why}${last}`));
  };
  const timer = setTimeout(() => fail(`did not start within ${o.startTimeoutMs} ms`), o.startTimeoutMs);

  const openFifo = (): void => {
    if (phase !== "starting") return;
    let fd: number;
    try {
      fd = openSync(o.fifo, constants.O_WRONLY | constants.O_NONBLOCK);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "ENXIO" || performance.now() > deadline) fail(`did not open its input ${o.fifo}: ${(err as Error).message}`);
      else setTimeout(openFifo, FIFO_RETRY_MS);
      return;
    }
    phase = "ready";
    clearTimeout(timer);
    const sink = new Socket({ fd, readable: false, writable: true });
    sink.on("error", () => undefined); // EPIPE when it dies: onExit reports that
    resolveReady(sink);
  };

  child.on("error", (err: NodeJS.ErrnoException) => {
    if (err.code === "ENOENT") fail("was not found: install the Debian packages pocketsphinx and pocketsphinx-en-us, or set the command option");
    else fail(`could not be started: ${err.message}`);
  });
  child.on("exit", (code, signal) => {
    if (phase === "starting") fail(`exited during start-up (${exitStatus(code, signal)})`);
    else if (phase === "ready") events.onExit(exitStatus(code, signal), tail);
  });
  createInterface({ input: child.stdout }).on("line", (line) => {
    if (phase === "ready") events.onStdout(line);
  });
  let ended = false;
  createInterface({ input: child.stderr }).on("line", (line) => {
    if (line.trim().length === 0) return;
    tail.push(line.trim());
    if (tail.length > STDERR_LINES) tail.shift();
    if (phase === "starting" && line.includes(READY_MARKER)) openFifo();
    if (UTTERANCE_END.test(line)) ended = true;
    else if (ended && NO_MATCH.test(line)) {
      ended = false;
      events.onNoMatch();
    }
  });
  return { child, ready };
}
