/**
 * The C library. The prebuilt better-sqlite3 addon in the binary needs glibc ≥ 2.34 (and
 * libstdc++ from GCC ≥ 11): Raspberry Pi OS Bookworm qualifies, Bullseye does not.
 */
import { fail, ok, warn, type Check } from "./check.js";
import type { System } from "./system.js";

export const MIN_GLIBC: readonly [number, number] = [2, 34];
const UPGRADE = "upgrade to Raspberry Pi OS Bookworm (Debian 12) or newer — Bullseye has glibc 2.31";

/** "Debian GNU/Linux 12 (bookworm)" from /etc/os-release, or null. */
async function osName(system: System): Promise<string | null> {
  const text = await system.readFile("/etc/os-release");
  const m = text === null ? null : /^PRETTY_NAME="?([^"\n]*)"?$/m.exec(text);
  return m?.[1] ?? null;
}

export const glibcCheck: Check = {
  id: "glibc",
  title: `glibc ≥ ${MIN_GLIBC.join(".")} (SQLite addon)`,
  run: async ({ system }) => {
    if (system.platform !== "linux") {
      return warn(`not Linux (${system.platform}): the packaged binaries are for Linux; only a checkout runs here`, "run on Raspberry Pi OS Bookworm, Debian 12 or Ubuntu 22.04+");
    }
    const os = await osName(system);
    const on = os === null ? "" : ` (${os})`;
    const version = system.glibcVersion();
    if (version === null) {
      return fail(`the C library is not glibc${on} — musl (e.g. Alpine)? The SQLite addon in the binary is built for glibc ≥ ${MIN_GLIBC.join(".")}`, "run on a glibc distribution (Raspberry Pi OS Bookworm, Debian 12), or build better-sqlite3 from source");
    }
    const [major = 0, minor = 0] = version.split(".").map(Number);
    const [needMajor, needMinor] = MIN_GLIBC;
    if (major > needMajor || (major === needMajor && minor >= needMinor)) return ok(`glibc ${version}${on}`);
    return fail(`glibc ${version}${on} is older than ${MIN_GLIBC.join(".")}, needed by the SQLite addon`, UPGRADE);
  },
};
