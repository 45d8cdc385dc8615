/**
 * Keeps the hub's nats-server users in step with the credentials store while the hub runs. Every
 * REVOCATION_CHECK_MS it reads the active members and, when the users they make differ from the
 * ones the server has, reloads the server (NatsdSupervisor.reload: rewrite, check, SIGHUP). So a
 * member added with `nodes add` can use NATS within one check, and a revoked or re-issued one is
 * cut off within one check: nats-server closes the connections of a user it no longer lists
 * (measured with 2.9.10 for NKey users, which stay connected when other users change), the same
 * promise the MQTT broker keeps.
 *
 * A set the server did not take (no nats-server here, or a config it refused: the supervisor logs
 * why) is not offered again; the next change is.
 */
import { REVOCATION_CHECK_MS } from "../broker/credentials-store.js";
import { systemClock, type Clock, type TimerHandle } from "../core/clock.js";
import type { Component } from "../core/component.js";
import type { Logger } from "../core/logger.js";
import { isNkeyUser, type MemberKey, type NatsUser } from "./users.js";

/** The part of the credentials store this needs (CredentialsStore). */
export interface MembersSource {
  activeMembers(): readonly MemberKey[];
  close(): void;
}

export interface UsersWatchOptions {
  /** Opened at start, closed at stop. */
  readonly open: () => MembersSource;
  /** The users (the hub's own included) that these members make. */
  readonly usersOf: (members: readonly MemberKey[]) => readonly NatsUser[];
  /** The users the server was started with. */
  readonly initial: readonly NatsUser[];
  /** Apply new users; false when the server did not take them. */
  readonly reload: (users: readonly NatsUser[]) => Promise<boolean>;
  readonly logger: Logger;
  readonly clock?: Clock;
  readonly intervalMs?: number;
}

export class NatsUsersWatch implements Component {
  readonly name = "natsd-users";
  #source: MembersSource | undefined;
  #timer: TimerHandle | undefined;
  #checking: Promise<void> | undefined;
  #applied: readonly NatsUser[];
  #refused: string | undefined;

  constructor(private readonly opts: UsersWatchOptions) {
    this.#applied = opts.initial;
  }

  start(signal: AbortSignal): Promise<void> {
    signal.throwIfAborted();
    this.#source = this.opts.open();
    this.#arm();
    return Promise.resolve();
  }

  async stop(): Promise<void> {
    const source = this.#source;
    this.#source = undefined;
    this.#timer?.cancel();
    this.#timer = undefined;
    await this.#checking;
    source?.close();
  }

  /** One look at the store, reloading the server when its users changed (the timer's job). */
  async check(): Promise<void> {
    const source = this.#source;
    const applied = this.#applied;
    if (source === undefined) return;
    let users: readonly NatsUser[];
    try {
      users = this.opts.usersOf(source.activeMembers());
    } catch (err) {
      this.opts.logger.warn({ err }, "could not read the node credentials for nats-server; will try again");
      return;
    }
    const key = fingerprint(users);
    if (key === fingerprint(applied) || key === this.#refused) return;
    const change = { added: diff(users, applied), removed: diff(applied, users) };
    let taken: boolean;
    try {
      taken = await this.opts.reload(users);
    } catch (err) {
      this.opts.logger.warn({ err, ...change }, "could not give nats-server the changed node credentials; will try again");
      return;
    }
    if (taken) {
      this.#applied = users;
      this.#refused = undefined;
      this.opts.logger.info(change, "nats-server users follow the node credentials");
    } else {
      this.#refused = key;
      this.opts.logger.debug(change, "nats-server did not take the changed node credentials");
    }
  }

  #arm(): void {
    this.#timer = (this.opts.clock ?? systemClock).setTimer(() => {
      this.#timer = undefined;
      const log = this.opts.logger;
      this.#checking = this.check().catch((err: unknown) => log.error({ err }, "nats-server users check failed")).finally(() => {
        this.#checking = undefined;
        if (this.#source !== undefined) this.#arm();
      });
    }, this.opts.intervalMs ?? REVOCATION_CHECK_MS);
  }
}

function fingerprint(users: readonly NatsUser[]): string {
  return JSON.stringify(users);
}

/** Node ids whose login in `a` is not in `b` (a re-issued node is in both directions). */
function diff(a: readonly NatsUser[], b: readonly NatsUser[]): string[] {
  const logins = new Set(b.map(login));
  return a.filter((u) => u.role !== "hub" && !logins.has(login(u))).map((u) => u.nodeId);
}

function login(u: NatsUser): string {
  return isNkeyUser(u) ? `${u.nodeId} nkey ${u.nkey}` : `${u.nodeId} user ${u.user} ${u.password}`;
}
