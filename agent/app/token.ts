/**
 * The API/subnet token: from config (ADAOS_EDGE_TOKEN) when set; otherwise generated once and
 * kept in <data_dir>/api.token with mode 0600, so a fresh hub is never left open.
 */
import { randomBytes } from "node:crypto";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ConfigInvalidError } from "../core/errors.js";

export const TOKEN_FILE = "api.token";

export interface TokenSource {
  readonly token: string;
  /** "config" or the path of the token file. */
  readonly from: string;
}

export function resolveToken(configured: string | null, dataDir: string): TokenSource {
  if (configured !== null) return { token: configured, from: "config" };
  const path = join(dataDir, TOKEN_FILE);
  try {
    const existing = readFileSync(path, "utf8").trim();
    if (existing.length >= 16) return { token: existing, from: path };
    throw new ConfigInvalidError(`token file ${path} holds fewer than 16 characters; delete it to generate a new one`);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
  }
  mkdirSync(dataDir, { recursive: true, mode: 0o750 });
  const token = randomBytes(24).toString("base64url");
  try {
    writeFileSync(path, token + "\n", { mode: 0o600, flag: "wx" });
  } catch (err) {
    // Another process created it between our read and write: use theirs.
    if ((err as NodeJS.ErrnoException).code === "EEXIST") return resolveToken(null, dataDir);
    throw err;
  }
  return { token, from: path };
}
