import type { Sql } from "@ward/shared/postgres";
import type { NotificationRequest, NotificationStatus } from "./schemas.js";

/** A row of the `notifications` table. */
export interface Notification {
  id: string;
  idempotency_key: string;
  event: string;
  org_id: string;
  payload: NotificationRequest;
  status: NotificationStatus;
  attempts: number;
  last_error: string | null;
  correlation_id: string;
  next_attempt_at: Date | null;
  created_at: Date;
  updated_at: Date;
  delivered_at: Date | null;
}

export interface NewNotification {
  idempotencyKey: string;
  payload: NotificationRequest;
  correlationId: string;
}

/** Why a job could not claim its row, and what the row looks like now. */
export interface Unclaimed {
  notification: Notification;
  /** For a row that is still unfinished: milliseconds until it may be claimed (0 = now). */
  dueInMs: number;
}

/** Whether an error says the database is away (worth retrying later) rather than a query is wrong. */
export { isDatabaseUnavailable } from "@ward/shared/postgres";

export type NotificationStore = ReturnType<typeof createNotificationStore>;

// Durations are passed as milliseconds and computed with the database's clock, so pods whose
// clocks disagree still agree on when a row is due.
const ms = (value: number) => `${Math.max(0, Math.round(value))} milliseconds`;

/**
 * The `notifications` table. Every state change after acceptance is guarded by
 * `status = 'delivering' and attempts = <the attempt>`: only the consumer holding the current
 * claim can record its outcome, so a consumer that lost its claim cannot overwrite a newer one.
 *
 * @example
 * const store = createNotificationStore(sql);
 * const { notification, created } = await store.insert({ idempotencyKey, payload, correlationId });
 */
export function createNotificationStore(sql: Sql) {
  return {
    /** Inserts a queued notification, or returns the one already stored under the same key. */
    async insert(input: NewNotification): Promise<{ notification: Notification; created: boolean }> {
      const { idempotencyKey, payload, correlationId } = input;
      const [inserted] = await sql<Notification[]>`
        insert into notifications (idempotency_key, event, org_id, payload, correlation_id, next_attempt_at)
        values (${idempotencyKey}, ${payload.event}, ${payload.org_id}, ${sql.json(payload)},
                ${correlationId}, now())
        on conflict (idempotency_key) do nothing
        returning *`;
      if (inserted) return { notification: inserted, created: true };
      const [existing] = await sql<Notification[]>`
        select * from notifications where idempotency_key = ${idempotencyKey}`;
      if (!existing) throw new Error("notification vanished between insert and select");
      return { notification: existing, created: false };
    },

    async find(id: string): Promise<Notification | undefined> {
      const [row] = await sql<Notification[]>`select * from notifications where id = ${id}`;
      return row;
    },

    /**
     * Takes the row for one delivery attempt, atomically: only when it is unfinished, due (a
     * `delivering` row is due once its previous claim expired) and has attempts left. The claim
     * lasts `leaseMs`; the row's `attempts` is then this attempt's number.
     */
    async claim(id: string, { leaseMs, maxAttempts }: { leaseMs: number; maxAttempts: number }) {
      const [row] = await sql<Notification[]>`
        update notifications
        set status = 'delivering', attempts = attempts + 1, updated_at = now(),
            next_attempt_at = now() + ${ms(leaseMs)}::interval
        where id = ${id} and status in ('queued', 'delivering') and next_attempt_at <= now()
          and attempts < ${maxAttempts}
        returning *`;
      return row;
    },

    /** The row a job could not claim, with how long until it is due. */
    async inspect(id: string): Promise<Unclaimed | undefined> {
      const [row] = await sql<(Notification & { due_in_ms: number })[]>`
        select *, greatest(0, ceil(extract(epoch from next_attempt_at - now()) * 1000))::int as due_in_ms
        from notifications where id = ${id}`;
      if (!row) return undefined;
      const { due_in_ms, ...notification } = row;
      return { notification, dueInMs: due_in_ms ?? 0 };
    },

    /** Attempt `attempt` reached the receiver (or there is none): delivered. */
    async recordDelivered(id: string, attempt: number): Promise<boolean> {
      const rows = await sql`
        update notifications
        set status = 'delivered', delivered_at = now(), updated_at = now(), next_attempt_at = null,
            last_error = null
        where id = ${id} and status = 'delivering' and attempts = ${attempt}`;
      return rows.count === 1;
    },

    /** Attempt `attempt` failed; the next one is due in `delayMs`. */
    async recordRetry(id: string, attempt: number, error: string, delayMs: number): Promise<boolean> {
      const rows = await sql`
        update notifications
        set status = 'queued', last_error = ${error}, updated_at = now(),
            next_attempt_at = now() + ${ms(delayMs)}::interval
        where id = ${id} and status = 'delivering' and attempts = ${attempt}`;
      return rows.count === 1;
    },

    /** Attempt `attempt` failed and was the last: failed for good. */
    async recordFailed(id: string, attempt: number, error: string): Promise<boolean> {
      const rows = await sql`
        update notifications
        set status = 'failed', last_error = ${error}, updated_at = now(), next_attempt_at = null
        where id = ${id} and status = 'delivering' and attempts = ${attempt}`;
      return rows.count === 1;
    },

    /**
     * Parks an unfinished, due row that has no attempts left (its last attempt was interrupted,
     * so no outcome was ever recorded) as failed.
     */
    async giveUp(id: string, error: string): Promise<boolean> {
      const rows = await sql`
        update notifications
        set status = 'failed', last_error = coalesce(last_error, ${error}), updated_at = now(),
            next_attempt_at = null
        where id = ${id} and status in ('queued', 'delivering') and next_attempt_at <= now()`;
      return rows.count === 1;
    },

    /**
     * Unfinished rows due for longer than `graceMs` (their job never reached the stream, or was
     * lost with Redis), at most `limit`, oldest first. Each is re-armed (due now) so that no other
     * sweep takes it again before another `graceMs` has passed.
     */
    async takeOverdue(
      graceMs: number,
      limit: number,
    ): Promise<Pick<Notification, "id" | "correlation_id">[]> {
      return sql<Pick<Notification, "id" | "correlation_id">[]>`
        with overdue as (
          select id from notifications
          where status in ('queued', 'delivering') and next_attempt_at < now() - ${ms(graceMs)}::interval
          order by next_attempt_at
          limit ${limit}
          for update skip locked
        )
        update notifications n set next_attempt_at = now()
        from overdue where n.id = overdue.id
        returning n.id, n.correlation_id`;
    },
  };
}
