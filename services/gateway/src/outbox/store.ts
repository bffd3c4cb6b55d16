import type { ISql } from "postgres";
import type { Task } from "../tasks/schemas.js";

/** What the worker is asked to announce. */
export type NotificationEvent = "task.created" | "task.completed";

/** The body of `POST /v1/notifications` (the service-to-service contract). */
export interface NotificationRequest {
  event: NotificationEvent;
  org_id: string;
  task: { id: string; title: string; status: Task["status"] };
}

/** An undelivered notification request, as the relay sees it. */
export interface OutboxEntry {
  id: string;
  idempotency_key: string;
  event: NotificationEvent;
  payload: NotificationRequest;
  correlation_id: string;
  /** Attempts made before this one. */
  attempts: number;
}

/**
 * Records, inside the caller's transaction, that the worker must announce `event` for `task`.
 * The key `<task_id>:<event>` makes a second request for the same event a no-op (undefined).
 *
 * @example
 * await sql.begin(async (tx) => {
 *   const task = await insertTask(tx, draft);
 *   await enqueueNotification(tx, { event: "task.created", task, correlationId });
 * });
 */
export async function enqueueNotification(
  tx: ISql,
  { event, task, correlationId }: { event: NotificationEvent; task: Task; correlationId: string },
): Promise<{ id: string; idempotency_key: string } | undefined> {
  const payload: NotificationRequest = {
    event,
    org_id: task.org_id,
    task: { id: task.id, title: task.title, status: task.status },
  };
  const [row] = await tx<{ id: string; idempotency_key: string }[]>`
    insert into outbox (idempotency_key, event, payload, correlation_id)
    values (${`${task.id}:${event}`}, ${event}, ${tx.json(payload as never)}, ${correlationId})
    on conflict (idempotency_key) do nothing
    returning id, idempotency_key`;
  return row;
}

/**
 * Locks the oldest due, undelivered entry for the rest of the transaction, skipping entries
 * another relay holds: two relays never hold the same entry.
 *
 * @example
 * await sql.begin(async (tx) => { const entry = await claimDueEntry(tx); ... });
 */
export async function claimDueEntry(tx: ISql): Promise<OutboxEntry | undefined> {
  const [row] = await tx<OutboxEntry[]>`
    select id, idempotency_key, event, payload, correlation_id, attempts
    from outbox
    where delivered_at is null and failed_at is null and next_attempt_at <= now()
    order by id
    limit 1
    for update skip locked`;
  return row;
}

/**
 * Marks an entry delivered.
 *
 * @example
 * await markDelivered(tx, entry.id);
 */
export async function markDelivered(tx: ISql, id: string): Promise<void> {
  await tx`update outbox set delivered_at = now(), attempts = attempts + 1, last_error = null where id = ${id}`;
}

/**
 * Records a failed attempt and when to try again.
 *
 * @example
 * await scheduleRetry(tx, entry.id, { error: "HTTP 503", delayMs: 2000 });
 */
export async function scheduleRetry(
  tx: ISql,
  id: string,
  { error, delayMs }: { error: string; delayMs: number },
): Promise<void> {
  await tx`
    update outbox
    set attempts = attempts + 1, last_error = ${error},
        next_attempt_at = now() + ${delayMs} * interval '1 millisecond'
    where id = ${id}`;
}

/**
 * Records that the worker refused the entry for good: it is never tried again.
 *
 * @example
 * await markRejected(tx, entry.id, { error: "HTTP 400 validation_failed" });
 */
export async function markRejected(tx: ISql, id: string, { error }: { error: string }): Promise<void> {
  await tx`update outbox set attempts = attempts + 1, last_error = ${error}, failed_at = now() where id = ${id}`;
}
