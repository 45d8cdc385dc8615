/**
 * One tool call as a child process. Rules:
 *  - the arguments are checked against the tool's input_schema first; a mismatch never runs
 *    anything (BadRequestError with the problems under /arguments);
 *  - argv as loaded (no shell), working directory the skill folder, an environment of only PATH,
 *    HOME, LANG and ADAOS_TOOL_CALL_ID, the arguments as JSON on stdin;
 *  - the program prints one JSON value on stdout: that is the result. Nothing, or not JSON, fails;
 *  - a non-zero exit or a death by signal fails with the last STDERR_TAIL_BYTES of its stderr;
 *  - more than MAX_OUTPUT_BYTES on stdout: killed (SIGKILL) and failed;
 *  - at the deadline the call fails at once with TimeoutError, and the program gets SIGTERM,
 *    then SIGKILL KILL_GRACE_MS later; an abort (the agent stopping) does the same, CancelledError;
 *  - the program leads its own process group, so a signal reaches what it started too, and
 *    whatever it leaves running in that group when it exits is killed.
 * `result` settles once; `exited` resolves when the process is gone, so a caller can hold a
 * concurrency slot until then even when `result` failed at the deadline.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { BadRequestError, CancelledError, InternalError, TimeoutError, type AdaosError } from "../core/errors.js";
import { systemClock, type Clock, type TimerHandle } from "../core/clock.js";
import type { Tool } from "./skill-load.js";

/** A result is a JSON answer for an HTTP reply, not a file transfer. */
export const MAX_OUTPUT_BYTES = 1024 * 1024;
/** Enough for the error a program printed last, small enough for one error message. */
export const STDERR_TAIL_BYTES = 2048;
/** Time a program gets between SIGTERM and SIGKILL to clean up. */
export const KILL_GRACE_MS = 1000;
/** PATH for a tool when the agent itself has none (a bare systemd unit always has one). */
const FALLBACK_PATH = "/usr/local/bin:/usr/bin:/bin";
/** How much of unparsable output a message quotes. */
const QUOTE_CHARS = 200;

export interface ToolRun {
  readonly tool: Tool;
  readonly arguments: unknown;
  readonly timeoutMs: number;
  /** The call's whole timeout, for the message (a wait for a slot may have used part of it); timeoutMs by default. */
  readonly budgetMs?: number;
  /** The request id: ADAOS_TOOL_CALL_ID. */
  readonly callId: string;
  /** Aborting stops the program (CancelledError). */
  readonly signal?: AbortSignal;
  /** Where PATH, HOME and LANG come from; process.env by default. */
  readonly env?: NodeJS.ProcessEnv;
  readonly clock?: Clock;
}

export interface RunningTool {
  /** The JSON value the program printed, or why there is none. */
  readonly result: Promise<unknown>;
  /** Resolves (never rejects) once the process has exited, or at once when none was started. */
  readonly exited: Promise<void>;
}

/** The whole environment of a tool. */
export function toolEnv(callId: string, from: NodeJS.ProcessEnv = process.env): Record<string, string> {
  return {
    PATH: from.PATH ?? FALLBACK_PATH,
    ...(from.HOME === undefined ? {} : { HOME: from.HOME }),
    LANG: from.LANG ?? "C.UTF-8",
    ADAOS_TOOL_CALL_ID: callId,
  };
}

export function startTool(run: ToolRun): RunningTool {
  const { tool } = run;
  const ref = `${tool.skill}:${tool.name}`;
  const issues = tool.checkArguments?.(run.arguments) ?? [];
  if (issues.length > 0) {
    const list = issues.map((i) => `${i.pointer} ${i.message}`).join("; ");
    return { result: Promise.reject(new BadRequestError(`the arguments of ${ref} do not match its input_schema: ${list}`, { issues })), exited: Promise.resolve() };
  }
  if (run.signal?.aborted === true) return { result: Promise.reject(stopping(ref)), exited: Promise.resolve() };
  const [program, ...args] = tool.argv;
  let child: ChildProcess;
  try {
    child = spawn(program ?? "", args, { cwd: tool.cwd, env: toolEnv(run.callId, run.env), stdio: "pipe", detached: true, shell: false, windowsHide: true });
  } catch (err) {
    return { result: Promise.reject(cannotStart(ref, program, err)), exited: Promise.resolve() };
  }
  return supervise(child, run, ref);
}

function supervise(child: ChildProcess, run: ToolRun, ref: string): RunningTool {
  const clock = run.clock ?? systemClock;
  let settle!: { resolve: (v: unknown) => void; reject: (e: AdaosError) => void };
  const result = new Promise<unknown>((resolve, reject) => (settle = { resolve, reject }));
  let markExited!: () => void;
  const exited = new Promise<void>((resolve) => (markExited = resolve));
  let settled = false;
  let gone = false;
  let overflow = false;
  const timers: TimerHandle[] = [];
  const stdout: Buffer[] = [];
  let stdoutBytes = 0;
  let stderrTail = Buffer.alloc(0);

  const finish = (outcome: { value: unknown } | { error: AdaosError }): void => {
    if (settled) return;
    settled = true;
    if ("error" in outcome) settle.reject(outcome.error);
    else settle.resolve(outcome.value);
  };
  const signalGroup = (sig: NodeJS.Signals): void => {
    if (child.pid === undefined) return;
    try {
      process.kill(-child.pid, sig); // the whole group: a shell script's children too
    } catch {
      // ESRCH: the group is already gone.
    }
  };
  const stop = (error: AdaosError): void => {
    finish({ error });
    if (gone) return;
    signalGroup("SIGTERM");
    timers.push(clock.setTimer(() => signalGroup("SIGKILL"), KILL_GRACE_MS));
  };
  const onAbort = (): void => stop(stopping(ref));

  timers.push(clock.setTimer(() => stop(new TimeoutError(`${ref} did not finish within ${run.budgetMs ?? run.timeoutMs} ms; it was stopped (SIGTERM, then SIGKILL after ${KILL_GRACE_MS} ms)`)), run.timeoutMs));
  run.signal?.addEventListener("abort", onAbort, { once: true });

  child.stdout?.on("data", (chunk: Buffer) => {
    stdoutBytes += chunk.length;
    if (stdoutBytes > MAX_OUTPUT_BYTES) {
      if (!overflow) signalGroup("SIGKILL");
      overflow = true;
      return;
    }
    stdout.push(chunk);
  });
  child.stderr?.on("data", (chunk: Buffer) => {
    stderrTail = Buffer.concat([stderrTail, chunk]);
    if (stderrTail.length > STDERR_TAIL_BYTES) stderrTail = stderrTail.subarray(stderrTail.length - STDERR_TAIL_BYTES);
  });
  child.stdin?.on("error", () => undefined); // EPIPE: the program did not read its arguments; its exit tells the rest
  child.stdin?.end(JSON.stringify(run.arguments));

  child.once("exit", () => {
    gone = true;
    signalGroup("SIGKILL"); // what the program left behind in its group ends with it
  });
  const done = (): void => {
    gone = true;
    for (const t of timers) t.cancel();
    run.signal?.removeEventListener("abort", onAbort);
    markExited();
  };
  child.once("error", (err) => {
    if (child.pid !== undefined) return; // started: the close event reports the outcome
    done();
    finish({ error: cannotStart(ref, run.tool.argv[0], err) });
  });
  child.once("close", (code: number | null, signal: NodeJS.Signals | null) => {
    done();
    const stderr = stderrTail.toString("utf8").trim();
    const tail = stderr === "" ? " (nothing on stderr)" : `; stderr: ${stderr}`;
    if (overflow) return finish({ error: new InternalError(`${ref} printed more than ${MAX_OUTPUT_BYTES} bytes on stdout and was killed`) });
    if (signal !== null) return finish({ error: new InternalError(`${ref} was killed by ${signal}${tail}`) });
    if (code !== 0) return finish({ error: new InternalError(`${ref} exited with status ${String(code)}${tail}`) });
    finish(parseOutput(ref, Buffer.concat(stdout, stdoutBytes).toString("utf8")));
  });
  return { result, exited };
}

function parseOutput(ref: string, text: string): { value: unknown } | { error: AdaosError } {
  const trimmed = text.trim();
  if (trimmed === "") return { error: new InternalError(`${ref} printed nothing on stdout; a tool prints one JSON value`) };
  try {
    return { value: JSON.parse(trimmed) as unknown };
  } catch (err) {
    const quote = trimmed.length > QUOTE_CHARS ? `${trimmed.slice(0, QUOTE_CHARS)}…` : trimmed;
    return { error: new InternalError(`${ref} printed output that is not one JSON value (${(err as Error).message}): ${quote}`, { cause: err }) };
  }
}

function cannotStart(ref: string, program: string | undefined, err: unknown): InternalError {
  const code = (err as NodeJS.ErrnoException).code;
  const why = code === "ENOENT" ? "no such program (on PATH or at that path)" : code === "EACCES" ? "not executable" : err instanceof Error ? err.message : String(err);
  return new InternalError(`${ref} cannot start ${program ?? "(no program)"}: ${why}`, { cause: err });
}

function stopping(ref: string): CancelledError {
  return new CancelledError(`${ref} was stopped: the agent is stopping`);
}
