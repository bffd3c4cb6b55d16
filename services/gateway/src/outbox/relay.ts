import { withCorrelation } from "@ward/shared/correlation";
import { reportError } from "@ward/shared/errors";
import { createFailureLog, type Logger } from "@ward/shared/logging";
import type { Sql } from "@ward/shared/postgres";
import { retryDelay } from "@ward/shared/retry";
import type { Dispatcher } from "undici";
import {
  claimDueEntries,
  deleteDelivered,
  recordOutcomes,
  type OutboxEntry,
  type RecordedOutcome,
} from "./store.js";
import { workerCall, type WorkerAnswer } from "./worker-call.js";

export interface OutboxRelayOptions {
  sql: Sql;
  /** The worker's connection pool (`createServiceClient(WORKER_URL)`). */
  worker: Dispatcher;
  /** Sent as `Authorization: Bearer <token>`. */
  workerToken: string;
  logger: Logger;
  /** How often to look for due entries when nothing kicks the relay. Default 1000 ms. */
  pollIntervalMs?: number;
  /** Wait after the first failed attempt; it doubles with each further failure. Default 1000 ms. */
  retryBaseMs?: number;
  /** Longest wait between attempts. Default 30000 ms. */
  retryMaxMs?: number;
  /**
   * Most calls to the worker in flight at once. Default 32, the pool's connections. No PostgreSQL
   * connection is held while they are in flight (figures: bench/README.md).
   */
  concurrency?: number;
  /**
   * Batches in flight at once, each of `concurrency / lanes` entries claimed, sent and recorded
   * together: a batch waits for its slowest call, the others go on meanwhile. Default 4.
   */
  lanes?: number;
  /**
   * How long a claimed entry stays this relay's: when it runs out (the gateway died mid-send) the
   * entry is due again. Default 60000 ms, longer than a call to the worker may take.
   */
  leaseMs?: number;
  /** Delivered entries older than this are deleted. Default: kept. */
  retentionMs?: number;
  /** How often the retention looks for delivered entries to delete. Default 60000 ms. */
  retentionIntervalMs?: number;
  /** Most entries one retention statement deletes; it goes on, one batch per pass, while there are more. Default 1000. */
  retentionBatchSize?: number;
}

export interface OutboxRelay {
  /** Starts delivering: now, every poll interval, and whenever kicked. */
  start(): this;
  /** Asks for a delivery pass soon (after a commit that wrote an entry); never waits for it. */
  kick(): void;
  /** Delivers every due entry no other relay holds, a batch at a time; resolves to how many it attempted. */
  deliverDue(): Promise<number>;
  /** Stops after every delivery in flight has finished and been recorded. */
  stop(): Promise<void>;
}

/**
 * Delivers the outbox to the worker, a batch at a time: one short statement leases up to
 * `concurrency` due entries (SKIP LOCKED, so several gateway replicas never hold the same entry),
 * they are sent at once outside any transaction, each under the correlation ID of the request that
 * wrote it and with the Idempotency-Key `<task_id>:<event>` that lets the worker drop repeats, and
 * one statement records every outcome. A failure is retried with ward's backoff
 * (`@ward/shared/retry`); a 4xx other than 408 or 429 is final (`outbox_delivery_rejected`). An
 * entry whose lease runs out unrecorded (the gateway died mid-send) is sent again, and the worker
 * drops the repeat. With `retentionMs`, delivered entries older than that are deleted in small
 * batches.
 *
 * @example
 * const relay = createOutboxRelay({ sql, worker, workerToken: settings.WORKER_TOKEN, logger }).start();
 * lifecycle.onDrain("outbox_relay", () => relay.stop());
 */
export function createOutboxRelay(options: OutboxRelayOptions): OutboxRelay {
  const { sql, logger, retentionMs } = options;
  const pollIntervalMs = options.pollIntervalMs ?? 1_000;
  const backoff = { baseMs: options.retryBaseMs ?? 1_000, maxMs: options.retryMaxMs ?? 30_000 };
  const concurrency = options.concurrency ?? 32;
  const leaseMs = options.leaseMs ?? 60_000;
  const retentionIntervalMs = options.retentionIntervalMs ?? 60_000;
  const retentionBatchSize = options.retentionBatchSize ?? 1_000;
  if (!Number.isInteger(concurrency) || concurrency < 1) {
    throw new Error(`The outbox relay's concurrency must be a whole number above 0, not ${concurrency}`);
  }
  const laneCount = Math.min(options.lanes ?? 4, concurrency);
  const batchSize = Math.ceil(concurrency / laneCount);
  const send = workerCall(options);
  // Once per outage (PostgreSQL away, say), not on every poll.
  const passes = createFailureLog(logger, {
    failed: "outbox_relay_failed",
    recovered: "outbox_relay_recovered",
    level: "error",
  });

  let running: Promise<void> | undefined;
  let stopping = false;
  let kicked = false;
  let wake: (() => void) | undefined;
  // Outcomes PostgreSQL was not there to record (it went away mid-batch): recorded first on the
  // next pass, so the entries are settled as soon as it is back, not when their leases run out.
  const unrecorded: RecordedOutcome[] = [];

  /** One batch: claim, send all, log each under its own correlation ID, record all at once. */
  async function deliverBatch(): Promise<number> {
    const entries = await claimDueEntries(sql, { limit: batchSize, leaseMs });
    const attempts = await Promise.all(
      entries.map((entry) => inContextOf(entry, async () => ({ entry, answer: await send(entry) }))),
    );
    const outcomes = attempts.map(({ entry, answer }) => outcomeOf(entry, answer));
    attempts.forEach(({ entry, answer }, index) =>
      inContextOf(entry, () => logOutcome(entry, answer, outcomes[index]!)),
    );
    await record(outcomes);
    return entries.length;
  }

  async function record(outcomes: RecordedOutcome[]): Promise<void> {
    try {
      await recordOutcomes(sql, outcomes);
    } catch (err) {
      unrecorded.push(...outcomes);
      throw err;
    }
  }

  function outcomeOf(entry: OutboxEntry, answer: WorkerAnswer): RecordedOutcome {
    if (answer.kind === "retry") {
      const delayMs = retryDelay(entry.attempts + 1, backoff);
      return { id: entry.id, kind: "retry", error: answer.error, delayMs };
    }
    return answer.kind === "delivered"
      ? { id: entry.id, kind: "delivered" }
      : { id: entry.id, kind: "rejected", error: answer.error };
  }

  function logOutcome(entry: OutboxEntry, answer: WorkerAnswer, outcome: RecordedOutcome): void {
    const attempt = entry.attempts + 1;
    if (answer.kind === "delivered") {
      logger.info(
        { attempt, status_code: answer.statusCode, notification_id: answer.notificationId },
        "outbox_delivered",
      );
    } else if (answer.kind === "retry") {
      const retry_in_ms = outcome.kind === "retry" ? outcome.delayMs : undefined;
      logger.warn(
        { err: answer.err, attempt, status_code: answer.statusCode, retry_in_ms },
        "outbox_delivery_failed",
      );
    } else {
      logger.error(
        { attempt, status_code: answer.statusCode, last_error: answer.error },
        "outbox_delivery_rejected",
      );
      reportError(new Error(`The worker rejected notification ${entry.idempotency_key}: ${answer.error}`));
    }
  }

  /**
   * `lanes` loops of batches, each until a batch comes back short (nothing more is due, or other
   * relays hold it): while one lane waits for the slowest call of its batch, the others send.
   */
  async function deliverDue(): Promise<number> {
    if (unrecorded.length > 0) await record(unrecorded.splice(0));
    let attempted = 0;
    async function lane(): Promise<void> {
      while (!stopping) {
        const count = await deliverBatch();
        attempted += count;
        if (count < batchSize) break;
      }
    }
    // allSettled, not all: when one lane fails (PostgreSQL away), wait for the others still in
    // flight, so neither stop() nor the next pass starts while a batch is unrecorded.
    const lanes = await Promise.allSettled(Array.from({ length: laneCount }, lane));
    const failed = lanes.find((result) => result.status === "rejected");
    if (failed) throw failed.reason;
    return attempted;
  }

  let nextRetentionAt = 0;
  let retentionDeleted = 0;

  /** One retention batch when one is due; the next pass deletes the next batch, if any. */
  async function applyRetention(): Promise<void> {
    if (retentionMs === undefined || Date.now() < nextRetentionAt) return;
    const deleted = await deleteDelivered(sql, { olderThanMs: retentionMs, limit: retentionBatchSize });
    retentionDeleted += deleted;
    if (deleted === retentionBatchSize) return;
    if (retentionDeleted > 0) {
      logger.info({ deleted: retentionDeleted, retention_ms: retentionMs }, "outbox_retention_deleted");
    }
    retentionDeleted = 0;
    nextRetentionAt = Date.now() + retentionIntervalMs;
  }

  async function loop(): Promise<void> {
    while (!stopping) {
      kicked = false;
      try {
        await deliverDue();
        await applyRetention();
        passes.succeeded();
      } catch (err) {
        passes.failed(err);
      }
      const moreToDelete = retentionDeleted > 0;
      if (!stopping && !kicked && !moreToDelete) await pause();
    }
  }

  /** Waits out the poll interval, or less when kicked or stopped. */
  function pause(): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, pollIntervalMs);
      function done() {
        clearTimeout(timer);
        wake = undefined;
        resolve();
      }
      wake = done;
    });
  }

  return {
    start() {
      if (!running && !stopping) {
        // The loop runs in the context of whoever starts it, never of the request that kicks it.
        running = loop();
        logger.info({ poll_interval_ms: pollIntervalMs }, "outbox_relay_started");
      }
      return this;
    },
    kick() {
      kicked = true;
      wake?.();
    },
    deliverDue,
    async stop() {
      stopping = true;
      wake?.();
      await running;
      if (running) logger.info("outbox_relay_stopped");
    },
  };
}

/** Runs `fn` under the correlation ID of the request that wrote `entry`, with its identifiers. */
function inContextOf<T>(entry: OutboxEntry, fn: () => T): T {
  const fields = { task_id: entry.payload.task.id, outbox_id: entry.id, notification_event: entry.event };
  return withCorrelation(entry.correlation_id, fn, fields);
}
