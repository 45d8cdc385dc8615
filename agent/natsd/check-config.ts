/**
 * Ask nats-server whether it accepts a config (`nats-server -t -c FILE`: parse, check, exit) before
 * running it, so a rejected config is reported once with nats-server's own words instead of
 * becoming a crash loop. It checks syntax and semantics (unknown keys, duplicate users), not
 * whether ports are free: those failures show up when the server starts.
 */
import { execFile } from "node:child_process";

/** nats-server checks a config in ~10 ms; a busy Pi at boot may need a few seconds. */
export const CHECK_TIMEOUT_MS = 10_000;

export type ConfigVerdict = { readonly ok: true } | { readonly ok: false; readonly reason: string };

export function checkConfig(bin: string, file: string, timeoutMs = CHECK_TIMEOUT_MS): Promise<ConfigVerdict> {
  return new Promise((resolve) => {
    execFile(bin, ["-t", "-c", file], { timeout: timeoutMs, killSignal: "SIGKILL", encoding: "utf8" }, (err, stdout, stderr) => {
      if (err === null) return resolve({ ok: true });
      const said = `${stderr}\n${stdout}`.split("\n").map((l) => l.trim()).filter((l) => l !== "");
      const reason =
        err.killed ? `\`${bin} -t\` did not answer within ${timeoutMs} ms`
        : said.length > 0 ? said.join("; ").replace(/^nats-server: /, "")
        : err.message;
      resolve({ ok: false, reason });
    });
  });
}
