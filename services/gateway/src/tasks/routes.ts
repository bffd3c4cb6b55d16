import type { z } from "@hono/zod-openapi";
import { createRoute, OpenAPIHono } from "@hono/zod-openapi";
import type { GatewayEnv } from "../auth/authenticate.js";
import { rejectInvalidRequest } from "@ward/shared/http";
import {
  ErrorSchema,
  NewTaskSchema,
  TaskIdParamsSchema,
  TaskListQuerySchema,
  TaskPageSchema,
  TaskSchema,
} from "./schemas.js";
import type { Tasks } from "./tasks.js";

const json = <S extends z.ZodType>(schema: S, description: string) => ({
  content: { "application/json": { schema } },
  description,
});

const errors = {
  400: json(ErrorSchema, "The request is invalid: `details` names each offending field"),
  401: json(ErrorSchema, "No valid Bearer token"),
};
const notFound = { 404: json(ErrorSchema, "Your organisation has no task with this id") };
const security = [{ bearerAuth: [] }];

const createTask = createRoute({
  method: "post",
  path: "/tasks",
  tags: ["tasks"],
  summary: "Create a task",
  description: "Creates an open task in your organisation and asks the worker to announce `task.created`.",
  security,
  request: { body: { ...json(NewTaskSchema, "The new task"), required: true } },
  responses: { 201: json(TaskSchema, "The task, as created"), ...errors },
});

const listTasks = createRoute({
  method: "get",
  path: "/tasks",
  tags: ["tasks"],
  summary: "List tasks, newest first",
  security,
  request: { query: TaskListQuerySchema },
  responses: { 200: json(TaskPageSchema, "One page of your organisation's tasks"), ...errors },
});

const getTask = createRoute({
  method: "get",
  path: "/tasks/{id}",
  tags: ["tasks"],
  summary: "Get a task",
  security,
  request: { params: TaskIdParamsSchema },
  responses: { 200: json(TaskSchema, "The task"), ...errors, ...notFound },
});

const completeTask = createRoute({
  method: "post",
  path: "/tasks/{id}/complete",
  tags: ["tasks"],
  summary: "Complete a task",
  description:
    "Completes an open task and asks the worker to announce `task.completed`. Completing a completed " +
    "task is harmless: it answers 200 with the task as it is, and nobody is notified again.",
  security,
  request: { params: TaskIdParamsSchema },
  responses: { 200: json(TaskSchema, "The completed task"), ...errors, ...notFound },
});

/**
 * The task API (`/tasks...`), documented from its zod schemas. Mount it under `/api/v1` behind
 * `authenticate()`; it reads the caller from `c.get("caller")`.
 *
 * @example
 * app.route("/api/v1", taskRoutes(tasks));
 */
export function taskRoutes(tasks: Tasks): OpenAPIHono<GatewayEnv> {
  return new OpenAPIHono<GatewayEnv>({ defaultHook: rejectInvalidRequest })
    .openapi(createTask, async (c) => c.json(await tasks.create(c.get("caller"), c.req.valid("json")), 201))
    .openapi(listTasks, async (c) => c.json(await tasks.list(c.get("caller"), c.req.valid("query")), 200))
    .openapi(getTask, async (c) => c.json(await tasks.get(c.get("caller"), c.req.valid("param").id), 200))
    .openapi(completeTask, async (c) =>
      c.json(await tasks.complete(c.get("caller"), c.req.valid("param").id), 200),
    );
}
