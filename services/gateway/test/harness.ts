import { sign } from "hono/jwt";
import type { Environment } from "@ward/shared/settings";
import { createReadiness, type Readiness } from "@ward/shared/health";
import { createServiceClient } from "@ward/shared/http";
import { createLogger } from "@ward/shared/logging";
import { connectPostgres, type Sql } from "@ward/shared/postgres";
import { connectRedis, type Redis } from "@ward/shared/redis";
import {
  createTestDatabase,
  LogCapture,
  TEST_REDIS_URL,
  testKeySpace,
  type TestDatabase,
  type TestKeySpace,
} from "@ward/shared/testing";
import type { Dispatcher } from "undici";
import { createApp } from "../src/app.js";
import { migrateGatewayDatabase } from "../src/migrations.js";
import { createOutboxRelay, type OutboxRelay, type OutboxRelayOptions } from "../src/outbox/relay.js";
import type { Task } from "../src/tasks/schemas.js";

export const JWT_SECRET = "test-jwt-secret-0123456789abcdefghijklmnop";
export const WORKER_TOKEN = "test-worker-token-0123456789abcdefghijklmn";

/** A real PostgreSQL database (migrated) and Redis key space for one test file. */
export interface Backing {
  db: TestDatabase;
  keys: TestKeySpace;
  sql: Sql;
  close(): Promise<void>;
}

export async function createBacking(): Promise<Backing> {
  const db = await createTestDatabase();
  const keys = testKeySpace();
  const sql = connectPostgres(db.url, { applicationName: "ward-gateway-test" });
  await migrateGatewayDatabase(
    sql,
    createLogger({ service: "gateway", version: "test", environment: "test", level: "warn" }),
  );
  return {
    db,
    keys,
    sql,
    async close() {
      await sql.end({ timeout: 5 });
      await db.drop();
      await keys.clean();
    },
  };
}

export interface GatewayOptions {
  environment?: Environment;
  corsOrigins?: string[];
  /** Default: the shared test Redis. */
  redisUrl?: string;
  /** The worker the relay delivers to; without it the relay has nowhere to go and is not started. */
  workerUrl?: string;
  relay?: Partial<OutboxRelayOptions>;
}

/** The gateway app in-process over real PostgreSQL and Redis, its logs captured. */
export interface Gateway {
  app: ReturnType<typeof createApp>;
  logs: LogCapture;
  redis: Redis;
  readiness: Readiness;
  relay: OutboxRelay | undefined;
  /** `app.request` with a Bearer token for the given caller (default user-1 of org-1). */
  call(path: string, init?: RequestInit & { as?: Partial<Claims>; json?: unknown }): Promise<Response>;
  createTask(title: string, as?: Partial<Claims>, headers?: Record<string, string>): Promise<Task>;
  close(): Promise<void>;
}

export interface Claims {
  sub: string;
  org_id: string;
}

export function startGateway(backing: Backing, options: GatewayOptions = {}): Gateway {
  const logs = new LogCapture();
  const logger = createLogger({
    service: "gateway",
    version: "test",
    environment: "test",
    level: "debug",
    destination: logs,
    secrets: [JWT_SECRET, WORKER_TOKEN],
  });
  const redis = connectRedis(options.redisUrl ?? TEST_REDIS_URL, {
    logger,
    name: "gateway-cache",
    keyPrefix: backing.keys.prefix,
  });
  const readiness = createReadiness({ logger, timeoutMs: 500 })
    .check("postgres", () => backing.sql`select 1`)
    .check("redis", () => redis.ping());
  let worker: Dispatcher | undefined;
  let relay: OutboxRelay | undefined;
  if (options.workerUrl) {
    worker = createServiceClient(options.workerUrl, { logger });
    relay = createOutboxRelay({
      sql: backing.sql,
      worker,
      workerToken: WORKER_TOKEN,
      logger,
      pollIntervalMs: 50,
      retryBaseMs: 50,
      retryMaxMs: 200,
      ...options.relay,
    }).start();
  }
  const app = createApp({
    logger,
    sql: backing.sql,
    redis,
    readiness,
    outbox: relay ?? { kick() {} },
    jwtSecret: JWT_SECRET,
    environment: options.environment ?? "development",
    corsOrigins: options.corsOrigins,
    version: "test",
  });

  const gateway: Gateway = {
    app,
    logs,
    redis,
    readiness,
    relay,
    async call(path, { as, json, headers, ...init } = {}) {
      const token = await tokenFor(as);
      return app.request(path, {
        ...init,
        headers: {
          authorization: `Bearer ${token}`,
          ...(json === undefined ? {} : { "content-type": "application/json" }),
          ...(headers as Record<string, string> | undefined),
        },
        ...(json === undefined ? {} : { body: JSON.stringify(json) }),
      });
    },
    async createTask(title, as, headers) {
      const response = await gateway.call("/api/v1/tasks", { method: "POST", json: { title }, as, headers });
      if (response.status !== 201)
        throw new Error(`POST /tasks answered ${response.status}: ${await response.text()}`);
      return (await response.json()) as Task;
    },
    async close() {
      await relay?.stop();
      await worker?.close();
      redis.disconnect();
    },
  };
  return gateway;
}

/** A valid token for the caller (default user-1 of org-1), valid for an hour. */
export function tokenFor(claims: Partial<Claims> = {}, secret = JWT_SECRET): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return sign({ sub: "user-1", org_id: "org-1", iat: now, exp: now + 3600, ...claims }, secret, "HS256");
}
