/**
 * Free space where the data dir lives. SQLite needs room for the WAL and for checkpoints, and the
 * outbox buffers events while the root is away; an SD card that fills up corrupts nothing but
 * stops every write.
 */
import { dirname } from "node:path";
import { describeError, fail, ok, warn, type Check } from "./check.js";
import type { Space, System } from "./system.js";

const MB = 1_000_000;
/** Below this nothing works for long: one outbox backlog or WAL checkpoint can take it. */
export const FAIL_BELOW_BYTES = 50 * MB;
/** Below this a few hours offline with voice and telemetry can fill it. */
export const WARN_BELOW_BYTES = 500 * MB;
const FIX = "free space (sudo journalctl --vacuum-size=100M, sudo apt-get clean, old files) or move the data dir to a larger disk with --data-dir";

export function formatBytes(bytes: number): string {
  if (bytes >= 1000 * MB) return `${(bytes / (1000 * MB)).toFixed(1)} GB`;
  return `${Math.floor(bytes / MB)} MB`;
}

/** statfs of the path, or of its nearest existing parent (the data dir may not exist yet). */
async function spaceOf(system: System, path: string): Promise<{ at: string; space: Space }> {
  for (let at = path; ; at = dirname(at)) {
    try {
      return { at, space: await system.statfs(at) };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "ENOENT" || dirname(at) === at) throw err;
    }
  }
}

export const diskCheck: Check = {
  id: "disk",
  title: "free space on the data dir's filesystem",
  run: async ({ config, system }) => {
    let found: { at: string; space: Space };
    try {
      found = await spaceOf(system, config.data_dir);
    } catch (err) {
      return fail(`cannot read free space of ${config.data_dir}: ${describeError(err)}`, "check the data dir path (--data-dir)");
    }
    const { at, space } = found;
    if (space.totalBytes === 0) return fail(`${at} is on a filesystem without storage (statfs type 0x${space.type.toString(16)})`, "choose a data dir on disk with --data-dir");
    // Named after the data dir even when measured on a parent: the data-dir check may be creating it right now.
    const figure = `${formatBytes(space.availableBytes)} free of ${formatBytes(space.totalBytes)} for ${config.data_dir}`;
    if (space.availableBytes < FAIL_BELOW_BYTES) return fail(`only ${figure} (need ${formatBytes(FAIL_BELOW_BYTES)})`, FIX);
    if (space.availableBytes < WARN_BELOW_BYTES) return warn(`only ${figure} (${formatBytes(WARN_BELOW_BYTES)} recommended)`, FIX);
    return ok(figure);
  },
};
