import { OpenAPIHono } from "@hono/zod-openapi";
import { cors } from "hono/cors";
import type { Environment } from "@ward/shared/settings";
import { healthRoutes, type Readiness } from "@ward/shared/health";
import { rejectInvalidRequest, serveApiDocs, useObservability } from "@ward/shared/http";
import type { Logger } from "@ward/shared/logging";
import type { Sql } from "@ward/shared/postgres";
import type { Redis } from "@ward/shared/redis";
import { authenticate } from "./auth/authenticate.js";
import { createTaskCache } from "./tasks/cache.js";
import { taskRoutes } from "./tasks/routes.js";
import { createTasks } from "./tasks/tasks.js";

export interface AppDependencies {
  logger: Logger;
  sql: Sql;
  /** The task cache's client. */
  redis: Redis;
  readiness: Readiness;
  /** The outbox relay, kicked after each commit that asked the worker to notify. */
  outbox: { kick(): void };
  /** JWT_SECRET. */
  jwtSecret: string;
  /** ENVIRONMENT: the API docs are served everywhere but in production. */
  environment: Environment;
  /** CORS_ORIGINS: browser origins allowed to call the API. Default none (no CORS headers). */
  corsOrigins?: readonly string[];
  /** SLOW_REQUEST_MS. */
  slowRequestMs?: number;
  /** Shown in the API docs. */
  version?: string;
  /** How long a task stays cached. Default 60 s. */
  cacheTtlSeconds?: number;
}

/**
 * The gateway's HTTP app: correlation, request logs and JSON errors on every route;
 * `/healthz`, `/readyz`; the task API under `/api/v1` behind a Bearer JWT; the OpenAPI document
 * (`/openapi.json`) and Swagger UI (`/docs`) except in production.
 *
 * @example
 * const app = createApp({ logger, sql, redis, readiness, outbox: relay, jwtSecret, environment: "development" });
 * serve({ fetch: app.fetch, port: 8080 });
 */
export function createApp(deps: AppDependencies): OpenAPIHono {
  const { logger, environment, corsOrigins = [] } = deps;
  const app = useObservability(new OpenAPIHono({ defaultHook: rejectInvalidRequest }), {
    logger,
    slowRequestMs: deps.slowRequestMs,
  });
  app.route("/", healthRoutes(deps.readiness));

  if (corsOrigins.length > 0) {
    app.use(
      "/api/*",
      cors({
        // Browsers send the bare origin: "https://app.example.com/" in the setting must still match.
        origin: corsOrigins.map((origin) => new URL(origin).origin),
        allowMethods: ["GET", "POST", "OPTIONS"],
        allowHeaders: ["Authorization", "Content-Type", "X-Correlation-ID"],
        exposeHeaders: ["X-Correlation-ID"],
        maxAge: 600,
      }),
    );
  }

  const cache = createTaskCache({ redis: deps.redis, logger, ttlSeconds: deps.cacheTtlSeconds });
  const tasks = createTasks({ sql: deps.sql, cache, outbox: deps.outbox, logger });
  app.use("/api/v1/*", authenticate({ secret: deps.jwtSecret, logger }));
  app.route("/api/v1", taskRoutes(tasks));

  if (environment !== "production") {
    serveApiDocs(app, {
      title: "ward gateway",
      version: deps.version ?? "dev",
      description:
        "Tasks of your organisation. Every response carries `X-Correlation-ID`; send one to choose it.",
      securitySchemes: {
        bearerAuth: {
          bearerFormat: "JWT",
          description: "HS256 JWT with `sub` (user id) and `org_id` claims; `pnpm token` prints one",
        },
      },
      tags: [{ name: "tasks", description: "Create, list, read and complete tasks" }],
    });
  }
  return app;
}
