/**
 * Clock synchronisation. A Raspberry Pi has no real-time clock: until NTP has answered after a
 * boot, the time is wherever the last shutdown left it, and TLS certificates, JetStream duplicate
 * windows and cron triggers all read that clock.
 */
import { COMMAND_TIMEOUT_MS, ok, warn, type Check } from "./check.js";

/** systemd-timesyncd creates this file once it has synchronised the clock (systemd ≥ 239). */
export const TIMESYNC_FLAG_FILE = "/run/systemd/timesync/synchronized";
const WHY = "a Pi has no RTC, so TLS, JetStream dedup windows and cron need a synced clock";
const ENABLE = "sudo timedatectl set-ntp true (systemd-timesyncd)";

export const timeSyncCheck: Check = {
  id: "time-sync",
  title: "the system clock is synchronised (NTP)",
  run: async ({ system }) => {
    const r = await system.run("timedatectl", ["show", "-p", "NTPSynchronized", "--value"], COMMAND_TIMEOUT_MS);
    if (r.kind === "exited" && r.code === 0) {
      const answer = r.stdout.trim();
      if (answer === "yes") return ok("clock synchronised (timedatectl NTPSynchronized=yes)");
      if (answer === "no") return warn(`clock not synchronised (NTPSynchronized=no): ${WHY}`, `${ENABLE}; check network access to an NTP server`);
    }
    // No timedatectl, or no systemd to answer it (a container): timesyncd may still leave its flag.
    if (await system.exists(TIMESYNC_FLAG_FILE)) return ok(`clock synchronised (${TIMESYNC_FLAG_FILE} exists)`);
    return warn(`cannot tell whether the clock is synchronised (timedatectl unavailable, no ${TIMESYNC_FLAG_FILE}): ${WHY}`, `run systemd-timesyncd or chrony; ${ENABLE}`);
  },
};
