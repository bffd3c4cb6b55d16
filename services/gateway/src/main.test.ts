// The gateway as a real process (from source, through tsx): what the container runs.
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createTestDatabase,
  freePort,
  startListening,
  startProcess,
  TEST_REDIS_URL,
  waitFor,
  type RunningProcess,
} from "@ward/shared/testing";
import postgres from "postgres";
import { createBacking, JWT_SECRET, tokenFor, WORKER_TOKEN, type Backing } from "../test/harness.js";
import { WorkerStandIn } from "../test/worker-stand-in.js";

const cwd = fileURLToPath(new URL("..", import.meta.url));
const node = (entry: string, preload: string[] = []) => [
  "--conditions=source",
  "--import",
  "tsx",
  ...preload.flatMap((file) => ["--import", file]),
  entry,
];
const startGatewayProcess = (env: Record<string, string>) =>
  startProcess(process.execPath, node("src/main.ts", ["./src/instrument.ts"]), { cwd, env });

describe("main with bad settings", () => {
  let gateway: RunningProcess;

  beforeAll(async () => {
    gateway = startGatewayProcess({
      ENVIRONMENT: "production",
      PORT: "http",
      JWT_SECRET: "too-short-secret-value",
      DATABASE_URL: "mysql://app:change-me-hunter2-password@db/app",
      WORKER_URL: "http://worker:8081/v1",
    });
    await gateway.exited;
  });

  it("exits 78 (EX_CONFIG)", async () => {
    expect(await gateway.exited).toBe(78);
  });

  it("writes one JSON line naming every offending variable", () => {
    expect(gateway.stderr.raw).toHaveLength(1);
    const [line] = gateway.stderr.lines;
    expect(line).toMatchObject({ level: "fatal", service: "gateway", event: "config_invalid" });
    const variables = (line?.errors as { variable: string }[]).map((error) => error.variable).sort();
    expect(variables).toEqual([
      "DATABASE_URL",
      "JWT_SECRET",
      "PORT",
      "REDIS_URL",
      "WORKER_TOKEN",
      "WORKER_URL",
    ]);
  });

  it("never prints a secret value", () => {
    const output = gateway.stderr.text() + gateway.logs.text();
    expect(output).not.toContain("too-short-secret-value");
    expect(output).not.toContain("change-me-hunter2-password");
  });
});

describe("main", () => {
  let backing: Backing;
  let worker: WorkerStandIn;
  let gateway: RunningProcess;
  let base: string;

  beforeAll(async () => {
    backing = await createBacking();
    worker = await WorkerStandIn.start();
    const started = await startListening((port) =>
      startGatewayProcess({
        ENVIRONMENT: "test",
        PORT: String(port),
        DATABASE_URL: backing.db.url,
        REDIS_URL: TEST_REDIS_URL,
        REDIS_KEY_PREFIX: backing.keys.prefix,
        JWT_SECRET,
        WORKER_TOKEN,
        WORKER_URL: worker.url,
        SHUTDOWN_DELAY_MS: "1000",
      }),
    );
    gateway = started.run;
    base = `http://127.0.0.1:${started.port}`;
  });

  afterAll(async () => {
    await gateway?.stop("SIGKILL");
    await worker?.stop();
    await backing?.close();
  });

  it("logs config_loaded with every setting, secrets only as set or unset", () => {
    const line = gateway.logs.find((entry) => entry.event === "config_loaded");
    expect(line?.settings).toMatchObject({
      PORT: Number(new URL(base).port),
      JWT_SECRET: "set",
      SENTRY_DSN: "unset",
    });
    expect(gateway.logs.text()).not.toContain(JWT_SECRET);
    expect(gateway.logs.text()).not.toContain(WORKER_TOKEN);
  });

  it("logs server_listening with its port and version", () => {
    expect(gateway.logs.find((line) => line.event === "server_listening")).toMatchObject({
      port: Number(new URL(base).port),
      version: expect.stringMatching(/^\d+\.\d+\.\d+/) as string,
    });
  });

  it("is ready once PostgreSQL and Redis answer", async () => {
    await expect.poll(async () => (await fetch(`${base}/readyz`)).status, { timeout: 10_000 }).toBe(200);
  });

  it("creates a task and has the worker notified", async () => {
    const response = await fetch(`${base}/api/v1/tasks`, {
      method: "POST",
      headers: {
        authorization: `Bearer ${await tokenFor()}`,
        "content-type": "application/json",
        "x-correlation-id": "process-1",
      },
      body: JSON.stringify({ title: "From a real process" }),
    });
    expect(response.status).toBe(201);
    const task = (await response.json()) as { id: string };
    const request = await waitFor(() => worker.receivedFor(`${task.id}:task.created`).at(0));
    expect(request.correlationId).toBe("process-1");
  });

  describe("on SIGTERM", () => {
    let key: string;

    beforeAll(async () => {
      // A delivery still in flight when the signal arrives.
      worker.answer = () => ({ status: 202, delayMs: 1500 });
      const response = await fetch(`${base}/api/v1/tasks`, {
        method: "POST",
        headers: { authorization: `Bearer ${await tokenFor()}`, "content-type": "application/json" },
        body: JSON.stringify({ title: "In flight at shutdown" }),
      });
      key = `${((await response.json()) as { id: string }).id}:task.created`;
      await waitFor(() => worker.receivedFor(key).length === 1);
      gateway.child.kill("SIGTERM");
      await gateway.waitForLog((line) => line.event === "shutdown_started");
    });

    it("turns /readyz to 503 while it keeps serving through the delay", async () => {
      const response = await fetch(`${base}/readyz`);
      expect(response.status).toBe(503);
      expect(await response.json()).toMatchObject({ status: "not_ready" });
    });

    it("exits 0", async () => {
      expect(await gateway.exited).toBe(0);
    });

    it("finished and recorded the delivery that was in flight", async () => {
      await gateway.exited;
      const [row] = await backing.sql<{ delivered_at: Date | null }[]>`
        select delivered_at from outbox where idempotency_key = ${key}`;
      expect(row?.delivered_at).toBeInstanceOf(Date);
    });

    it("stopped the relay before closing Redis, then PostgreSQL", async () => {
      await gateway.exited;
      const steps = gateway.logs.lines
        .filter((line) => line.event === "shutdown_step_completed")
        .map((line) => line.step);
      expect(steps.indexOf("drain:outbox_relay")).toBeLessThan(steps.indexOf("close:redis"));
      expect(steps.indexOf("close:redis")).toBeLessThan(steps.indexOf("close:postgres"));
      expect(gateway.logs.lines.at(-1)).toMatchObject({ event: "shutdown_completed", exit_code: 0 });
    });
  });
});

describe("migrate", () => {
  it("applies the migrations once when several replicas run it at the same time", async () => {
    const db = await createTestDatabase();
    try {
      const runs = [1, 2, 3].map(() =>
        startProcess(process.execPath, node("src/migrate.ts"), {
          cwd,
          env: { ENVIRONMENT: "test", DATABASE_URL: db.url },
        }),
      );
      expect(await Promise.all(runs.map((run) => run.exited))).toEqual([0, 0, 0]);
      const sql = postgres(db.url, { max: 1, onnotice: () => {} });
      const applied = await sql<{ name: string }[]>`select name from gateway_migrations order by name`;
      await sql.end();
      expect(applied.map((row) => row.name)).toEqual([
        "001_tasks.sql",
        "002_outbox.sql",
        "003_outbox_lease.sql",
      ]);
    } finally {
      await db.drop();
    }
  });

  it("exits 1 with migration_failed when the database is unreachable", async () => {
    const port = await freePort();
    const run = startProcess(process.execPath, node("src/migrate.ts"), {
      cwd,
      env: {
        ENVIRONMENT: "test",
        DATABASE_URL: `postgres://app:change-me-hunter2-password@127.0.0.1:${port}/app`,
      },
    });
    expect(await run.exited).toBe(1);
    expect(run.logs.find((line) => line.event === "migration_failed")).toBeDefined();
    expect(run.logs.text() + run.stderr.text()).not.toContain("change-me-hunter2-password");
  });
});
