import type { AddressInfo } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { serve, type ServerType } from "@hono/node-server";
import { Hono } from "hono";
import { Redis } from "ioredis";
import postgres from "postgres";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { createLogger } from "../logging/index.js";
import { ADMIN_DATABASE_URL, LogCapture, TEST_REDIS_URL } from "../testing/index.js";
import { createReadiness, healthRoutes, type Readiness } from "./index.js";

const servers: ServerType[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))));
});

/** A readiness registry with captured logs, served over real HTTP. */
async function servedReadiness(options: { timeoutMs?: number; secrets?: string[] } = {}) {
  const logs = new LogCapture();
  const logger = createLogger({
    service: "test",
    version: "0.0.0",
    environment: "test",
    secrets: options.secrets,
    destination: logs,
  });
  const readiness = createReadiness({ logger, timeoutMs: options.timeoutMs });
  const app = new Hono().route("/", healthRoutes(readiness));
  const server = await new Promise<ServerType>((resolve) => {
    const started: ServerType = serve({ fetch: app.fetch, port: 0, hostname: "127.0.0.1" }, () =>
      resolve(started),
    );
  });
  servers.push(server);
  const { port } = server.address() as AddressInfo;
  const get = async (path: string) => {
    const response = await fetch(`http://127.0.0.1:${port}${path}`);
    return { status: response.status, body: await response.json(), headers: response.headers };
  };
  const getText = async (path: string) => (await fetch(`http://127.0.0.1:${port}${path}`)).text();
  return { readiness, logs, get, getText };
}

const never = () => new Promise(() => {});

class ConnectionError extends Error {
  override name = "ConnectionError";
}

describe("GET /readyz", () => {
  const sql = postgres(ADMIN_DATABASE_URL, { max: 1, onnotice: () => {} });
  const redis = new Redis(TEST_REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
  afterAll(async () => {
    await sql.end();
    redis.disconnect();
  });

  it("answers 200 ready when real PostgreSQL and Redis answer", async () => {
    const { readiness, get } = await servedReadiness();
    readiness.check("postgres", () => sql`select 1`).check("redis", () => redis.ping());
    expect(await get("/readyz")).toMatchObject({
      status: 200,
      body: { status: "ready", checks: { postgres: "ok", redis: "ok" } },
    });
  });

  it("answers 200 ready with no checks registered", async () => {
    const { get } = await servedReadiness();
    expect(await get("/readyz")).toMatchObject({ status: 200, body: { status: "ready", checks: {} } });
  });

  it("answers a hung check within its timeout as failed: TimeoutError, next to the checks that pass", async () => {
    const { readiness, get } = await servedReadiness({ timeoutMs: 100 });
    readiness.check("redis", never).check("postgres", () => sql`select 1`);
    expect(await get("/readyz")).toMatchObject({
      status: 503,
      body: { status: "not_ready", checks: { redis: "failed: TimeoutError", postgres: "ok" } },
    });
  }, 5_000);

  it("gives each check its own timeout", async () => {
    const { readiness, get } = await servedReadiness({ timeoutMs: 100 });
    readiness
      .check("slow_but_allowed", () => sleep(300), { timeoutMs: 2_000 })
      .check("hung", never, { timeoutMs: 50 });
    expect((await get("/readyz")).body).toEqual({
      status: "not_ready",
      checks: { slow_but_allowed: "ok", hung: "failed: TimeoutError" },
    });
  }, 5_000);

  it("aborts the signal a check receives when its time is up", async () => {
    const { readiness, get } = await servedReadiness({ timeoutMs: 50 });
    let received: AbortSignal | undefined;
    readiness.check("cancellable", (signal) => {
      received = signal;
      return never();
    });
    await get("/readyz");
    expect(received?.aborted).toBe(true);
    expect(received?.reason).toMatchObject({ name: "TimeoutError" });
  });

  it("shows only the error's name, never its message, in the body and the logs", async () => {
    const password = "change-me-planted-password-4f1d";
    const url = `postgres://app:${password}@db.internal:5432/app`;
    const { readiness, get, getText, logs } = await servedReadiness({ secrets: [url] });
    readiness.check("postgres", () => Promise.reject(new ConnectionError(`could not connect to ${url}`)));
    expect(await get("/readyz")).toMatchObject({
      status: 503,
      body: { status: "not_ready", checks: { postgres: "failed: ConnectionError" } },
    });
    expect(await getText("/readyz")).not.toContain(password);
    expect(logs.find((line) => line.event === "readiness_check_failed")).toBeDefined();
    expect(logs.text()).not.toContain(password);
  });

  it("reports a check that throws synchronously", async () => {
    const { readiness, get } = await servedReadiness();
    readiness.check("config", () => {
      throw new RangeError("bad");
    });
    expect((await get("/readyz")).body).toEqual({
      status: "not_ready",
      checks: { config: "failed: RangeError" },
    });
  });

  it("reports a thrown non-error value without showing it", async () => {
    const { readiness, getText } = await servedReadiness();
    readiness.check("odd", () => {
      // Some libraries throw strings; this one must not reach the body.
      // eslint-disable-next-line @typescript-eslint/only-throw-error
      throw "change-me-raw-string-secret";
    });
    const body = await getText("/readyz");
    expect(JSON.parse(body)).toEqual({ status: "not_ready", checks: { odd: "failed: Error" } });
    expect(body).not.toContain("change-me-raw-string-secret");
  });

  it("replaces an error name that is not a plain identifier", async () => {
    const { readiness, get } = await servedReadiness();
    const weird = new Error("x");
    weird.name = "postgres://app:change-me@db";
    readiness.check("weird", () => Promise.reject(weird));
    expect((await get("/readyz")).body).toEqual({ status: "not_ready", checks: { weird: "failed: Error" } });
  });

  it("fails a check that resolves false", async () => {
    const { readiness, get } = await servedReadiness();
    readiness.check("consumer", () => false);
    expect(await get("/readyz")).toMatchObject({
      status: 503,
      body: { status: "not_ready", checks: { consumer: "failed: NotReady" } },
    });
  });

  it("turns 503 on an outage and 200 on recovery, with no restart", async () => {
    const { readiness, get } = await servedReadiness();
    let up = true;
    readiness.check("redis", () => (up ? Promise.resolve() : Promise.reject(new ConnectionError("down"))));
    expect((await get("/readyz")).status).toBe(200);
    up = false;
    expect((await get("/readyz")).status).toBe(503);
    up = true;
    expect((await get("/readyz")).status).toBe(200);
  });

  it("logs a failure once when it starts and once when it recovers, not on every probe", async () => {
    const { readiness, get, logs } = await servedReadiness();
    let up = false;
    readiness.check("redis", () => (up ? "PONG" : Promise.reject(new ConnectionError("down"))));
    for (let probe = 0; probe < 3; probe++) await get("/readyz");
    up = true;
    for (let probe = 0; probe < 3; probe++) await get("/readyz");
    const changes = logs.lines.filter((line) => String(line.event).startsWith("readiness_check_"));
    expect(changes).toMatchObject([
      { event: "readiness_check_failed", level: "warn", check: "redis", result: "failed: ConnectionError" },
      { event: "readiness_check_recovered", level: "info", check: "redis" },
    ]);
  });

  it("logs again when a failure changes its kind", async () => {
    const { readiness, get, logs } = await servedReadiness({ timeoutMs: 50 });
    let hang = false;
    readiness.check("redis", () => (hang ? never() : Promise.reject(new ConnectionError("down"))));
    await get("/readyz");
    hang = true;
    await get("/readyz");
    expect(logs.lines.filter((line) => line.event === "readiness_check_failed")).toMatchObject([
      { result: "failed: ConnectionError" },
      { result: "failed: TimeoutError" },
    ]);
  });

  it("ignores a check that fails after its timeout", async () => {
    const { readiness, get } = await servedReadiness({ timeoutMs: 20 });
    readiness.check("late", () => sleep(100).then(() => Promise.reject(new ConnectionError("late"))));
    expect((await get("/readyz")).status).toBe(503);
    await sleep(150); // an unhandled rejection here would fail the run
  });

  it("answers 503 shutting down as soon as shutdown begins, without running checks", async () => {
    const { readiness, get } = await servedReadiness();
    let runs = 0;
    readiness.check("postgres", () => void runs++);
    readiness.shutDown();
    expect(await get("/readyz")).toMatchObject({
      status: 503,
      body: { status: "not_ready", shutting_down: true, checks: {} },
    });
    expect(runs).toBe(0);
    expect(readiness.isShuttingDown).toBe(true);
  });

  it("is never cached", async () => {
    const { get } = await servedReadiness();
    expect((await get("/readyz")).headers.get("cache-control")).toBe("no-store");
  });
});

describe("GET /healthz", () => {
  it("answers 200 ok even when every readiness check fails, without running them", async () => {
    const { readiness, get } = await servedReadiness();
    let runs = 0;
    readiness.check("postgres", () => {
      runs++;
      throw new ConnectionError("down");
    });
    expect(await get("/healthz")).toMatchObject({ status: 200, body: { status: "ok" } });
    expect(runs).toBe(0);
  });

  it("answers 200 ok during shutdown: the process is alive", async () => {
    const { readiness, get } = await servedReadiness();
    readiness.shutDown();
    expect((await get("/healthz")).status).toBe(200);
  });
});

describe("registering checks", () => {
  it("refuses two checks with the same name", () => {
    const readiness: Readiness = createReadiness({
      logger: createLogger({
        service: "t",
        version: "0",
        environment: "test",
        destination: new LogCapture(),
      }),
    });
    readiness.check("redis", () => "PONG");
    expect(() => readiness.check("redis", () => "PONG")).toThrow(/already registered/);
  });
});
