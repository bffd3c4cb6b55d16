import { createReadiness } from "@ward/shared/health";
import { createOutboundAgent } from "@ward/shared/http";
import { createLogger } from "@ward/shared/logging";
import { connectPostgres, type Sql } from "@ward/shared/postgres";
import { connectRedis, type Redis } from "@ward/shared/redis";
import {
  createTestDatabase,
  LogCapture,
  TEST_REDIS_URL,
  testKeySpace,
  waitFor,
  type TestDatabase,
  type TestKeySpace,
} from "@ward/shared/testing";
import { migrateWorkerDatabase } from "../src/migrations.js";
import type { Notification } from "../src/notifications/store.js";
import { createWorker, type Worker, type WorkerDependencies } from "../src/app.js";

export const TOKEN = "change-me-worker-token-for-the-tests-0123456789";
export const SIGNING_SECRET = "change-me-webhook-signing-secret-for-the-tests";

/** Timings small enough for tests; each test may override them. */
export const FAST: NonNullable<WorkerDependencies["tuning"]> = {
  backoff: { baseMs: 50, maxMs: 200 },
  leaseMs: 1500,
  webhookTimeoutMs: 1000,
  consumer: { blockMs: 200, claimIdleMs: 500, batchSize: 4 },
  scheduler: { tickMs: 50, sweepEveryMs: 200, sweepGraceMs: 60_000 },
};

export interface TestWorkerOptions {
  webhookUrl?: string;
  maxAttempts?: number;
  tuning?: WorkerDependencies["tuning"];
  environment?: string;
  /** Share another test worker's database (and Redis key space), as a second pod would. */
  sharing?: TestWorker;
  /** Redis URL (default: the test Redis). */
  redisUrl?: string;
  /** PostgreSQL URL (default: the test database). */
  databaseUrl?: string;
  /** Start the consumer and scheduler. Default true. */
  start?: boolean;
}

export interface TestWorker {
  worker: Worker;
  sql: Sql;
  redis: Redis;
  logs: LogCapture;
  db: TestDatabase;
  keys: TestKeySpace;
  /** A request to the in-process app, with the worker token unless `authorization` is given. */
  request(path: string, init?: RequestInit & { json?: unknown }): Promise<Response>;
  /** POSTs a notification; returns the response. */
  notify(body: unknown, options?: { key?: string; correlationId?: string }): Promise<Response>;
  row(id: string): Promise<Notification | undefined>;
  /** Waits until the notification's row is finished (delivered or failed). */
  finished(id: string, timeoutMs?: number): Promise<Notification>;
  /** Log lines of one notification's job. */
  jobLines(id: string): LogCapture["lines"];
  close(): Promise<void>;
}

let counter = 0;

/** A valid body for POST /v1/notifications. */
export function notificationBody(overrides: Record<string, unknown> = {}) {
  counter += 1;
  return {
    event: "task.created",
    org_id: "org-1",
    task: { id: crypto.randomUUID(), title: `Task ${counter}`, status: "open" },
    ...overrides,
  };
}

/**
 * A worker built as `main` builds it, on a fresh database and Redis key space of its own (or
 * another test worker's), logging into a capture.
 */
export async function startTestWorker(options: TestWorkerOptions = {}): Promise<TestWorker> {
  const db = options.sharing?.db ?? (await createTestDatabase());
  const keys = options.sharing?.keys ?? testKeySpace();
  const logs = new LogCapture();
  const logger = createLogger({
    service: "worker",
    version: "test",
    environment: "test",
    level: "debug",
    destination: logs,
    secrets: [TOKEN, SIGNING_SECRET],
  });
  const sql = connectPostgres(options.databaseUrl ?? db.url, { applicationName: "ward-worker-test", max: 5 });
  if (!options.sharing && !options.databaseUrl) {
    await migrateWorkerDatabase(sql, logger);
  }
  const redisUrl = options.redisUrl ?? TEST_REDIS_URL;
  const redis = connectRedis(redisUrl, { logger, name: "test-queue", keyPrefix: keys.prefix });
  const reader = connectRedis(redisUrl, {
    logger,
    name: "test-consumer",
    keyPrefix: keys.prefix,
    blocking: true,
  });
  const outbound = createOutboundAgent({ logger });
  const worker = createWorker({
    logger,
    readiness: createReadiness({ logger }),
    sql,
    redis,
    reader,
    outbound,
    settings: {
      WORKER_TOKEN: TOKEN,
      WEBHOOK_URL: options.webhookUrl,
      WEBHOOK_SIGNING_SECRET: options.webhookUrl ? SIGNING_SECRET : undefined,
      MAX_ATTEMPTS: options.maxAttempts ?? 5,
      ENVIRONMENT: options.environment ?? "test",
    },
    tuning: { ...FAST, ...options.tuning },
  });
  if (options.start ?? true) worker.start();

  const request: TestWorker["request"] = (path, init = {}) => {
    const headers = new Headers(init.headers);
    if (!headers.has("authorization")) headers.set("authorization", `Bearer ${TOKEN}`);
    if (init.json !== undefined) headers.set("content-type", "application/json");
    const body = init.json !== undefined ? JSON.stringify(init.json) : init.body;
    return Promise.resolve(worker.app.request(path, { ...init, headers, body }));
  };
  const row = async (id: string) =>
    (await sql<Notification[]>`select * from notifications where id = ${id}`)[0];

  return {
    worker,
    sql,
    redis,
    logs,
    db,
    keys,
    request,
    notify: (body, { key = crypto.randomUUID(), correlationId } = {}) =>
      request("/v1/notifications", {
        method: "POST",
        json: body,
        headers: { "idempotency-key": key, ...(correlationId && { "x-correlation-id": correlationId }) },
      }),
    row,
    finished: (id, timeoutMs = 10_000) =>
      waitFor(
        async () => {
          const found = await row(id);
          return found && (found.status === "delivered" || found.status === "failed") ? found : undefined;
        },
        { timeoutMs, what: `notification ${id} to finish` },
      ),
    jobLines: (id) => logs.lines.filter((line) => line.notification_id === id),
    async close() {
      await worker.stop();
      await outbound.close();
      redis.disconnect();
      await sql.end({ timeout: 1 });
      if (!options.sharing) {
        await keys.clean();
        await db.drop();
      }
    },
  };
}

/** The id from a 202 answer. */
export async function idOf(response: Response): Promise<string> {
  if (response.status !== 202)
    throw new Error(`expected 202, got ${response.status}: ${await response.text()}`);
  return ((await response.json()) as { id: string }).id;
}
