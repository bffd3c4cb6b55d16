import { bindContext, currentOrNewCorrelationId } from "@ward/shared/correlation";
import { ApiError } from "@ward/shared/errors";
import type { Logger } from "@ward/shared/logging";
import type { Sql } from "@ward/shared/postgres";
import type { Caller } from "../auth/authenticate.js";
import { enqueueNotification, type NotificationEvent } from "../outbox/store.js";
import type { TaskCache } from "./cache.js";
import { decodeCursor, encodeCursor } from "./cursor.js";
import type { NewTask, Task, TaskPage } from "./schemas.js";
import { completeOpenTask, findTask, insertTask, listTasks } from "./store.js";
import type { ISql } from "postgres";

export interface TasksOptions {
  sql: Sql;
  cache: TaskCache;
  /** Told after each commit that wrote a notification request. */
  outbox: { kick(): void };
  logger: Logger;
}

/** What callers can do with their organisation's tasks. */
export interface Tasks {
  create(caller: Caller, input: NewTask): Promise<Task>;
  list(caller: Caller, query: { limit: number; cursor?: string | undefined }): Promise<TaskPage>;
  /** 404 when the caller's organisation has no such task (another organisation's included). */
  get(caller: Caller, id: string): Promise<Task>;
  /** Completing a completed task changes nothing and notifies no one: it answers the task as it is. */
  complete(caller: Caller, id: string): Promise<Task>;
}

/**
 * The task rules: every task belongs to the caller's organisation; creating and completing one
 * asks the worker to notify, through the outbox, in the same transaction as the change.
 *
 * @example
 * const tasks = createTasks({ sql, cache, outbox: relay, logger });
 * const task = await tasks.create({ userId: "user-1", orgId: "org-1" }, { title: "Write the README" });
 */
export function createTasks({ sql, cache, outbox, logger }: TasksOptions): Tasks {
  const notFound = () => new ApiError(404, "not_found", "No task with this id");

  async function notify(tx: ISql, event: NotificationEvent, task: Task): Promise<string | undefined> {
    return (await enqueueNotification(tx, { event, task, correlationId: currentOrNewCorrelationId() }))?.id;
  }

  function announced(event: NotificationEvent, outboxId: string | undefined): void {
    if (outboxId === undefined) return;
    logger.info({ outbox_id: outboxId, notification_event: event }, "outbox_enqueued");
    outbox.kick();
  }

  return {
    async create(caller, input) {
      const { task, outboxId } = await sql.begin(async (tx) => {
        const task = await insertTask(tx, {
          orgId: caller.orgId,
          createdBy: caller.userId,
          title: input.title,
          description: input.description,
          correlationId: currentOrNewCorrelationId(),
        });
        return { task, outboxId: await notify(tx, "task.created", task) };
      });
      bindContext({ task_id: task.id });
      logger.info("task_created");
      announced("task.created", outboxId);
      return task;
    },

    async list(caller, { limit, cursor }) {
      const after = cursor === undefined ? undefined : decodeCursor(cursor);
      const rows = await listTasks(sql, caller.orgId, { limit: limit + 1, after });
      const page = rows.slice(0, limit);
      const last = page.at(-1);
      return {
        items: page.map((row) => row.task),
        next_cursor: rows.length > limit && last ? encodeCursor(last.position) : null,
      };
    },

    async get(caller, id) {
      bindContext({ task_id: id });
      const task = await cache.read(caller.orgId, id, () => findTask(sql, caller.orgId, id));
      if (!task) throw notFound();
      return task;
    },

    async complete(caller, id) {
      bindContext({ task_id: id });
      const result = await sql.begin(async (tx) => {
        const completed = await completeOpenTask(tx, caller.orgId, id);
        if (completed) return { task: completed, outboxId: await notify(tx, "task.completed", completed) };
        const existing = await findTask(tx, caller.orgId, id);
        return existing && { task: existing, outboxId: undefined, unchanged: true };
      });
      if (!result) throw notFound();
      if ("unchanged" in result) {
        logger.info("task_already_completed");
        return result.task;
      }
      await cache.forget(caller.orgId, id);
      logger.info("task_completed");
      announced("task.completed", result.outboxId);
      return result.task;
    },
  };
}
