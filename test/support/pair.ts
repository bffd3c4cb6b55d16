/**
 * The built gateway and worker as real processes, on a database and Redis key space of their own,
 * with a webhook receiver: what every end-to-end test in this folder starts once per file.
 */
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { sign } from "hono/jwt";
import { connectPostgres, type Sql } from "@ward/shared/postgres";
import {
  createTestDatabase,
  randomSecret,
  TEST_REDIS_URL,
  testKeySpace,
  type LogLine,
  type RunningProcess,
  startWebhookReceiver,
  type WebhookReceiver,
} from "@ward/shared/testing";
import {
  builtService,
  migrateBuilt,
  requireBuilt,
  type Service,
  type ServiceName,
} from "./built-services.js";

export type { Service, ServiceName };

export interface PairSecrets {
  JWT_SECRET: string;
  WORKER_TOKEN: string;
  WEBHOOK_SIGNING_SECRET: string;
  /** The password inside DATABASE_URL (the test server trusts loopback, so any password works). */
  DATABASE_PASSWORD: string;
}

export interface Claims {
  sub?: string;
  org_id?: string;
  /** Unix seconds. Default one hour from now. */
  exp?: number;
}

export interface ApiInit extends Omit<RequestInit, "body"> {
  /** Sent as a JSON body. */
  json?: unknown;
  /** A raw body, as is. */
  body?: string;
  /** Bearer token; default a valid one for user-1 of org-1; null sends no Authorization header. */
  token?: string | null;
  correlationId?: string;
}

export interface Pair {
  gateway: Service;
  worker: Service;
  receiver: WebhookReceiver;
  /** The database both services share, for checking stored rows. */
  sql: Sql;
  secrets: PairSecrets;
  /** A JWT signed with the gateway's JWT_SECRET (or `secret`). */
  token(claims?: Claims, secret?: string): Promise<string>;
  /** A request to the gateway. */
  api(path: string, init?: ApiInit): Promise<Response>;
  /** Every JSON log line of both services, gateway's first. */
  lines(): LogLine[];
  /** The lines of both services carrying `correlationId`. */
  linesOf(correlationId: string): LogLine[];
  /** Everything every process wrote (migrations included), stdout and stderr. */
  output(): string;
  /** The names of the secrets whose value shows anywhere in `output()`; the hope is none. */
  leakedSecrets(): string[];
  /** Writes each service's stdout to `<dir>/<service>.log`; resolves to the two paths. */
  saveLogs(dir: string): Promise<Record<ServiceName, string>>;
  /** SIGTERM both (gateway first), then drops the database and the key space. Exit codes. */
  stop(): Promise<Record<ServiceName, number | string | undefined>>;
}

/**
 * Migrates a fresh database, then starts the built worker and gateway (`node --import
 * ./dist/instrument.js dist/main.js`) with exactly the environment each needs and fresh random
 * secrets, and waits until both are ready.
 *
 * @example
 * let pair: Pair;
 * beforeAll(async () => (pair = await startPair()));
 * afterAll(async () => expect(await pair.stop()).toEqual({ gateway: 0, worker: 0 }));
 */
export async function startPair(): Promise<Pair> {
  requireBuilt();
  const db = await createTestDatabase();
  const keys = testKeySpace();
  const receiver = await startWebhookReceiver();
  const secrets: PairSecrets = {
    JWT_SECRET: randomSecret("jwt"),
    WORKER_TOKEN: randomSecret("worker-token"),
    WEBHOOK_SIGNING_SECRET: randomSecret("webhook"),
    DATABASE_PASSWORD: randomSecret("db-password"),
  };
  const databaseUrl = new URL(db.url);
  databaseUrl.password = secrets.DATABASE_PASSWORD;
  const common = {
    ENVIRONMENT: "test",
    LOG_LEVEL: "debug",
    DATABASE_URL: databaseUrl.toString(),
  };
  const running = {
    ...common,
    REDIS_URL: TEST_REDIS_URL,
    REDIS_KEY_PREFIX: keys.prefix,
    WORKER_TOKEN: secrets.WORKER_TOKEN,
    SHUTDOWN_DELAY_MS: "0",
  };
  const others: RunningProcess[] = [];
  const worker = builtService("worker", {
    ...running,
    WEBHOOK_URL: receiver.url,
    WEBHOOK_SIGNING_SECRET: secrets.WEBHOOK_SIGNING_SECRET,
  });
  const gateway = builtService("gateway", () => ({
    ...running,
    JWT_SECRET: secrets.JWT_SECRET,
    WORKER_URL: worker.url,
  }));

  try {
    await Promise.all(
      (["gateway", "worker"] as const).map(async (name) => {
        others.push(await migrateBuilt(name, common));
      }),
    );
    await worker.start(); // first: the gateway is given its address
    await gateway.start();
  } catch (error) {
    // Leave nothing behind: no process, no database, no keys.
    const runs = [...gateway.runs, ...worker.runs];
    for (const run of runs) run.child.kill("SIGKILL");
    await Promise.all(runs.map((run) => run.exited));
    await receiver.close();
    await keys.clean();
    await db.drop();
    throw error;
  }
  const sql = connectPostgres(db.url, { applicationName: "ward-e2e", max: 2 });
  const token: Pair["token"] = (claims = {}, secret = secrets.JWT_SECRET) =>
    sign(
      {
        sub: "user-1",
        org_id: "org-1",
        exp: Math.floor(Date.now() / 1000) + 3600,
        ...claims,
      },
      secret,
      "HS256",
    );
  const lines = () => [...gateway.lines(), ...worker.lines()];
  const output = () =>
    [...others, ...gateway.runs, ...worker.runs]
      .map((run) => `${run.logs.text()}\n${run.stderr.text()}`)
      .join("\n");

  return {
    gateway,
    worker,
    receiver,
    sql,
    secrets,
    token,
    async api(path, { json, body, token: bearer, correlationId, headers: given, ...init } = {}) {
      const headers = new Headers(given);
      const authorization = bearer === undefined ? await token() : bearer;
      if (authorization !== null) headers.set("authorization", `Bearer ${authorization}`);
      if (correlationId !== undefined) headers.set("x-correlation-id", correlationId);
      if (json !== undefined) headers.set("content-type", "application/json");
      return fetch(`${gateway.url}${path}`, {
        ...init,
        headers,
        body: json !== undefined ? JSON.stringify(json) : body,
      });
    },
    lines,
    linesOf: (correlationId) => lines().filter((line) => line.correlation_id === correlationId),
    output,
    leakedSecrets: () => {
      const text = output();
      return (Object.entries(secrets) as [keyof PairSecrets, string][])
        .filter(([, value]) => text.includes(value))
        .map(([name]) => name);
    },
    async saveLogs(dir) {
      const paths = { gateway: join(dir, "gateway.log"), worker: join(dir, "worker.log") };
      await writeFile(paths.gateway, gateway.stdout());
      await writeFile(paths.worker, worker.stdout());
      return paths;
    },
    async stop() {
      try {
        // The gateway first, as a rollout would drain it: its relay must not be cut off mid-call.
        return { gateway: await stopIfRunning(gateway), worker: await stopIfRunning(worker) };
      } finally {
        await sql.end({ timeout: 5 });
        await receiver.close();
        await keys.clean();
        await db.drop();
      }
    },
  };
}

async function stopIfRunning(service: Service): Promise<number | string | undefined> {
  const last = service.runs.at(-1);
  if (!last) return undefined;
  return last.child.exitCode === null && last.child.signalCode === null ? service.stop() : last.exited;
}
