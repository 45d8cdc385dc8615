/**
 * Find the nats-server binary: a configured path, or a name looked up on PATH and then in the
 * directories distributions install it to. Debian puts it in /usr/sbin, which is not on a normal
 * user's PATH (nor always on a service's), so a bare name is looked up there too.
 */
import { accessSync, constants, statSync } from "node:fs";
import { delimiter, isAbsolute, join, resolve } from "node:path";

export const DEFAULT_BINARY = "nats-server";
export const EXTRA_DIRS = ["/usr/sbin", "/usr/local/sbin", "/usr/local/bin", "/usr/bin"] as const;
export const INSTALL_HINT = "sudo apt-get install nats-server";

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/**
 * The absolute path of an executable nats-server, or null. `name` with a '/' is a path (relative to
 * cwd); otherwise every PATH entry, then EXTRA_DIRS, is tried in order.
 */
export function findBinary(name: string, env: Readonly<Record<string, string | undefined>> = process.env, cwd = process.cwd()): string | null {
  if (name.includes("/")) {
    const path = isAbsolute(name) ? name : resolve(cwd, name);
    return executable(path) ? path : null;
  }
  const dirs = [...(env.PATH ?? "").split(delimiter).filter((d) => d !== ""), ...EXTRA_DIRS];
  for (const dir of new Set(dirs)) {
    const path = join(isAbsolute(dir) ? dir : resolve(cwd, dir), name);
    if (executable(path)) return path;
  }
  return null;
}
