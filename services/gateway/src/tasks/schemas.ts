import { z } from "@hono/zod-openapi";
import { isStorableText } from "@ward/shared/postgres";

const STORABLE = "must not contain NUL or unpaired surrogate characters";

/** A task as the API shows it. */
export const TaskSchema = z
  .object({
    id: z.uuid().openapi({ example: "3f0c2f4e-8f7a-4c1e-9d55-2a4b8c7e1f20" }),
    org_id: z.string().openapi({ example: "org-1" }),
    created_by: z.string().openapi({ description: "The user (JWT sub) who created it", example: "user-1" }),
    title: z.string().openapi({ example: "Renew the TLS certificate" }),
    description: z.string().nullable().openapi({ example: null }),
    status: z.enum(["open", "completed"]),
    created_at: z.iso.datetime().openapi({ example: "2025-01-31T09:30:00.000Z" }),
    completed_at: z.iso.datetime().nullable().openapi({ example: null }),
  })
  .openapi("Task");

export type Task = z.infer<typeof TaskSchema>;

/** The body of `POST /tasks`. Surrounding white space is dropped from the title. */
export const NewTaskSchema = z
  .object({
    title: z
      .string()
      .trim()
      .min(1, "must not be empty")
      .max(200, "must be at most 200 characters")
      .refine(isStorableText, STORABLE)
      .openapi({ example: "Renew the TLS certificate" }),
    description: z
      .string()
      .max(2000, "must be at most 2000 characters")
      .refine(isStorableText, STORABLE)
      .optional()
      .openapi({ example: "It expires on the 14th." }),
  })
  .openapi("NewTask");

export type NewTask = z.infer<typeof NewTaskSchema>;

/** The query of `GET /tasks`. */
export const TaskListQuerySchema = z.object({
  limit: z.coerce
    .number({ error: "must be a whole number from 1 to 100" })
    .int("must be a whole number from 1 to 100")
    .min(1, "must be a whole number from 1 to 100")
    .max(100, "must be a whole number from 1 to 100")
    .default(20)
    .openapi({ param: { name: "limit", in: "query" }, description: "Tasks per page", example: 20 }),
  cursor: z
    .string()
    .max(200, "is not a cursor this API returned")
    .optional()
    .openapi({
      param: { name: "cursor", in: "query" },
      description: "The `next_cursor` of the previous page; omit it for the first page",
    }),
});

/** One page of tasks, newest first. */
export const TaskPageSchema = z
  .object({
    items: z.array(TaskSchema),
    next_cursor: z
      .string()
      .nullable()
      .openapi({ description: "Pass it as `cursor` to get the next page; null on the last page" }),
  })
  .openapi("TaskPage");

export type TaskPage = z.infer<typeof TaskPageSchema>;

/** The path of the routes about one task. */
export const TaskIdParamsSchema = z.object({
  id: z
    .uuid("must be a UUID")
    .openapi({ param: { name: "id", in: "path" }, example: "3f0c2f4e-8f7a-4c1e-9d55-2a4b8c7e1f20" }),
});

/** Every error response: a stable code, a message for people, the request's correlation ID. */
export const ErrorSchema = z
  .object({
    error: z.string().openapi({ example: "validation_failed" }),
    message: z.string().openapi({ example: "The request is invalid" }),
    correlation_id: z.string().openapi({ example: "abc-123" }),
    details: z
      .array(z.object({ path: z.string(), message: z.string() }))
      .optional()
      .openapi({ example: [{ path: "title", message: "must not be empty" }] }),
  })
  .openapi("Error");
