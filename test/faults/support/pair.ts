/**
 * The built gateway and worker as real processes on servers the fault test chooses (so it can
 * break them), started with timings that let faults play out in seconds.
 */
import { sign } from "hono/jwt";
import { connectPostgres, type Sql } from "@ward/shared/postgres";
import { randomSecret } from "@ward/shared/testing";
import {
  builtService,
  migrateBuilt,
  requireBuilt,
  type Service,
  type ServiceName,
} from "../../support/built-services.js";

export type { Service, ServiceName };

export interface FaultPairOptions {
  /** DATABASE_URL of both services (migrated here). */
  databaseUrl: string;
  redisUrl: string;
  keyPrefix: string;
  /** WEBHOOK_URL of the worker. */
  webhookUrl: string;
  /** Settings added to (or overriding) the gateway's. */
  gateway?: Record<string, string>;
  /** Settings added to (or overriding) the worker's. */
  worker?: Record<string, string>;
}

export interface FaultPair {
  gateway: Service;
  worker: Service;
  /** A connection to the services' database, for checking rows. */
  sql: Sql;
  /** POST /api/v1/tasks as user-1 of org-1. */
  createTask(title: string): Promise<Response>;
  /** Creates one task per title, all at once; resolves to their ids (throws unless every one is 201). */
  createTasks(titles: readonly string[]): Promise<string[]>;
  /** GET /api/v1/tasks/:id as user-1 of org-1. */
  readTask(id: string): Promise<Response>;
  /** Every notification row: id, task id, status, attempts. */
  notifications(): Promise<NotificationRow[]>;
  /** Ends every process still running (SIGKILL) and the database connection. */
  close(): Promise<void>;
}

export interface NotificationRow {
  id: string;
  task_id: string;
  status: string;
  attempts: number;
}

/**
 * Timings that let faults play out in seconds: stalled jobs taken over after 2 s, retries from
 * 100 ms up to 1 s, a webhook call given 1 s.
 */
export const FAST_WORKER = {
  STALLED_JOB_MS: "2000",
  RETRY_BASE_MS: "100",
  RETRY_MAX_MS: "1000",
  WEBHOOK_TIMEOUT_MS: "1000",
};

/**
 * Migrates the database, then starts the built worker and gateway (`node --import
 * ./dist/instrument.js dist/main.js`) with fresh random secrets, and waits until
 * both are ready. Nothing here is shared with another test: the servers are the caller's.
 *
 * @example
 * const pair = await startFaultPair({ databaseUrl, redisUrl: redis.url, keyPrefix, webhookUrl: receiver.url });
 * await pair.worker.kill("SIGKILL");
 * await pair.worker.start();
 */
export async function startFaultPair(options: FaultPairOptions): Promise<FaultPair> {
  requireBuilt();
  const jwtSecret = randomSecret("jwt");
  const workerToken = randomSecret("worker-token");
  const common = { ENVIRONMENT: "test", LOG_LEVEL: "info", DATABASE_URL: options.databaseUrl };
  const running = {
    ...common,
    REDIS_URL: options.redisUrl,
    REDIS_KEY_PREFIX: options.keyPrefix,
    WORKER_TOKEN: workerToken,
    SHUTDOWN_DELAY_MS: "0",
  };
  for (const name of ["gateway", "worker"] as const) await migrateBuilt(name, common);
  const worker = builtService("worker", {
    ...running,
    WEBHOOK_URL: options.webhookUrl,
    WEBHOOK_SIGNING_SECRET: randomSecret("webhook"),
    ...FAST_WORKER,
    ...options.worker,
  });
  const gateway = builtService("gateway", () => ({
    ...running,
    JWT_SECRET: jwtSecret,
    WORKER_URL: worker.url,
    ...options.gateway,
  }));
  const sql = connectPostgres(options.databaseUrl, { applicationName: "ward-faults", max: 2 });
  const close = async () => {
    await Promise.all(
      [...gateway.runs, ...worker.runs].map((run) => {
        if (run.child.exitCode === null && run.child.signalCode === null) run.child.kill("SIGKILL");
        return run.exited;
      }),
    );
    await sql.end({ timeout: 1 });
  };
  try {
    await worker.start(); // first: the gateway is given its address
    await gateway.start();
  } catch (error) {
    await close();
    throw error;
  }

  const token = await sign(
    { sub: "user-1", org_id: "org-1", exp: Math.floor(Date.now() / 1000) + 3600 },
    jwtSecret,
    "HS256",
  );
  const headers = { authorization: `Bearer ${token}`, "content-type": "application/json" };
  const createTask = (title: string) =>
    fetch(`${gateway.url}/api/v1/tasks`, {
      method: "POST",
      headers,
      body: JSON.stringify({ title }),
      signal: AbortSignal.timeout(10_000),
    });
  return {
    gateway,
    worker,
    sql,
    createTask,
    createTasks: (titles) =>
      Promise.all(
        titles.map(async (title) => {
          const response = await createTask(title);
          if (response.status !== 201) throw new Error(`creating a task answered ${response.status}`);
          return ((await response.json()) as { id: string }).id;
        }),
      ),
    readTask: (id) =>
      fetch(`${gateway.url}/api/v1/tasks/${id}`, { headers, signal: AbortSignal.timeout(10_000) }),
    notifications: () => sql<NotificationRow[]>`
      select id, payload->'task'->>'id' as task_id, status, attempts from notifications order by created_at`,
    close,
  };
}
