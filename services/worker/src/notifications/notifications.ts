import { currentOrNewCorrelationId } from "@ward/shared/correlation";
import { ApiError } from "@ward/shared/errors";
import type { Logger } from "@ward/shared/logging";
import type { NotificationQueue } from "../queue/notification-queue.js";
import type { NotificationRequest, NotificationView } from "./schemas.js";
import { isDatabaseUnavailable, type Notification, type NotificationStore } from "./store.js";

export interface NotificationsOptions {
  store: NotificationStore;
  queue: NotificationQueue;
  logger: Logger;
}

export type Notifications = ReturnType<typeof createNotifications>;

/**
 * Accepting and looking up notifications.
 *
 * Accepting stores the row first and queues its job second. The row is the promise: once it is
 * stored the caller gets 202, even when Redis is away and the job cannot be queued
 * (`job_enqueue_failed`): the scheduler's sweep queues it later. When PostgreSQL is away nothing
 * is promised and the request fails with 5xx, so the caller (the gateway's outbox) tries again.
 * A second request with the same idempotency key returns the first notification and queues nothing.
 *
 * @example
 * const notifications = createNotifications({ store, queue, logger });
 * const { notification } = await notifications.accept(body, "3f0c…:task.created");
 */
export function createNotifications({ store, queue, logger }: NotificationsOptions) {
  return {
    async accept(payload: NotificationRequest, idempotencyKey: string) {
      const correlationId = currentOrNewCorrelationId();
      const { notification, created } = await store
        .insert({ idempotencyKey, payload, correlationId })
        .catch((error: unknown) => {
          if (!isDatabaseUnavailable(error)) throw error;
          throw new ApiError(503, "service_unavailable", "The notification could not be stored; try again", {
            cause: error,
          });
        });
      // `event` is the log line's own name: the notification's event goes under another key.
      const fields = {
        notification_id: notification.id,
        notification_event: payload.event,
        task_id: payload.task.id,
      };
      if (!created) {
        logger.info({ ...fields, status: notification.status }, "notification_duplicate");
        return { notification, created };
      }
      logger.info(fields, "notification_accepted");
      try {
        const entry_id = await queue.enqueue(notification.id);
        logger.info({ notification_id: notification.id, entry_id }, "job_enqueued");
      } catch (err) {
        logger.warn({ notification_id: notification.id, err }, "job_enqueue_failed");
      }
      return { notification, created };
    },

    async find(id: string): Promise<NotificationView | undefined> {
      const notification = await store.find(id);
      return notification && view(notification);
    },
  };
}

/** The public shape of a notification (`GET /v1/notifications/:id`). */
export function view(notification: Notification): NotificationView {
  return {
    id: notification.id,
    event: notification.event,
    status: notification.status,
    attempts: notification.attempts,
    last_error: notification.last_error,
    correlation_id: notification.correlation_id,
    created_at: notification.created_at.toISOString(),
    updated_at: notification.updated_at.toISOString(),
    delivered_at: notification.delivered_at?.toISOString() ?? null,
  };
}
