/**
 * End a nats-server left behind by a previous agent that was SIGKILLed (see child.ts): its pid
 * file names it, and /proc/<pid>/cmdline must show nats-server with our config file before we touch
 * it, so a recycled pid is never hit. Linux only (no /proc elsewhere: nothing is done). Without
 * this, the new server would fail to bind the ports the orphan still holds.
 */
import { readFileSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";

/** An orphan gets as long to shut down cleanly (JetStream flush) as our own child does. */
export const ORPHAN_GRACE_MS = 3_000;
const POLL_MS = 50;

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

function isOurServer(pid: number, confPath: string): boolean {
  try {
    const argv = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0");
    return (argv[0] ?? "").endsWith("nats-server") && argv.includes(confPath);
  } catch {
    return false;
  }
}

async function gone(pid: number, ms: number): Promise<boolean> {
  for (let waited = 0; waited < ms; waited += POLL_MS) {
    if (!alive(pid)) return true;
    await sleep(POLL_MS);
  }
  return !alive(pid);
}

/** The pid that was ended, or null when there was none. */
export async function reapOrphan(pidFile: string, confPath: string, graceMs = ORPHAN_GRACE_MS): Promise<number | null> {
  let pid: number;
  try {
    pid = Number(readFileSync(pidFile, "utf8").trim());
  } catch {
    return null;
  }
  if (!Number.isSafeInteger(pid) || pid <= 1 || pid === process.pid || !isOurServer(pid, confPath)) return null;
  try {
    process.kill(pid, "SIGTERM");
    if (!(await gone(pid, graceMs))) {
      process.kill(pid, "SIGKILL");
      await gone(pid, graceMs);
    }
  } catch {
    // It exited between the check and the signal: nothing left to do.
  }
  return pid;
}
