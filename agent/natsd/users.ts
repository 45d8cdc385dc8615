/**
 * Who may connect to the hub's nats-server. The config writer takes a plain list, so that the
 * per-node credentials store (issue 3, item 3: `adaos-edge nodes add <id>`, stored hashed) can feed
 * it later; today the composition root builds it with subnetUsers(): the hub itself, plus one user
 * per known member whose password is the shared subnet token (ADAOS_EDGE_TOKEN, the simple mode).
 *
 * A user's name is its node id, so a connection is bound to one node and its permissions
 * (permissions.ts) name that node. nats-server 2.9 has no templated permissions for plain users and
 * no auth callout: a member the hub does not know yet cannot use NATS until it is added (reload)
 * and reaches the hub over MQTT meanwhile.
 */
import { randomBytes } from "node:crypto";

export type NatsRole = "hub" | "member";

export interface NatsUser {
  readonly user: string;
  /** A plain password, or a bcrypt hash (`$2a$…`, `$2b$…`), which nats-server accepts as is. */
  readonly password: string;
  readonly role: NatsRole;
  /** The node this user speaks for; its permissions are scoped to it. */
  readonly nodeId: string;
}

/** 24 random bytes, URL-safe: fine in a nats:// userinfo and in the config file. */
export function randomSecret(): string {
  return randomBytes(24).toString("base64url");
}

export function isBcryptHash(password: string): boolean {
  return /^\$2[abxy]?\$\d{2}\$[./A-Za-z0-9]{53}$/.test(password);
}

export interface SubnetUsersInput {
  readonly hubId: string;
  /** The hub's own password on its server: a secret only the hub process knows (randomSecret()). */
  readonly hubPassword: string;
  /** The shared subnet token; null: no member gets in with it. */
  readonly token: string | null;
  /** Members known to the hub (directory, config). */
  readonly memberIds: readonly string[];
}

export function subnetUsers(input: SubnetUsersInput): NatsUser[] {
  const users: NatsUser[] = [{ user: input.hubId, password: input.hubPassword, role: "hub", nodeId: input.hubId }];
  if (input.token === null) return users;
  for (const id of [...new Set(input.memberIds)].sort()) {
    if (id === input.hubId) continue;
    users.push({ user: id, password: input.token, role: "member", nodeId: id });
  }
  return users;
}
