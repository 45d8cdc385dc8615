/**
 * A node's secret is an NKey user seed (`SU…`, Ed25519, base32 with a checksum; nkeys.js). The same
 * string is the node's MQTT password (the broker keeps its scrypt hash) and its NATS login (the
 * client signs the server's nonce with it; nats-server knows only the public key `U…`). So one
 * secret per node serves both transports, and the hub never has to store it.
 */
import { createUser, fromPublic, fromSeed } from "nkeys.js";

export interface NodeKey {
  /** The secret: shown once by `nodes add`, kept only on the node. */
  readonly seed: string;
  /** What the hub's nats-server lists for the node. */
  readonly publicKey: string;
}

const USER_SEED_PREFIX = "SU";
const USER_KEY_PREFIX = "U";

export function newNodeKey(): NodeKey {
  const pair = createUser();
  try {
    return { seed: new TextDecoder().decode(pair.getSeed()), publicKey: pair.getPublicKey() };
  } finally {
    pair.clear();
  }
}

/** The public key of a user seed, or undefined when `text` is not one (checksum included). */
export function userPublicKey(text: string): string | undefined {
  if (!text.startsWith(USER_SEED_PREFIX)) return undefined;
  try {
    const pair = fromSeed(new TextEncoder().encode(text));
    const key = pair.getPublicKey();
    pair.clear();
    return key.startsWith(USER_KEY_PREFIX) ? key : undefined;
  } catch {
    return undefined; // not base32, bad checksum or length
  }
}

export function isUserSeed(text: string): boolean {
  return userPublicKey(text) !== undefined;
}

export function isUserPublicKey(text: string): boolean {
  if (!text.startsWith(USER_KEY_PREFIX)) return false;
  try {
    fromPublic(text);
    return true;
  } catch {
    return false;
  }
}
