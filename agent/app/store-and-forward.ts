/**
 * The node's store-and-forward state, wired once for both roles: <data_dir>/outbox.db opened (a
 * corrupt file is quarantined and salvaged, see outbox/open-store.ts), the SQLite outbox with its
 * dead-letter queue, and the inbox. As a component it only closes them: it sits right after the
 * node state so it stops after everything that writes to it.
 */
import type { Config } from "../config/config.js";
import type { Clock } from "../core/clock.js";
import type { Component } from "../core/component.js";
import type { Logger } from "../core/logger.js";
import type { MetricsRegistry } from "../core/metrics.js";
import type { DeadLetters } from "../outbox/dead-letters.js";
import type { Inbox } from "../outbox/inbox.js";
import { openStore } from "../outbox/open-store.js";
import type { Outbox } from "../outbox/outbox.js";
import type { RelayOptions } from "../outbox/relay.js";
import { SqliteInbox } from "../outbox/sqlite-inbox.js";
import { SqliteOutbox } from "../outbox/sqlite-outbox.js";
import type { Db } from "../store/sqlite.js";

/**
 * Received ids wait this long for company before their commit: a hub hearing 500 members gets
 * ~100 envelopes a second, one every few ms, and would otherwise commit (fsync) each alone. A
 * crash loses at most this window of ids, which only matters if the same envelopes are
 * redelivered after the restart; the bus's in-memory dedup still covers the running process.
 */
export const INBOX_COMMIT_MS = 50;

export class StoreAndForward implements Component {
  readonly name = "store";
  readonly outbox: Outbox;
  readonly inbox: Inbox;
  readonly #db: Db;

  constructor(config: Config, deps: { logger: Logger; clock: Clock; metrics: MetricsRegistry }) {
    const { db } = openStore(config.data_dir, deps.logger, deps.clock);
    this.#db = db;
    this.outbox = new SqliteOutbox(db, {
      limits: { maxRows: config.outbox.max_rows, maxBytes: config.outbox.max_bytes, ttlMs: config.outbox.ttl_s * 1000 },
      dlqMaxRows: config.outbox.dlq_max_rows,
      clock: deps.clock,
      logger: deps.logger,
    });
    this.inbox = new SqliteInbox(db, { window: config.inbox.window, clock: deps.clock, commitEveryMs: INBOX_COMMIT_MS });
    const stats = () => this.outbox.stats();
    deps.metrics.gauge("adaos_outbox_depth", "Envelopes waiting in the outbox.", () => [[{}, stats().depth]]);
    deps.metrics.gauge("adaos_outbox_bytes", "Bytes of envelopes waiting in the outbox.", () => [[{}, stats().bytes]]);
    deps.metrics.gauge("adaos_outbox_oldest_age_seconds", "Age of the oldest envelope waiting in the outbox.", () => [[{}, stats().oldestAgeMs / 1000]]);
    deps.metrics.gauge("adaos_outbox_since_start", "Outbox entries since the agent started, by what happened: added, sent, expired, overflowed, poisoned, retried.", () => {
      const s = stats();
      return [[{ what: "added" }, s.added], [{ what: "sent" }, s.sent], [{ what: "expired" }, s.expired], [{ what: "overflowed" }, s.overflowed], [{ what: "poisoned" }, s.poisoned], [{ what: "retried" }, s.retried]];
    });
    deps.metrics.gauge("adaos_dlq_entries", "Dead letters kept, by reason.", () => Object.entries(this.dlq.count().byReason).map(([reason, n]) => [{ reason }, n]));
  }

  get dlq(): DeadLetters {
    return this.outbox.dlq;
  }

  start(): Promise<void> {
    return Promise.resolve();
  }

  async stop(): Promise<void> {
    await this.outbox.close();
    await this.inbox.close();
    this.#db.close();
  }
}

/** The relay's batch and retry settings from config (the same for a hub's root relay and a member's hub relay). */
export function relayTuning(config: Config): Pick<RelayOptions, "batch" | "backoff" | "probeIntervalMs"> {
  return {
    batch: config.outbox.batch,
    backoff: { baseMs: config.outbox.retry_base_ms, capMs: config.outbox.retry_cap_ms },
    probeIntervalMs: config.outbox.probe_interval_ms,
  };
}
