import { z } from "@hono/zod-openapi";
import { isStorableText } from "@ward/shared/postgres";

// Stored in a jsonb column: text PostgreSQL refuses is the caller's 400, not a failed insert.
const STORABLE = "must not contain NUL or unpaired surrogate characters";

/** What the gateway asks the worker to notify; stored as the notification's payload. */
export const NotificationRequest = z
  .object({
    event: z.enum(["task.created", "task.completed"]),
    org_id: z.string().min(1).max(200).refine(isStorableText, STORABLE),
    task: z.object({
      id: z.uuid(),
      title: z.string().max(500).refine(isStorableText, STORABLE),
      status: z.enum(["open", "completed"]),
    }),
  })
  .openapi("NotificationRequest");

export type NotificationRequest = z.infer<typeof NotificationRequest>;

export const IdempotencyKeyHeader = z.object({
  "idempotency-key": z
    .string({ error: "Idempotency-Key header is required" })
    .regex(/^[A-Za-z0-9._:-]{1,200}$/, "must be 1-200 characters of A-Z a-z 0-9 . _ : -")
    .openapi({ param: { name: "idempotency-key", in: "header" }, example: "3f0c…:task.created" }),
});

export const NotificationIdParam = z.object({
  id: z.uuid().openapi({ param: { name: "id", in: "path" } }),
});

export const NotificationStatus = z.enum(["queued", "delivering", "delivered", "failed"]);
export type NotificationStatus = z.infer<typeof NotificationStatus>;

export const Accepted = z
  .object({ id: z.uuid(), status: NotificationStatus })
  .openapi("NotificationAccepted");

export const NotificationView = z
  .object({
    id: z.uuid(),
    event: z.string(),
    status: NotificationStatus,
    attempts: z.int(),
    last_error: z.string().nullable(),
    correlation_id: z.string(),
    created_at: z.iso.datetime(),
    updated_at: z.iso.datetime(),
    delivered_at: z.iso.datetime().nullable(),
  })
  .openapi("Notification");

export type NotificationView = z.infer<typeof NotificationView>;

export const ErrorResponse = z
  .object({
    error: z.string(),
    message: z.string(),
    correlation_id: z.string(),
    details: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
  })
  .openapi("Error");
