import { OpenAPIHono } from "@hono/zod-openapi";
import { healthRoutes, type Readiness } from "@ward/shared/health";
import { rejectInvalidRequest, serveApiDocs, useObservability } from "@ward/shared/http";
import type { Logger } from "@ward/shared/logging";
import type { Sql } from "@ward/shared/postgres";
import { checkRedis, type Redis } from "@ward/shared/redis";
import type { Dispatcher } from "undici";
import { workerToken } from "./auth/worker-token.js";
import type { BackoffOptions } from "@ward/shared/retry";
import { createConsumer, type ConsumerOptions } from "./delivery/consumer.js";
import { createDelivery } from "./delivery/deliver.js";
import { createScheduler, type SchedulerOptions } from "./delivery/scheduler.js";
import { createNotifications, type Notifications } from "./notifications/notifications.js";
import { notificationRoutes } from "./notifications/routes.js";
import { createNotificationStore } from "./notifications/store.js";
import { createNotificationQueue, type QueueKeys } from "./queue/notification-queue.js";
import { version } from "./version.js";
import { createWebhook } from "./webhook/client.js";

export interface WorkerDependencies {
  logger: Logger;
  readiness: Readiness;
  sql: Sql;
  /** For short commands: enqueueing, acknowledging, scheduling. */
  redis: Redis;
  /** For the consumer's blocking reads alone; closed by `stop()`. */
  reader: Redis;
  /** The outbound agent webhook calls go through. */
  outbound: Dispatcher;
  settings: {
    WORKER_TOKEN: string;
    WEBHOOK_URL?: string | undefined;
    WEBHOOK_SIGNING_SECRET?: string | undefined;
    MAX_ATTEMPTS: number;
    ENVIRONMENT: string;
    SLOW_REQUEST_MS?: number;
  };
  /** Timings, for tests: backoff, claim and sweep times, queue keys. Defaults suit production. */
  tuning?: {
    backoff?: BackoffOptions;
    leaseMs?: number;
    webhookTimeoutMs?: number;
    keys?: QueueKeys;
    consumer?: Pick<ConsumerOptions, "name" | "blockMs" | "batchSize" | "claimIdleMs" | "aliveWithinMs">;
    scheduler?: Pick<SchedulerOptions, "tickMs" | "sweepEveryMs" | "sweepGraceMs">;
  };
}

export interface Worker {
  /** The HTTP app. */
  app: OpenAPIHono;
  /** Starts the consumer loop and the scheduler. */
  start(): void;
  /** Stops both: no new jobs, the ones in flight finish. */
  stop(): Promise<void>;
  /** Whether the consumer loop is alive (for readiness). */
  readonly isConsuming: boolean;
}

/**
 * The whole worker from its connections: the HTTP app that accepts notifications, the consumer
 * that delivers them, the scheduler that retries and recovers them, and the readiness checks of
 * all three (postgres, redis, consumer). `main` and the tests
 * build it the same way.
 *
 * @example
 * const worker = createWorker({ logger, readiness, sql, redis, reader, outbound, settings });
 * serve({ fetch: worker.app.fetch, port: settings.PORT });
 * worker.start();
 */
export function createWorker(deps: WorkerDependencies): Worker {
  const { logger, readiness, sql, redis, reader, outbound, settings, tuning = {} } = deps;
  const store = createNotificationStore(sql);
  const queue = createNotificationQueue(redis, tuning.keys);
  const webhook =
    settings.WEBHOOK_URL && settings.WEBHOOK_SIGNING_SECRET
      ? createWebhook({
          url: settings.WEBHOOK_URL,
          secret: settings.WEBHOOK_SIGNING_SECRET,
          dispatcher: outbound,
          timeoutMs: tuning.webhookTimeoutMs,
        })
      : undefined;
  const deliver = createDelivery({
    store,
    queue,
    logger,
    webhook,
    maxAttempts: settings.MAX_ATTEMPTS,
    backoff: tuning.backoff,
    leaseMs: tuning.leaseMs,
  });
  const consumer = createConsumer({ queue, reader, deliver, logger, ...tuning.consumer });
  const scheduler = createScheduler({ queue, store, logger, ...tuning.scheduler });
  const app = createHttpApp({
    logger,
    readiness,
    notifications: createNotifications({ store, queue, logger }),
    token: settings.WORKER_TOKEN,
    docs: settings.ENVIRONMENT !== "production",
    slowRequestMs: settings.SLOW_REQUEST_MS,
  });

  readiness
    .check("postgres", () => sql`select 1`)
    .check("redis", () => checkRedis(redis))
    .check("consumer", () => consumer.isAlive);

  return {
    app,
    start() {
      consumer.start();
      scheduler.start();
    },
    async stop() {
      await Promise.all([consumer.stop(), scheduler.stop()]);
    },
    get isConsuming() {
      return consumer.isAlive;
    },
  };
}

interface HttpAppDependencies {
  logger: Logger;
  readiness: Readiness;
  notifications: Notifications;
  /** WORKER_TOKEN: the Bearer token the gateway presents. */
  token: string;
  /** Serve `/openapi.json` and `/docs` (off in production). */
  docs: boolean;
  /** SLOW_REQUEST_MS. */
  slowRequestMs?: number | undefined;
}

/**
 * The worker's HTTP app: correlation, request logs and JSON errors on every route; `/healthz`,
 * `/readyz`; the notification API under `/v1` behind the worker token; its OpenAPI document and
 * Swagger UI unless turned off.
 */
function createHttpApp(deps: HttpAppDependencies): OpenAPIHono {
  const app = useObservability(new OpenAPIHono({ defaultHook: rejectInvalidRequest }), {
    logger: deps.logger,
    slowRequestMs: deps.slowRequestMs,
  });
  app.route("/", healthRoutes(deps.readiness));

  app.use("/v1/*", workerToken(deps.token));
  app.route("/v1", notificationRoutes(deps.notifications));

  if (deps.docs) {
    serveApiDocs(app, {
      title: "ward worker",
      version,
      description: "Accepts notifications from the gateway and delivers them to the webhook.",
      securitySchemes: { workerToken: {} },
    });
  }
  return app;
}
