import type { ISql } from "postgres";
import type { PagePosition } from "./cursor.js";
import type { Task } from "./schemas.js";

/** The pool or a transaction: the store's functions work on either. */
export type Queryable = ISql;

interface TaskRow {
  id: string;
  org_id: string;
  created_by: string;
  title: string;
  description: string | null;
  status: "open" | "completed";
  created_at: Date;
  completed_at: Date | null;
}

/** What a new task is made of; its id, status and timestamps come from the database. */
export interface TaskDraft {
  orgId: string;
  createdBy: string;
  title: string;
  description: string | undefined;
  correlationId: string;
}

/**
 * Inserts an open task.
 *
 * @example
 * const task = await insertTask(tx, { orgId, createdBy, title, description, correlationId });
 */
export async function insertTask(db: Queryable, draft: TaskDraft): Promise<Task> {
  const [row] = await db<TaskRow[]>`
    insert into tasks (org_id, created_by, title, description, correlation_id)
    values (${draft.orgId}, ${draft.createdBy}, ${draft.title}, ${draft.description ?? null}, ${draft.correlationId})
    returning *`;
  return toTask(row!);
}

/**
 * One task of an organisation, or undefined when it has none with that id.
 *
 * @example
 * const task = await findTask(sql, "org-1", id);
 */
export async function findTask(db: Queryable, orgId: string, id: string): Promise<Task | undefined> {
  const [row] = await db<TaskRow[]>`select * from tasks where org_id = ${orgId} and id = ${id}`;
  return row && toTask(row);
}

/**
 * Up to `limit` tasks of an organisation, newest first, strictly after `after`; each with its
 * exact position, for the next page's cursor. Positions stay text end to end: a JavaScript Date
 * (and the client's timestamptz parameter, which goes through one) would cut microseconds.
 *
 * @example
 * const rows = await listTasks(sql, "org-1", { limit: 21 });
 */
export async function listTasks(
  db: Queryable,
  orgId: string,
  { limit, after }: { limit: number; after?: PagePosition },
): Promise<{ task: Task; position: PagePosition }[]> {
  const rows = await db<(TaskRow & { position: string })[]>`
    select *, to_char(created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as position
    from tasks
    where org_id = ${orgId}
      ${after ? db`and (created_at, id) < (${after.createdAt}::text::timestamptz, ${after.id}::uuid)` : db``}
    order by created_at desc, id desc
    limit ${limit}`;
  return rows.map((row) => ({ task: toTask(row), position: { createdAt: row.position, id: row.id } }));
}

/**
 * Completes an open task; undefined when the organisation has no open task with that id (it
 * may be unknown, or completed already: the caller tells which).
 *
 * @example
 * const completed = await completeOpenTask(tx, "org-1", id);
 */
export async function completeOpenTask(db: Queryable, orgId: string, id: string): Promise<Task | undefined> {
  const [row] = await db<TaskRow[]>`
    update tasks set status = 'completed', completed_at = now()
    where org_id = ${orgId} and id = ${id} and status = 'open'
    returning *`;
  return row && toTask(row);
}

function toTask(row: TaskRow): Task {
  return {
    id: row.id,
    org_id: row.org_id,
    created_by: row.created_by,
    title: row.title,
    description: row.description,
    status: row.status,
    created_at: row.created_at.toISOString(),
    completed_at: row.completed_at?.toISOString() ?? null,
  };
}
