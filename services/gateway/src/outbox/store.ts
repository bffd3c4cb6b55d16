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

/** What became of one attempt, as {@link recordOutcomes} stores it. */
export type RecordedOutcome =
  | { id: string; kind: "delivered" }
  | { id: string; kind: "retry"; error: string; delayMs: number }
  | { id: string; kind: "rejected"; error: string };

/**
 * Leases up to `limit` of the oldest due entries for `leaseMs`, in one short statement: entries
 * another relay is claiming are skipped (SKIP LOCKED) and entries it holds are not due until their
 * lease runs out, so two relays never hold the same entry. The lease is the only thing that
 * outlives the statement; an entry whose relay died mid-send is due again when it expires.
 *
 * @example
 * const entries = await claimDueEntries(sql, { limit: 32, leaseMs: 60_000 });
 */
export async function claimDueEntries(
  sql: ISql,
  { limit, leaseMs }: { limit: number; leaseMs: number },
): Promise<OutboxEntry[]> {
  return await sql<OutboxEntry[]>`
    update outbox
    set leased_until = now() + ${leaseMs} * interval '1 millisecond'
    where id in (${dueEntryIds(sql, limit)})
    returning id, idempotency_key, event, payload, correlation_id, attempts`;
}

/**
 * The query that picks the entries a claim leases, oldest first, skipping rows another claim is
 * locking: a fragment of {@link claimDueEntries}, exported so that its plan can be read. Its filter
 * and order are those of the outbox_pending index (migration 003), so it reads the undelivered
 * entries only, however many delivered ones the table holds.
 *
 * @example
 * const plan = await sql`explain (format json) ${dueEntryIds(sql, 32)}`;
 */
export function dueEntryIds(sql: ISql, limit: number) {
  return sql`
    select id from outbox
    where delivered_at is null and failed_at is null
      and next_attempt_at <= now() and (leased_until is null or leased_until <= now())
    order by id
    limit ${limit}
    for update skip locked`;
}

/**
 * Records the outcomes of one batch in one statement and ends their leases: delivered, due again
 * after `delayMs`, or rejected for good (never tried again). An entry another relay settled in the
 * meantime (after this relay's lease ran out) keeps what that relay recorded.
 *
 * @example
 * await recordOutcomes(sql, [{ id, kind: "delivered" }, { id: other, kind: "retry", error: "HTTP 503", delayMs: 2000 }]);
 */
export async function recordOutcomes(sql: ISql, outcomes: readonly RecordedOutcome[]): Promise<void> {
  if (outcomes.length === 0) return;
  const ids = outcomes.map((outcome) => outcome.id);
  const kinds = outcomes.map((outcome) => outcome.kind);
  const errors = outcomes.map((outcome) => (outcome.kind === "delivered" ? null : outcome.error));
  const delays = outcomes.map((outcome) => (outcome.kind === "retry" ? outcome.delayMs : 0));
  await sql`
    update outbox
    set attempts = outbox.attempts + 1,
        leased_until = null,
        last_error = outcome.error,
        delivered_at = case when outcome.kind = 'delivered' then now() end,
        failed_at = case when outcome.kind = 'rejected' then now() end,
        next_attempt_at = case when outcome.kind = 'retry'
          then now() + outcome.delay_ms * interval '1 millisecond' else outbox.next_attempt_at end
    from unnest(${ids}::bigint[], ${kinds}::text[], ${errors}::text[], ${delays}::integer[])
      as outcome (id, kind, error, delay_ms)
    where outbox.id = outcome.id and outbox.delivered_at is null and outbox.failed_at is null`;
}

/**
 * Ends the leases of entries claimed but never sent (the relay is stopping), so another relay may
 * send them at once instead of when the lease runs out.
 *
 * @example
 * await releaseEntries(sql, unsent.map((entry) => entry.id));
 */
export async function releaseEntries(sql: ISql, ids: readonly string[]): Promise<void> {
  if (ids.length === 0) return;
  await sql`update outbox set leased_until = null where id = any(${ids}::bigint[])`;
}

/**
 * Deletes up to `limit` entries delivered more than `olderThanMs` ago; resolves to how many. Small
 * batches keep each statement's locks and WAL short; call it again while it returns `limit`.
 *
 * @example
 * while ((await deleteDelivered(sql, { olderThanMs: 7 * 86_400_000, limit: 1000 })) === 1000);
 */
export async function deleteDelivered(
  sql: ISql,
  { olderThanMs, limit }: { olderThanMs: number; limit: number },
): Promise<number> {
  const deleted = await sql`
    delete from outbox
    where id in (
      select id from outbox
      where delivered_at < now() - ${olderThanMs} * interval '1 millisecond'
      order by delivered_at
      limit ${limit}
      for update skip locked)`;
  return deleted.count;
}
