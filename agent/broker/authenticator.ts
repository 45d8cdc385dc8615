/**
 * Who an MQTT CONNECT is, from its client id, username and password:
 *
 * - username = the hub's node id, password = the secret the broker made for the agent's own
 *   client at start → role hub (no one else can use the hub's id, not even with the token);
 * - username = a node id with a credential (credentials-store.ts), password = its secret → that
 *   node, as a member or a third-party client;
 * - username = a well-formed node id without any credential record, password = the shared subnet
 *   token (ADAOS_EDGE_TOKEN) → a member with that id: the first-setup mode. Once a node has a
 *   credential (even a revoked one) the token no longer lets it in.
 *
 * The client id must be bound to the node id (policy.ts clientIdBelongsTo) so that one node cannot
 * take over another's session [MQTT-3.1.4-2] or its inbox and queue-group record.
 */
import { type CheckResult, type CredentialRecord } from "./credentials-store.js";
import { CLIENT_ID_SEPARATOR, NODE_ID, NO_GRANTS, clientIdBelongsTo, type Identity } from "./policy.js";
import { sameSecret } from "./secret-hash.js";

/** CONNACK return codes [MQTT-3.2.2.3]. */
export const CONNACK = { identifierRejected: 2, badUsernameOrPassword: 4, notAuthorized: 5 } as const;

export type AuthFailureReason =
  | "missing_credentials" | "malformed_node_id" | "client_id" | "unknown_node" | "revoked" | "bad_password" | "token_not_allowed";

export type AuthResult =
  | { readonly ok: true; readonly identity: Identity; readonly serial: number | undefined }
  | { readonly ok: false; readonly reason: AuthFailureReason; readonly returnCode: 2 | 4 | 5; readonly message: string };

/** What authentication reads from the credentials store. */
export interface CredentialSource {
  check(username: string, password: string): Promise<CheckResult>;
  get(nodeId: string): CredentialRecord | undefined;
}

export interface AuthenticatorOptions {
  readonly hubId: string;
  /** The password of the agent's own client (username = hubId). */
  readonly hubSecret: string;
  /** The shared subnet token; undefined turns the first-setup mode off. */
  readonly subnetToken: string | undefined;
  readonly credentials: CredentialSource;
}

const fail = (reason: AuthFailureReason, returnCode: 2 | 4 | 5, message: string): AuthResult => ({ ok: false, reason, returnCode, message });

export async function authenticate(opts: AuthenticatorOptions, clientId: string, username: string | undefined, password: Buffer | undefined): Promise<AuthResult> {
  if (username === undefined || username.length === 0 || password === undefined) {
    return fail("missing_credentials", CONNACK.badUsernameOrPassword, "no username (node id) and password given");
  }
  if (!NODE_ID.test(username)) return fail("malformed_node_id", CONNACK.badUsernameOrPassword, `username "${username.slice(0, 64)}" is not a node id`);
  if (!clientIdBelongsTo(clientId, username)) {
    return fail("client_id", CONNACK.identifierRejected, `client id "${clientId.slice(0, 100)}" must be "${username}" or "${username}${CLIENT_ID_SEPARATOR}<suffix>"`);
  }
  const secret = password.toString("utf8");
  if (username === opts.hubId) {
    if (sameSecret(secret, opts.hubSecret)) return { ok: true, identity: { nodeId: username, role: "hub", via: "credential", grants: NO_GRANTS }, serial: undefined };
    return fail("bad_password", CONNACK.badUsernameOrPassword, `${username} is the hub's own id; only the hub's agent connects with it`);
  }
  const token = opts.subnetToken;
  const isToken = token !== undefined && sameSecret(secret, token);
  if (opts.credentials.get(username) === undefined) {
    if (isToken) return { ok: true, identity: { nodeId: username, role: "member", via: "subnet-token", grants: NO_GRANTS }, serial: undefined };
    return token === undefined
      ? fail("unknown_node", CONNACK.badUsernameOrPassword, `node ${username} has no credential (adaos-edge nodes add ${username})`)
      : fail("bad_password", CONNACK.badUsernameOrPassword, `node ${username} has no credential and the password is not the subnet token`);
  }
  const checked = await opts.credentials.check(username, secret);
  if (checked.ok) return { ok: true, identity: checked.identity, serial: checked.serial };
  if (checked.reason === "revoked") return fail("revoked", CONNACK.notAuthorized, `the credential of node ${username} was revoked`);
  if (isToken) return fail("token_not_allowed", CONNACK.notAuthorized, `node ${username} has its own credential; the subnet token no longer lets it in`);
  return fail(checked.reason, CONNACK.badUsernameOrPassword, `wrong password for node ${username}`);
}
