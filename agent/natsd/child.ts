/**
 * One nats-server process: spawned without a shell and not detached (same process group, so a
 * terminal's Ctrl-C or systemd's stop reaches it too), its output forwarded to our logger, and
 * stopped with SIGTERM, then SIGKILL after a grace period.
 *
 * Orphans: while the child runs, an `exit` hook SIGKILLs it when our process exits by any path
 * Node runs exit handlers on (return from main, process.exit, an uncaught exception). Node cannot
 * ask the kernel to kill the child when we are SIGKILLed (no PR_SET_PDEATHSIG); then the systemd
 * unit's cgroup (KillMode=control-group) takes it down, and outside systemd the next start finds it
 * by its pid file and ends it (orphan.ts).
 */
import { spawn, type ChildProcess, type SpawnOptions } from "node:child_process";
import type { Clock } from "../core/clock.js";
import type { Logger } from "../core/logger.js";
import { forwardLog } from "./log-lines.js";

export type SpawnFn = (bin: string, args: readonly string[], options: SpawnOptions) => ChildProcess;

export const nodeSpawn: SpawnFn = (bin, args, options) => spawn(bin, args, options);

/**
 * After SIGKILL the kernel reaps at once; waiting longer than this means the process is stuck in
 * uninterruptible I/O (a dying SD card) and waiting more will not help.
 */
export const KILL_WAIT_MS = 2_000;

export interface ExitInfo {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  /** Set when the process could not be spawned at all (ENOENT, EACCES). */
  readonly error?: Error;
}

export function describeExit(e: ExitInfo): string {
  if (e.error !== undefined) return `could not start: ${e.error.message}`;
  if (e.signal !== null) return `killed by ${e.signal}`;
  return `exited with status ${e.code ?? "?"}`;
}

export class NatsChild {
  readonly exited: Promise<ExitInfo>;
  #exit: ExitInfo | undefined;

  private constructor(readonly proc: ChildProcess) {
    const killOnExit = (): void => {
      if (this.alive) proc.kill("SIGKILL");
    };
    process.on("exit", killOnExit);
    this.exited = new Promise<ExitInfo>((resolve) => {
      const done = (info: ExitInfo): void => {
        if (this.#exit !== undefined) return;
        this.#exit = info;
        process.off("exit", killOnExit);
        resolve(info);
      };
      proc.once("exit", (code, signal) => done({ code, signal }));
      // 'exit' may not follow a spawn error; without a pid there is no process to wait for.
      proc.once("error", (error) => {
        if (proc.pid === undefined) done({ code: null, signal: null, error });
      });
    });
  }

  static launch(spawnFn: SpawnFn, bin: string, args: readonly string[], cwd: string, logger: Logger): NatsChild {
    const proc = spawnFn(bin, args, { cwd, stdio: ["ignore", "pipe", "pipe"], detached: false, shell: false });
    const child = new NatsChild(proc);
    if (proc.stdout) forwardLog(proc.stdout, logger);
    if (proc.stderr) forwardLog(proc.stderr, logger);
    return child;
  }

  get pid(): number | undefined {
    return this.proc.pid;
  }

  get alive(): boolean {
    return this.#exit === undefined && this.proc.pid !== undefined;
  }

  /** SIGTERM, then SIGKILL after graceMs. Resolves how it ended; never throws. */
  async terminate(graceMs: number, clock: Clock): Promise<"not-running" | "terminated" | "killed" | "stuck"> {
    if (!this.alive) return "not-running";
    this.proc.kill("SIGTERM");
    if (await this.#exitWithin(graceMs, clock)) return "terminated";
    this.proc.kill("SIGKILL");
    return (await this.#exitWithin(KILL_WAIT_MS, clock)) ? "killed" : "stuck";
  }

  async #exitWithin(ms: number, clock: Clock): Promise<boolean> {
    let timer: { cancel(): void } | undefined;
    const timeout = new Promise<false>((resolve) => (timer = clock.setTimer(() => resolve(false), ms)));
    const result = await Promise.race([this.exited.then(() => true as const), timeout]);
    timer?.cancel();
    return result;
  }
}
