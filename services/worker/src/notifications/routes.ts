import { createRoute, OpenAPIHono } from "@hono/zod-openapi";
import { ApiError } from "@ward/shared/errors";
import { rejectInvalidRequest } from "@ward/shared/http";
import type { Notifications } from "./notifications.js";
import {
  Accepted,
  ErrorResponse,
  IdempotencyKeyHeader,
  NotificationIdParam,
  NotificationRequest,
  NotificationView,
} from "./schemas.js";

const error = (description: string) => ({
  description,
  content: { "application/json": { schema: ErrorResponse } },
});

const acceptRoute = createRoute({
  method: "post",
  path: "/notifications",
  summary: "Accept a notification",
  description:
    "Stores the notification and queues its delivery. The same Idempotency-Key again answers with " +
    "the same notification and queues nothing.",
  security: [{ workerToken: [] }],
  request: {
    headers: IdempotencyKeyHeader,
    body: { required: true, content: { "application/json": { schema: NotificationRequest } } },
  },
  responses: {
    202: { description: "Accepted", content: { "application/json": { schema: Accepted } } },
    400: error("Invalid body or Idempotency-Key"),
    401: error("Missing or wrong worker token"),
    503: error("The notification could not be stored; try again"),
  },
});

const getRoute = createRoute({
  method: "get",
  path: "/notifications/{id}",
  summary: "A notification's delivery status",
  security: [{ workerToken: [] }],
  request: { params: NotificationIdParam },
  responses: {
    200: { description: "The notification", content: { "application/json": { schema: NotificationView } } },
    400: error("Not a notification id"),
    401: error("Missing or wrong worker token"),
    404: error("No such notification"),
  },
});

/**
 * The notification API (`POST /notifications`, 202 `{ id, status }`, and
 * `GET /notifications/:id`), documented from its zod schemas. Mount it under `/v1` behind
 * `workerToken()`.
 *
 * @example
 * app.route("/v1", notificationRoutes(notifications));
 */
export function notificationRoutes(notifications: Notifications): OpenAPIHono {
  return new OpenAPIHono({ defaultHook: rejectInvalidRequest })
    .openapi(acceptRoute, async (c) => {
      const { notification } = await notifications.accept(
        c.req.valid("json"),
        c.req.valid("header")["idempotency-key"],
      );
      return c.json({ id: notification.id, status: notification.status }, 202);
    })
    .openapi(getRoute, async (c) => {
      const { id } = c.req.valid("param");
      const found = await notifications.find(id);
      if (!found) throw new ApiError(404, "notification_not_found", `No notification ${id}`);
      return c.json(found, 200);
    });
}
