import { fileURLToPath } from "node:url";
import { connectPostgres } from "@ward/shared/postgres";
import {
  createTestDatabase,
  startListening,
  startProcess,
  TEST_REDIS_URL,
  testKeySpace,
  waitFor,
  type RunningProcess,
  type TestDatabase,
  type TestKeySpace,
  startWebhookReceiver,
  type WebhookReceiver,
} from "@ward/shared/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { notificationBody, SIGNING_SECRET, TOKEN } from "../test/harness.js";

const cwd = fileURLToPath(new URL("..", import.meta.url));
const node = (script: string) => ["--conditions=source", "--import", "tsx", script];

let db: TestDatabase;
let keys: TestKeySpace;
let receiver: WebhookReceiver;
let env: Record<string, string>;

beforeAll(async () => {
  db = await createTestDatabase();
  keys = testKeySpace();
  receiver = await startWebhookReceiver(() => ({ status: 200, delayMs: 800 }));
  env = {
    ENVIRONMENT: "test",
    PORT: "",
    DATABASE_URL: db.url,
    REDIS_URL: TEST_REDIS_URL,
    REDIS_KEY_PREFIX: keys.prefix,
    WORKER_TOKEN: TOKEN,
    WEBHOOK_URL: receiver.url,
    WEBHOOK_SIGNING_SECRET: SIGNING_SECRET,
    SHUTDOWN_DELAY_MS: "300",
  };
  const migration = startProcess(process.execPath, node("src/migrate.ts"), { cwd, env });
  expect(await migration.exited).toBe(0);
});

afterAll(async () => {
  await receiver?.close();
  await keys?.clean();
  await db?.drop();
});

async function startWorker(): Promise<{ process: RunningProcess; url: string }> {
  const { run, port } = await startListening((at) =>
    startProcess(process.execPath, node("src/main.ts"), { cwd, env: { ...env, PORT: String(at) } }),
  );
  return { process: run, url: `http://127.0.0.1:${port}` };
}

describe("the worker process", () => {
  it("refuses to start on bad settings, naming each and showing no secret", async () => {
    const bad = { ...env, PORT: "8081", WORKER_TOKEN: "short-token-canary", MAX_ATTEMPTS: "lots" };
    const run = startProcess(process.execPath, node("src/main.ts"), { cwd, env: bad });
    expect(await run.exited).toBe(78);
    const line = run.stderr.find((entry) => entry.event === "config_invalid");
    const variables = (line?.errors as { variable: string }[]).map((error) => error.variable).sort();
    expect(variables).toEqual(["MAX_ATTEMPTS", "WORKER_TOKEN"]);
    expect(run.stderr.text() + run.logs.text()).not.toContain("short-token-canary");
  });

  it("logs config_loaded with secrets shown only as set", async () => {
    const { process: worker } = await startWorker();
    try {
      const line = await worker.waitForLog((entry) => entry.event === "config_loaded");
      expect(line.settings).toMatchObject({ WORKER_TOKEN: "set", DATABASE_URL: "set", MAX_ATTEMPTS: 5 });
      expect(worker.logs.text()).not.toContain(TOKEN);
      expect(worker.logs.text()).not.toContain(SIGNING_SECRET);
    } finally {
      await worker.stop();
    }
  });

  it("on SIGTERM turns unready, finishes the job in flight, closes and exits 0", async () => {
    const { process: worker, url } = await startWorker();
    await waitFor(async () => (await fetch(`${url}/readyz`)).status === 200);
    const accepted = await fetch(`${url}/v1/notifications`, {
      method: "POST",
      headers: {
        authorization: `Bearer ${TOKEN}`,
        "content-type": "application/json",
        "idempotency-key": `sigterm-${crypto.randomUUID()}`,
        "x-correlation-id": "drain-me-1",
      },
      body: JSON.stringify(notificationBody()),
    });
    const { id } = (await accepted.json()) as { id: string };
    await worker.waitForLog((line) => line.event === "job_started" && line.notification_id === id);

    worker.child.kill("SIGTERM");
    await waitFor(async () => (await fetch(`${url}/readyz`)).status === 503);
    expect(await worker.exited).toBe(0);

    const events = worker.logs.lines.map((line) => line.event);
    const order = ["shutdown_started", "job_completed", "consumer_stopped", "shutdown_completed"];
    expect(order.map((event) => events.indexOf(event))).toEqual(
      order.map((event) => events.indexOf(event)).sort((a, b) => a - b),
    );
    expect(order.every((event) => events.includes(event))).toBe(true);
    const sql = connectPostgres(db.url, { applicationName: "worker-test", max: 1 });
    const [row] = await sql<{ status: string }[]>`select status from notifications where id = ${id}`;
    await sql.end();
    expect(row?.status).toBe("delivered");
  });
});
