/**
 * Secrets: a per-node secret (an NKey seed, node-key.ts) is stored only as a salted scrypt hash
 * and verified in constant time; generateSecret() makes the broker's own per-start secret. The
 * stored form names its parameters (`scrypt$N$r$p$salt$hash`, base64url), so they can be raised
 * later without invalidating issued secrets.
 *
 * Cost: a secret carries 192 (generated here) or 256 (an NKey seed) random bits, so no work factor
 * is what protects it; the hash only keeps a copied database from being a list of passwords.
 * N = 2^14 (Node's default, 16 MiB) costs tens of milliseconds on a Raspberry Pi per connect,
 * which a hub of a few devices pays only when they (re)connect.
 */
import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from "node:crypto";

/** 24 bytes → 32 base64url characters; the issue asks for 24 or more. */
export const SECRET_BYTES = 24;
const SALT_BYTES = 16;
const KEY_BYTES = 32;
const PARAMS = { N: 2 ** 14, r: 8, p: 1 } as const;
const SCHEME = "scrypt";

export function generateSecret(): string {
  return randomBytes(SECRET_BYTES).toString("base64url");
}

export async function hashSecret(secret: string): Promise<string> {
  const salt = randomBytes(SALT_BYTES);
  const key = await derive(secret, salt, PARAMS);
  return [SCHEME, PARAMS.N, PARAMS.r, PARAMS.p, salt.toString("base64url"), key.toString("base64url")].join("$");
}

/** Whether `secret` is the one `stored` was made from; false for a malformed `stored`. */
export async function verifySecret(secret: string, stored: string): Promise<boolean> {
  const parts = stored.split("$");
  if (parts.length !== 6 || parts[0] !== SCHEME) return false;
  const [N, r, p] = parts.slice(1, 4).map(Number);
  const salt = Buffer.from(parts[4] ?? "", "base64url");
  const expected = Buffer.from(parts[5] ?? "", "base64url");
  if (!isPositive(N) || !isPositive(r) || !isPositive(p) || salt.length === 0 || expected.length === 0) return false;
  try {
    return timingSafeEqual(await derive(secret, salt, { N, r, p }, expected.length), expected);
  } catch {
    return false; // parameters scrypt refuses (N not a power of two, too much memory)
  }
}

/** Constant-time comparison of two strings (the shared subnet token, the hub's own secret). */
export function sameSecret(given: string, expected: string): boolean {
  const a = Buffer.from(given, "utf8");
  const b = Buffer.from(expected, "utf8");
  // Compare equal-length buffers always, so the time says nothing about where they differ.
  return timingSafeEqual(a.length === b.length ? a : b, b) && a.length === b.length;
}

function isPositive(n: number | undefined): n is number {
  return n !== undefined && Number.isInteger(n) && n > 0;
}

function derive(secret: string, salt: Buffer, params: { N: number; r: number; p: number }, length = KEY_BYTES): Promise<Buffer> {
  // maxmem: scrypt needs 128·N·r bytes; allow twice that so raised parameters still verify.
  const options: ScryptOptions = { ...params, maxmem: 256 * params.N * params.r };
  return new Promise((resolve, reject) => {
    scrypt(secret, salt, length, options, (err, key) => (err === null ? resolve(key) : reject(err)));
  });
}
