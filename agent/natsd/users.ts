/**
 * Who may connect to the hub's nats-server: the hub itself (a password only the hub process
 * knows), and one user per active member credential (<data_dir>/credentials.db, `adaos-edge nodes
 * add <id>`). nats-server cannot check the store's scrypt hashes, so a member is listed by the
 * NKey public key of its secret (the member signs with the seed; the hub never holds it). A
 * credential from before NKeys has no public key: that member logs in with the shared subnet token
 * (ADAOS_EDGE_TOKEN) under its node id, as the first-setup mode did.
 *
 * Permissions are per node (permissions.ts). nats-server 2.9 has no templated permissions for
 * config users and no auth callout, so a node without any credential cannot use NATS (it reaches
 * the hub over MQTT with the token); the list follows the store while the hub runs (users-watch.ts).
 */
import { randomBytes } from "node:crypto";
import type { ActiveMember } from "../broker/credentials-store.js";

export type NatsRole = "hub" | "member";

interface UserBase {
  readonly role: NatsRole;
  /** The node this user speaks for; its permissions are scoped to it. */
  readonly nodeId: string;
}

export interface PasswordUser extends UserBase {
  /** The node id. */
  readonly user: string;
  /** A plain password, or a bcrypt hash (`$2a$…`, `$2b$…`), which nats-server accepts as is. */
  readonly password: string;
}

export interface NkeyUser extends UserBase {
  readonly role: "member";
  /** The NKey public key (`U…`) of the node's secret. */
  readonly nkey: string;
}

export type NatsUser = PasswordUser | NkeyUser;

/** A member as the credentials store knows it; publicKey null: a credential from before NKeys (token login). */
export type MemberKey = ActiveMember;

export function isNkeyUser(u: NatsUser): u is NkeyUser {
  return "nkey" in u;
}

/** 24 random bytes, URL-safe: fine in a nats:// userinfo and in the config file. */
export function randomSecret(): string {
  return randomBytes(24).toString("base64url");
}

export function isBcryptHash(password: string): boolean {
  return /^\$2[abxy]?\$\d{2}\$[./A-Za-z0-9]{53}$/.test(password);
}

export interface HubUsersInput {
  readonly hubId: string;
  /** The hub's own password on its server: a secret only the hub process knows (randomSecret()). */
  readonly hubPassword: string;
  /** The shared subnet token; null: a member without a public key does not get in. */
  readonly token: string | null;
  readonly members: readonly MemberKey[];
}

/** The hub, then each member once (first entry wins), by node id. */
export function hubUsers(input: HubUsersInput): NatsUser[] {
  const users: NatsUser[] = [{ user: input.hubId, password: input.hubPassword, role: "hub", nodeId: input.hubId }];
  const seen = new Set([input.hubId]);
  for (const m of [...input.members].sort((a, b) => (a.nodeId < b.nodeId ? -1 : a.nodeId > b.nodeId ? 1 : 0))) {
    if (seen.has(m.nodeId)) continue;
    seen.add(m.nodeId);
    if (m.publicKey !== null) users.push({ nkey: m.publicKey, role: "member", nodeId: m.nodeId });
    else if (input.token !== null) users.push({ user: m.nodeId, password: input.token, role: "member", nodeId: m.nodeId });
  }
  return users;
}

export interface SubnetUsersInput {
  readonly hubId: string;
  readonly hubPassword: string;
  readonly token: string | null;
  /** Members that log in with the subnet token. */
  readonly memberIds: readonly string[];
}

/** Token logins only: hubUsers() with members that have no public key. */
export function subnetUsers(input: SubnetUsersInput): NatsUser[] {
  const { memberIds, ...rest } = input;
  return hubUsers({ ...rest, members: memberIds.map((nodeId) => ({ nodeId, publicKey: null })) });
}
