import { setTimeout as sleep } from "node:timers/promises";
import { withCorrelation } from "@ward/shared/correlation";
import { createFailureLog, type FailureLog, type Logger } from "@ward/shared/logging";
import type { NotificationStore } from "../notifications/store.js";
import type { NotificationQueue } from "../queue/notification-queue.js";

export interface SchedulerOptions {
  queue: NotificationQueue;
  store: NotificationStore;
  logger: Logger;
  /** How often due retries move into the stream, in ms. Default 250. */
  tickMs?: number;
  /** How often the table is swept for overdue rows, in ms. Default 15000. */
  sweepEveryMs?: number;
  /** A row still unfinished this long after it was due has lost its job. Default 60000. */
  sweepGraceMs?: number;
}

export interface Scheduler {
  start(): void;
  /** Stops after the current round; resolves when it has. */
  stop(): Promise<void>;
}

/**
 * The timekeeper of the queue design. Jobs live in the stream only while they may run now:
 *
 * - A failed attempt is stored (row queued, `next_attempt_at` = now + backoff), its job put in
 *   the retry set with that due time, and acknowledged: the consumer never sleeps on a retry,
 *   so one failing receiver or notification never holds up the others. Every `tickMs` this
 *   scheduler moves due retries back into the stream (atomically, in Redis).
 * - The row is the source of truth, and the stream can lose a job: Redis was away when the
 *   notification was accepted (the row is stored, the XADD failed, the caller still got 202),
 *   Redis restarted without its data, or a worker died between storing a retry and scheduling
 *   it. Every `sweepEveryMs` the sweep re-enqueues, under their own correlation IDs, rows still
 *   queued (or claimed by a consumer that died) `sweepGraceMs` after they were due
 *   (`job_requeued`). A duplicate this may create is harmless: it finds the row claimed or done.
 *
 * @example
 * const scheduler = createScheduler({ queue, store, logger });
 * scheduler.start();
 * lifecycle.onDrain("scheduler", () => scheduler.stop());
 */
export function createScheduler(options: SchedulerOptions): Scheduler {
  const { queue, store, logger } = options;
  const tickMs = options.tickMs ?? 250;
  const sweepEveryMs = options.sweepEveryMs ?? 15_000;
  const sweepGraceMs = options.sweepGraceMs ?? 60_000;
  const stopped = new AbortController();
  let loop: Promise<void> | undefined;

  async function promote(): Promise<void> {
    for (const job of await queue.promoteDue(Date.now())) {
      withCorrelation(job.correlation_id, () =>
        logger.debug({ notification_id: job.notification_id, reason: "retry_due" }, "job_enqueued"),
      );
    }
  }

  async function sweep(): Promise<void> {
    for (const row of await store.takeOverdue(sweepGraceMs, 100)) {
      await withCorrelation(row.correlation_id, async () => {
        await queue.enqueue(row.id);
        logger.warn({ notification_id: row.id, grace_ms: sweepGraceMs }, "job_requeued");
      });
    }
  }

  /** Each task's failures, logged once when it starts failing and once when it recovers. */
  const failureLogOf = (task: string): FailureLog =>
    createFailureLog(logger, {
      failed: "scheduler_error",
      recovered: "scheduler_recovered",
      fields: { task },
    });
  const promotion = failureLogOf("promote_retries");
  const sweeping = failureLogOf("sweep_overdue");

  async function run(task: () => Promise<void>, failures: FailureLog): Promise<void> {
    try {
      await task();
      failures.succeeded();
    } catch (err) {
      // Redis or Postgres is away: say so once, keep trying.
      failures.failed(err);
    }
  }

  async function loopUntilStopped(): Promise<void> {
    let nextSweepAt = Date.now() + Math.min(sweepEveryMs, sweepGraceMs);
    while (!stopped.signal.aborted) {
      await run(promote, promotion);
      if (Date.now() >= nextSweepAt) {
        await run(sweep, sweeping);
        nextSweepAt = Date.now() + sweepEveryMs;
      }
      await sleep(tickMs, undefined, { signal: stopped.signal }).catch(() => {});
    }
  }

  return {
    start() {
      loop ??= loopUntilStopped();
    },
    async stop() {
      stopped.abort();
      await loop;
    },
  };
}
