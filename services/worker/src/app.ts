import { OpenAPIHono } from "@hono/zod-openapi";
import { swaggerUI } from "@hono/swagger-ui";
import { healthRoutes, type Readiness } from "@ward/shared/health";
import { useObservability } from "@ward/shared/http";
import type { Logger } from "@ward/shared/logging";
import { workerToken } from "./auth/worker-token.js";
import type { Notifications } from "./notifications/notifications.js";
import { notificationRoutes } from "./notifications/routes.js";
import { version } from "./version.js";

export interface AppDependencies {
  logger: Logger;
  readiness: Readiness;
  notifications: Notifications;
  /** WORKER_TOKEN: the Bearer token the gateway presents. */
  token: string;
  /** Serve `/openapi.json` and `/docs` (off in production). Default true. */
  docs?: boolean;
  /** SLOW_REQUEST_MS. */
  slowRequestMs?: number;
}

/**
 * The worker's HTTP app: `/healthz`, `/readyz`, the notification API under `/v1` (worker token
 * required) and, unless turned off, its OpenAPI document and Swagger UI.
 *
 * @example
 * const app = createApp({ logger, readiness, notifications, token: settings.WORKER_TOKEN });
 * serve({ fetch: app.fetch, port: settings.PORT });
 */
export function createApp(deps: AppDependencies): OpenAPIHono {
  const app = new OpenAPIHono({
    // Validation errors go to the shared error handler: 400 validation_failed with field details.
    defaultHook: (result) => {
      if (!result.success) throw result.error;
    },
  });
  useObservability(app, { logger: deps.logger, slowRequestMs: deps.slowRequestMs });
  app.route("/", healthRoutes(deps.readiness));

  app.use("/v1/*", workerToken(deps.token));
  app.openAPIRegistry.registerComponent("securitySchemes", "workerToken", { type: "http", scheme: "bearer" });
  notificationRoutes(app, deps.notifications);

  if (deps.docs ?? true) {
    app.doc("/openapi.json", {
      openapi: "3.0.3",
      info: {
        title: "ward worker",
        version,
        description: "Accepts notifications from the gateway and delivers them to the webhook.",
      },
    });
    app.get("/docs", swaggerUI({ url: "/openapi.json" }));
  }
  return app;
}
