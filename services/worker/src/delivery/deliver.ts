import { reportError } from "@ward/shared/errors";
import type { Logger } from "@ward/shared/logging";
import type { Notification, NotificationStore } from "../notifications/store.js";
import type { Job, NotificationQueue } from "../queue/notification-queue.js";
import type { Webhook } from "../webhook/client.js";
import { retryDelay, type BackoffOptions } from "@ward/shared/retry";

export interface DeliveryOptions {
  store: NotificationStore;
  queue: NotificationQueue;
  logger: Logger;
  /** The receiver; undefined (no WEBHOOK_URL) stores the delivery only. */
  webhook: Webhook | undefined;
  /** MAX_ATTEMPTS: webhook calls before a notification is parked as failed. */
  maxAttempts: number;
  backoff?: BackoffOptions;
  /**
   * How long one attempt holds its row, in ms; longer than the webhook timeout. A consumer that
   * dies mid-call leaves the row claimed until then. Default 60000.
   */
  leaseMs?: number;
}

type Outcome = { ok: true } | { ok: false; error: string; err?: unknown };

/**
 * Runs one job: claims its notification row (so two consumers holding the same job cannot both
 * call the receiver), calls the webhook, and stores the outcome: delivered; or queued again with
 * a backoff, the retry held in the queue's retry set; or failed after `maxAttempts`. Resolves
 * once the outcome is stored, and only then may the job be acknowledged; rejects when it could
 * not be stored (the job stays pending and runs again).
 *
 * A job that cannot claim its row resolves too: the row is finished (`job_skipped`), not due yet
 * (held back until it is), or out of attempts after an interrupted call (`job_failed`).
 *
 * Call it inside the job's correlation context: every line it logs carries that ID.
 *
 * @example
 * const deliver = createDelivery({ store, queue, logger, webhook, maxAttempts: 5 });
 * await withCorrelation(job.correlation_id, () => deliver(job));
 */
export function createDelivery(options: DeliveryOptions): (job: Job) => Promise<void> {
  const { store, queue, logger, webhook, maxAttempts, backoff, leaseMs = 60_000 } = options;

  async function call(notification: Notification, attempt: number): Promise<Outcome> {
    const notification_id = notification.id;
    if (!webhook) {
      logger.info({ notification_id }, "webhook_skipped");
      return { ok: true };
    }
    const { event, org_id, task } = notification.payload;
    try {
      const answer = await webhook.send({
        id: notification_id,
        event,
        org_id,
        task,
        correlation_id: notification.correlation_id,
      });
      if (!answer.ok) return { ok: false, error: `webhook answered ${answer.statusCode}` };
      logger.info({ notification_id, attempt, status_code: answer.statusCode }, "webhook_delivered");
      return { ok: true };
    } catch (err) {
      return { ok: false, error: `webhook call failed: ${describe(err)}`, err };
    }
  }

  async function skip(job: Job): Promise<void> {
    const notification_id = job.notification_id;
    const found = await store.inspect(notification_id);
    if (!found) {
      logger.warn({ notification_id }, "job_orphaned");
      return;
    }
    const { notification, dueInMs } = found;
    if (notification.status === "delivered" || notification.status === "failed") {
      logger.info({ notification_id, status: notification.status }, "job_skipped");
    } else if (dueInMs > 0) {
      // Early (a duplicate, or another consumer holds the claim): come back when it is due.
      await queue.scheduleRetry(job, Date.now() + dueInMs);
      logger.debug({ notification_id, status: notification.status, due_in_ms: dueInMs }, "job_deferred");
    } else if (notification.attempts >= maxAttempts) {
      const error = "the last attempt was interrupted before its outcome was stored";
      if (await store.giveUp(notification_id, error)) fail(notification_id, notification.attempts, error);
    } else {
      await queue.scheduleRetry(job, Date.now() + 1000); // lost a race for the claim: look again soon
    }
  }

  function fail(notification_id: string, attempts: number, error: string, err?: unknown): void {
    logger.error({ notification_id, attempts, error, err }, "job_failed");
    reportError(new Error(`notification ${notification_id} failed after ${attempts} attempts: ${error}`));
  }

  return async function deliver(job: Job): Promise<void> {
    const notification = await store.claim(job.notification_id, { leaseMs, maxAttempts });
    if (!notification) return skip(job);
    const notification_id = notification.id;
    const attempt = notification.attempts;
    const started = performance.now();
    logger.info({ notification_id, attempt, max_attempts: maxAttempts }, "job_started");

    const outcome = await call(notification, attempt);
    const duration_ms = Math.round(performance.now() - started);
    let stored: boolean;
    if (outcome.ok) {
      stored = await store.recordDelivered(notification_id, attempt);
      if (stored) logger.info({ notification_id, attempt, duration_ms }, "job_completed");
    } else if (attempt >= maxAttempts) {
      stored = await store.recordFailed(notification_id, attempt, outcome.error);
      if (stored) fail(notification_id, attempt, outcome.error, outcome.err);
    } else {
      const retry_in_ms = retryDelay(attempt, backoff);
      stored = await store.recordRetry(notification_id, attempt, outcome.error, retry_in_ms);
      // Should this fail, the row is queued and due: the sweep or a redelivered job finds it.
      if (stored) await queue.scheduleRetry(job, Date.now() + retry_in_ms);
      if (stored) {
        const line = { notification_id, attempt, retry_in_ms, error: outcome.error, err: outcome.err };
        logger.warn(line, "job_retry_scheduled");
      }
    }
    if (!stored) logger.warn({ notification_id, attempt }, "job_claim_lost");
  };
}

/** A short, safe description of a failed call: the error's code or name, never a payload. */
function describe(err: unknown): string {
  const { code, name } = (err ?? {}) as { code?: unknown; name?: unknown };
  if (typeof code === "string") return code;
  return typeof name === "string" ? name : "unknown error";
}
