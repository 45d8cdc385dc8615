/**
 * The API token check: `X-AdaOS-Token: <t>` or `Authorization: Bearer <t>`. Both sides are
 * hashed to equal-length digests first, so timingSafeEqual compares in constant time and the
 * token's length does not leak either.
 */
import { createHash, timingSafeEqual } from "node:crypto";
import type { IncomingMessage } from "node:http";
import { UnauthorizedError } from "../core/errors.js";

export const TOKEN_HEADER = "x-adaos-token";
const BEARER = /^Bearer[ \t]+(\S+)[ \t]*$/i;

/** Sent with every 401 so a client knows which scheme to use (RFC 6750 section 3). */
export const WWW_AUTHENTICATE = 'Bearer realm="adaos-edge"';

function digest(text: string): Buffer {
  return createHash("sha256").update(text, "utf8").digest();
}

/** The token a request carries, if any. */
export function presentedToken(req: IncomingMessage): string | undefined {
  const header = req.headers[TOKEN_HEADER];
  const direct = Array.isArray(header) ? header[0] : header;
  if (direct !== undefined && direct.trim().length > 0) return direct.trim();
  const authorization = req.headers.authorization;
  if (authorization === undefined) return undefined;
  return BEARER.exec(authorization)?.[1];
}

export class TokenAuth {
  readonly #expected: Buffer;

  constructor(token: string) {
    this.#expected = digest(token);
  }

  /** Throws UnauthorizedError when the token is missing or wrong. */
  check(req: IncomingMessage): void {
    const token = presentedToken(req);
    if (token === undefined) {
      throw new UnauthorizedError(`missing API token: send the header X-AdaOS-Token: <token> or Authorization: Bearer <token>`);
    }
    if (!timingSafeEqual(digest(token), this.#expected)) throw new UnauthorizedError("wrong API token");
  }
}
