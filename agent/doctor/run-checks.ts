/**
 * Run the checks side by side, each within a deadline, and keep their order in the results. A
 * check that throws or does not finish becomes a fail finding that says so: the doctor itself
 * never crashes on the machine it is diagnosing.
 */
import type { Role } from "../config/config.js";
import { audioCheck } from "./audio.js";
import { describeError, fail, type Check, type DoctorContext, type Finding, type Result } from "./check.js";
import { configCheck } from "./config.js";
import { dataDirCheck } from "./data-dir.js";
import { diskCheck } from "./disk.js";
import { glibcCheck } from "./glibc.js";
import { natsCheck } from "./nats.js";
import { nodeRuntimeCheck } from "./node-runtime.js";
import { apiPortCheck, mqttPortCheck, natsPortCheck } from "./ports.js";
import { timeSyncCheck } from "./time-sync.js";

/** Longer than one external command's timeout (3 s) plus the slack of a busy Pi. */
export const CHECK_TIMEOUT_MS = 5000;

/** The checks for a role, in the order they are printed. */
export function doctorChecks(role: Role): Check[] {
  return [
    configCheck,
    nodeRuntimeCheck,
    glibcCheck,
    dataDirCheck,
    diskCheck,
    apiPortCheck,
    ...(role === "hub" ? [mqttPortCheck, natsPortCheck, natsCheck] : [natsCheck]),
    audioCheck,
    timeSyncCheck,
  ];
}

export function runChecks(checks: readonly Check[], ctx: DoctorContext, timeoutMs = CHECK_TIMEOUT_MS): Promise<Result[]> {
  return Promise.all(checks.map(async (check): Promise<Result> => ({ id: check.id, title: check.title, ...(await runOne(check, ctx, timeoutMs)) })));
}

async function runOne(check: Check, ctx: DoctorContext, timeoutMs: number): Promise<Finding> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<Finding>((resolve) => {
    timer = setTimeout(
      () => resolve(fail(`check did not finish within ${timeoutMs / 1000} s`, `run the step by hand to see where it hangs (${check.title})`)),
      timeoutMs,
    );
  });
  try {
    // Promise.resolve().then: a check that throws synchronously is caught here too.
    return await Promise.race([Promise.resolve().then(() => check.run(ctx)), deadline]);
  } catch (err) {
    return fail(`check crashed: ${describeError(err)}`, "this is a bug in adaos-edge doctor: please report it with this line");
  } finally {
    clearTimeout(timer);
  }
}
