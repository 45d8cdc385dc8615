/**
 * exec_token: the hub's signature on one bound step (seed 000 "безопасность и адресация": every
 * step is signed, scope step/ttl/slots). A token is `v1.<claims>.<mac>`: claims are base64url
 * JSON `{run, step, node, cap, slots?, iat, exp}` (epoch ms), mac is HMAC-SHA256 over
 * `v1.<claims>` with a key derived from the subnet token (every node of the subnet has it, and
 * it is the secret members already trust the hub with; a key of its own is a later step).
 *
 * verifyExecToken() is what the executing node runs before it does anything: it refuses a missing
 * token, a malformed one, a bad signature (tampered, or signed with another key), an expired or
 * not-yet-valid one, and a token for another node, step or capability — each with its own
 * message, all as UnauthorizedError (E_UNAUTHORIZED). Comparison is constant-time.
 */
import { createHash, createHmac, timingSafeEqual } from "node:crypto";
import { UnauthorizedError } from "../core/errors.js";

const PREFIX = "v1";
/** Clocks of a Pi without RTC drift; a token from a hub a little ahead is still valid. */
export const CLOCK_SKEW_MS = 5000;

export interface ExecClaims {
  readonly run: string;
  readonly step: string;
  readonly node: string;
  readonly cap: string;
  /** Values the step may use (e.g. the title), bound into the signature. */
  readonly slots?: Readonly<Record<string, unknown>>;
  readonly iat: number;
  readonly exp: number;
}

export interface Scope {
  readonly node: string;
  readonly step?: string;
  readonly cap?: string;
  readonly run?: string;
}

/** The HMAC key for exec tokens, from the subnet token (domain-separated, so it is no password). */
export function execTokenKey(subnetToken: string): Buffer {
  return createHash("sha256").update("adaos-edge exec_token v1\u0000").update(subnetToken).digest();
}

const b64 = (b: Buffer | string): string => Buffer.from(b).toString("base64url");

export function signExecToken(claims: ExecClaims, key: Buffer): string {
  const body = `${PREFIX}.${b64(JSON.stringify(claims))}`;
  return `${body}.${b64(createHmac("sha256", key).update(body).digest())}`;
}

export function verifyExecToken(token: string | undefined, key: Buffer, scope: Scope, nowMs: number): ExecClaims {
  if (token === undefined || token === "") throw new UnauthorizedError("missing exec_token: the step was not signed by the hub");
  const parts = token.split(".");
  if (parts.length !== 3 || parts[0] !== PREFIX) throw new UnauthorizedError("malformed exec_token (expected v1.<claims>.<mac>)");
  const body = `${parts[0]}.${parts[1] ?? ""}`;
  const want = createHmac("sha256", key).update(body).digest();
  const got = Buffer.from(parts[2] ?? "", "base64url");
  if (got.length !== want.length || !timingSafeEqual(got, want)) throw new UnauthorizedError("exec_token signature does not match: tampered, or signed with another subnet's key");
  let claims: ExecClaims;
  try {
    claims = JSON.parse(Buffer.from(parts[1] ?? "", "base64url").toString("utf8")) as ExecClaims;
  } catch {
    throw new UnauthorizedError("malformed exec_token claims");
  }
  if (typeof claims.exp !== "number" || nowMs > claims.exp + CLOCK_SKEW_MS) throw new UnauthorizedError(`exec_token expired at ${new Date(claims.exp).toISOString()}`);
  if (typeof claims.iat !== "number" || claims.iat > nowMs + CLOCK_SKEW_MS) throw new UnauthorizedError("exec_token is not valid yet (issued in the future)");
  const wrong = (field: keyof Scope): never => {
    throw new UnauthorizedError(`exec_token is for ${field} ${JSON.stringify(claims[field])}, not ${JSON.stringify(scope[field])}`);
  };
  if (claims.node !== scope.node) wrong("node");
  if (scope.step !== undefined && claims.step !== scope.step) wrong("step");
  if (scope.cap !== undefined && claims.cap !== scope.cap) wrong("cap");
  if (scope.run !== undefined && claims.run !== scope.run) wrong("run");
  return claims;
}
