/**
 * One request's journey through the real, built pair: gateway → outbox relay → worker → queue →
 * webhook, told by the correlation ID it carries everywhere.
 */
import { waitFor, type LogLine, type ReceivedCall } from "@ward/shared/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { verifyWebhookSignature } from "../../services/worker/src/webhook/signature.js";
import { startPair, type Pair } from "../support/pair.js";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

interface Task {
  id: string;
  status: string;
}

let pair: Pair;

beforeAll(async () => {
  pair = await startPair();
});

afterAll(async () => {
  if (pair) expect(await pair.stop()).toEqual({ gateway: 0, worker: 0 });
});

/** Creates a task, optionally under a chosen correlation ID. */
async function createTask(title: string, correlationId?: string) {
  const response = await pair.api("/api/v1/tasks", { method: "POST", json: { title }, correlationId });
  const body = (await response.json()) as Task;
  return { response, task: body, correlationId: response.headers.get("x-correlation-id") ?? "" };
}

/** Waits for the receiver to accept the notification of `event` about `taskId`. */
function delivered(taskId: string, event = "task.created"): Promise<ReceivedCall> {
  return waitFor(
    () =>
      pair.receiver.callsForTask(taskId).find((call) => call.json?.event === event && call.status === 200),
    { timeoutMs: 20_000, what: `the webhook call for ${event} of ${taskId}` },
  );
}

/** Waits until the worker's log says the job of this correlation ID completed. */
function jobCompleted(correlationId: string): Promise<LogLine> {
  return waitFor(
    () =>
      pair.worker
        .lines()
        .find((line) => line.event === "job_completed" && line.correlation_id === correlationId),
    { timeoutMs: 20_000, what: `job_completed under ${correlationId}` },
  );
}

/** Waits until the gateway's log says the outbox relay handed this request to the worker. */
function relayed(correlationId: string): Promise<LogLine> {
  return waitFor(() => lineOf(correlationId, "gateway", "outbox_delivered"), {
    timeoutMs: 20_000,
    what: `outbox_delivered under ${correlationId}`,
  });
}

/** The line of `service` with `event` (and the extra fields) under `correlationId`, if any. */
function lineOf(correlationId: string, service: string, event: string, fields: Record<string, unknown> = {}) {
  return pair
    .linesOf(correlationId)
    .find(
      (line) =>
        line.service === service &&
        line.event === event &&
        Object.entries(fields).every(([key, value]) => line[key] === value),
    );
}

describe("a task created with X-Correlation-ID: abc-123", () => {
  const id = "abc-123";
  let created: Awaited<ReturnType<typeof createTask>>;
  let call: ReceivedCall;

  beforeAll(async () => {
    created = await createTask("Renew the TLS certificate", id);
    call = await delivered(created.task.id);
    await jobCompleted(id);
    await relayed(id);
  });

  it("answers 201 with the header echoed", () => {
    expect(created.response.status).toBe(201);
    expect(created.response.headers.get("x-correlation-id")).toBe(id);
  });

  it("logs the id on the gateway's request lines", () => {
    const path = "/api/v1/tasks";
    expect(lineOf(id, "gateway", "request_started", { method: "POST", path })).toBeDefined();
    expect(lineOf(id, "gateway", "request_completed", { path, status_code: 201 })).toBeDefined();
  });

  it("logs the id on the outbox relay's call to the worker", () => {
    expect(lineOf(id, "gateway", "outbox_delivered", { task_id: created.task.id })).toBeDefined();
    const target = `${pair.worker.url}/v1/notifications`;
    expect(lineOf(id, "gateway", "outbound_request", { target, status_code: 202 })).toBeDefined();
  });

  it("logs the id on the worker's request lines", () => {
    const path = "/v1/notifications";
    expect(lineOf(id, "worker", "request_started", { method: "POST", path })).toBeDefined();
    expect(lineOf(id, "worker", "request_completed", { path, status_code: 202 })).toBeDefined();
  });

  it("logs the id on the worker's job lines", () => {
    expect(lineOf(id, "worker", "job_started")).toBeDefined();
    expect(lineOf(id, "worker", "job_completed")).toBeDefined();
  });

  it("logs the id on the webhook call's lines", () => {
    expect(lineOf(id, "worker", "webhook_delivered", { status_code: 200 })).toBeDefined();
    const target = pair.receiver.url;
    expect(lineOf(id, "worker", "outbound_request", { target, status_code: 200 })).toBeDefined();
  });

  it("stores the id on the task row and on the notification row", async () => {
    const [task] = await pair.sql<{ correlation_id: string }[]>`
      select correlation_id from tasks where id = ${created.task.id}`;
    const notifications = await pair.sql<{ correlation_id: string; event: string; status: string }[]>`
      select correlation_id, event, status from notifications where payload -> 'task' ->> 'id' = ${created.task.id}`;
    expect(task?.correlation_id).toBe(id);
    expect(notifications).toEqual([{ correlation_id: id, event: "task.created", status: "delivered" }]);
  });

  it("delivers the id to the receiver, in the header and in the body", () => {
    expect(call.headers["x-correlation-id"]).toBe(id);
    expect(call.json).toMatchObject({ event: "task.created", org_id: "org-1", correlation_id: id });
  });

  it("signs the webhook call so that the receiver's verify function accepts it", () => {
    const signed = {
      secret: pair.secrets.WEBHOOK_SIGNING_SECRET,
      timestamp: call.headers["x-ward-timestamp"] as string,
      signature: call.headers["x-ward-signature"] as string,
    };
    expect(verifyWebhookSignature({ ...signed, body: call.body })).toBe(true);
    // And it is the signature that vouches for this body, under this secret.
    expect(verifyWebhookSignature({ ...signed, body: call.body.replace("org-1", "org-2") })).toBe(false);
    expect(verifyWebhookSignature({ ...signed, secret: "another-secret", body: call.body })).toBe(false);
  });
});

describe("a task created without X-Correlation-ID", () => {
  let created: Awaited<ReturnType<typeof createTask>>;
  let call: ReceivedCall;

  beforeAll(async () => {
    created = await createTask("Rotate the database password");
    call = await delivered(created.task.id);
    await jobCompleted(created.correlationId);
    await relayed(created.correlationId);
  });

  it("answers with one generated id, a UUID", () => {
    expect(created.response.status).toBe(201);
    expect(created.correlationId).toMatch(UUID);
  });

  it("logs that id in both services, from the request to the webhook call", () => {
    const id = created.correlationId;
    expect(lineOf(id, "gateway", "request_completed", { status_code: 201 })).toBeDefined();
    expect(lineOf(id, "gateway", "outbox_delivered")).toBeDefined();
    expect(lineOf(id, "worker", "request_completed", { status_code: 202 })).toBeDefined();
    expect(lineOf(id, "worker", "webhook_delivered")).toBeDefined();
  });

  it("uses no other id for this task anywhere", () => {
    const ids = pair
      .lines()
      .filter((line) => line.task_id === created.task.id || line.path === `/api/v1/tasks/${created.task.id}`)
      .map((line) => line.correlation_id);
    expect(new Set(ids)).toEqual(new Set([created.correlationId]));
  });

  it("sends the same id to the receiver", () => {
    expect(call.headers["x-correlation-id"]).toBe(created.correlationId);
    expect(call.json?.correlation_id).toBe(created.correlationId);
  });
});

describe("completing a task", () => {
  it("notifies again, with event task.completed, for the same task", async () => {
    const { task } = await createTask("Archive last year's invoices");
    const first = await delivered(task.id);

    const response = await pair.api(`/api/v1/tasks/${task.id}/complete`, {
      method: "POST",
      correlationId: "complete-42",
    });
    expect(response.status).toBe(200);
    expect(((await response.json()) as Task).status).toBe("completed");
    const second = await delivered(task.id, "task.completed");

    expect(second.json).toMatchObject({ task: { id: task.id, status: "completed" } });
    expect(second.headers["x-correlation-id"]).toBe("complete-42");
    expect(second.headers["idempotency-key"]).not.toBe(first.headers["idempotency-key"]);
    expect(pair.receiver.callsForTask(task.id).map((call) => call.json?.event)).toEqual([
      "task.created",
      "task.completed",
    ]);
  });
});

describe("tasks created at the same time", () => {
  it("each reach the receiver once, under their own request's id, on every line", async () => {
    const ids = Array.from({ length: 16 }, (_, n) => `burst-${n}`);
    const created = await Promise.all(ids.map((id) => createTask(`Burst ${id}`, id)));
    const calls = await Promise.all(created.map(({ task }) => delivered(task.id)));
    await Promise.all(ids.map(jobCompleted));

    calls.forEach((call, n) => {
      expect(call.headers["x-correlation-id"]).toBe(ids[n]);
      expect(pair.receiver.acceptedWithKey(call.json?.id ?? "")).toBe(1);
    });
    // Jobs run side by side in one worker: no line may carry another job's id.
    for (const call of calls) {
      const lines = pair.lines().filter((line) => line.notification_id === call.json?.id);
      expect(new Set(lines.map((line) => line.correlation_id))).toEqual(new Set([call.json?.correlation_id]));
    }
  });
});

describe("reading a task", () => {
  it("is served from the cache the second time, each read logged under its own id", async () => {
    const { task } = await createTask("Read me twice");
    const path = `/api/v1/tasks/${task.id}`;
    expect((await pair.api(path, { correlationId: "read-1" })).status).toBe(200);
    expect((await pair.api(path, { correlationId: "read-2" })).status).toBe(200);
    // A line reaches stdout at the end of the event-loop turn that wrote it: possibly after the response.
    await waitFor(() => lineOf("read-1", "gateway", "cache_miss", { level: "debug" }), {
      what: "cache_miss",
    });
    await waitFor(() => lineOf("read-2", "gateway", "cache_hit", { level: "debug" }), { what: "cache_hit" });
  });

  it("shows it completed right after completing it, though it was cached open", async () => {
    const { task } = await createTask("Complete me while cached");
    const path = `/api/v1/tasks/${task.id}`;
    expect(((await (await pair.api(path)).json()) as Task).status).toBe("open");
    expect((await pair.api(`${path}/complete`, { method: "POST" })).status).toBe(200);
    expect(((await (await pair.api(path)).json()) as Task).status).toBe("completed");
  });
});

describe("start-up and secrets", () => {
  it("logs config_loaded as each service's first line", () => {
    for (const service of [pair.gateway, pair.worker]) {
      const first = JSON.parse(service.runs[0]?.logs.raw[0] ?? "{}") as LogLine;
      expect(first).toMatchObject({ event: "config_loaded", service: service.name, level: "info" });
    }
  });

  it("shows the gateway's secrets as set or unset, its other settings as they are", () => {
    const { settings } = pair.gateway.lines()[0] ?? {};
    expect(settings).toMatchObject({
      DATABASE_URL: "set",
      REDIS_URL: "set",
      JWT_SECRET: "set",
      WORKER_TOKEN: "set",
      SENTRY_DSN: "unset",
      ENVIRONMENT: "test",
      LOG_LEVEL: "debug",
      WORKER_URL: pair.worker.url,
      PORT: Number(new URL(pair.gateway.url).port),
    });
  });

  it("shows the worker's secrets as set or unset, its other settings as they are", () => {
    const { settings } = pair.worker.lines()[0] ?? {};
    expect(settings).toMatchObject({
      DATABASE_URL: "set",
      REDIS_URL: "set",
      WORKER_TOKEN: "set",
      WEBHOOK_SIGNING_SECRET: "set",
      SENTRY_DSN: "unset",
      ENVIRONMENT: "test",
      WEBHOOK_URL: pair.receiver.url,
      PORT: Number(new URL(pair.worker.url).port),
    });
  });

  it("writes no secret value in any line, of any process, after a whole journey", () => {
    expect(pair.receiver.calls.length).toBeGreaterThan(0);
    expect(pair.leakedSecrets()).toEqual([]);
    // Not even part of one: every secret of the run carries this marker.
    expect(pair.output()).not.toContain("-canary-");
  });

  it("writes nothing but JSON lines to stdout and nothing to stderr", () => {
    for (const run of [...pair.gateway.runs, ...pair.worker.runs]) {
      expect(run.logs.lines.length).toBe(run.logs.raw.length);
      expect(run.stderr.text()).toBe("");
    }
  });
});
