/**
 * Nothing accepted is lost, and nothing is announced twice, when a part of the chain is away: the
 * worker stopped while a task is created, a webhook receiver that fails at first.
 */
import { waitFor, type ReceivedCall } from "@ward/shared/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startPair, type Pair } from "../support/pair.js";

let pair: Pair;

beforeAll(async () => {
  pair = await startPair();
});

afterAll(async () => {
  if (pair) expect(await pair.stop()).toEqual({ gateway: 0, worker: 0 });
});

interface Notification {
  id: string;
  status: string;
  attempts: number;
  correlation_id: string;
}

async function createTask(title: string, correlationId: string) {
  const response = await pair.api("/api/v1/tasks", { method: "POST", json: { title }, correlationId });
  return { response, task: (await response.json()) as { id: string } };
}

/** The worker's notification rows about one task. */
function notificationsOf(taskId: string) {
  return pair.sql<Notification[]>`
    select id, status, attempts, correlation_id from notifications
    where payload -> 'task' ->> 'id' = ${taskId}`;
}

/** Waits until the gateway's outbox and the worker's notification are both finished. */
async function settled(taskId: string): Promise<Notification> {
  return waitFor(
    async () => {
      const [outbox] = await pair.sql<{ delivered: boolean }[]>`
        select delivered_at is not null as delivered from outbox where payload -> 'task' ->> 'id' = ${taskId}`;
      const [notification] = await notificationsOf(taskId);
      return outbox?.delivered && notification?.status === "delivered" && notification;
    },
    { timeoutMs: 30_000, what: `the notification of ${taskId} to be delivered` },
  );
}

describe("a task created while the worker is stopped", () => {
  const id = "while-worker-down-1";
  let workerExit: number | string;
  let created: Awaited<ReturnType<typeof createTask>>;
  let notification: Notification;
  let calls: ReceivedCall[];

  beforeAll(async () => {
    workerExit = await pair.worker.stop();
    created = await createTask("Written while the worker was away", id);
    // The relay tried, and will try again: the request is safe in the outbox meanwhile.
    await waitFor(() => pair.linesOf(id).find((line) => line.event === "outbox_delivery_failed"), {
      what: "a failed delivery to the stopped worker",
    });
    await pair.worker.start();
    notification = await settled(created.task.id);
    calls = pair.receiver.callsForTask(created.task.id);
  });

  it("is accepted all the same: 201", () => {
    expect(workerExit).toBe(0);
    expect(created.response.status).toBe(201);
  });

  it("is notified exactly once once the worker is back", async () => {
    expect(calls.map((call) => call.json?.event)).toEqual(["task.created"]);
    expect(pair.receiver.acceptedWithKey(notification.id)).toBe(1);
    expect(await notificationsOf(created.task.id)).toHaveLength(1);
  });

  it("is notified under its original correlation id", () => {
    expect(calls[0]?.headers["x-correlation-id"]).toBe(id);
    expect(notification.correlation_id).toBe(id);
  });

  it("is logged by the restarted worker under the original correlation id", () => {
    const restarted = pair.worker.runs.at(-1)?.logs.lines ?? [];
    const events = restarted.filter((line) => line.correlation_id === id).map((line) => line.event);
    expect(events).toEqual(expect.arrayContaining(["request_started", "job_started", "webhook_delivered"]));
    expect(pair.linesOf(id).some((line) => line.event === "outbox_delivered")).toBe(true);
  });
});

describe("a webhook receiver that fails at first", () => {
  const id = "flaky-receiver-1";
  let taskId: string;
  let notification: Notification;
  let calls: ReceivedCall[];

  beforeAll(async () => {
    pair.receiver.failNext(1);
    taskId = (await createTask("Announced on the second try", id)).task.id;
    notification = await settled(taskId);
    calls = pair.receiver.callsForTask(taskId);
  });

  it("gets the notification again until it accepts it", () => {
    expect(calls.map((call) => call.status)).toEqual([503, 200]);
    expect(notification.attempts).toBe(2);
  });

  it("gets the same Idempotency-Key and correlation id on every try", () => {
    expect(new Set(calls.map((call) => call.headers["idempotency-key"]))).toEqual(new Set([notification.id]));
    expect(new Set(calls.map((call) => call.headers["x-correlation-id"]))).toEqual(new Set([id]));
  });

  it("accepts it exactly once", () => {
    expect(pair.receiver.acceptedWithKey(notification.id)).toBe(1);
  });

  it("is logged as a scheduled retry under the request's correlation id", () => {
    const retry = pair.linesOf(id).find((line) => line.event === "job_retry_scheduled");
    expect(retry).toMatchObject({ service: "worker", level: "warn", notification_id: notification.id });
  });
});

describe("both services restarted while a notification waits in the outbox", () => {
  const id = "outlives-restarts-1";
  let exits: (number | string)[];
  let taskId: string;
  let notification: Notification;

  beforeAll(async () => {
    const workerExit = await pair.worker.stop();
    taskId = (await createTask("Outlives both processes", id)).task.id;
    await waitFor(() => pair.linesOf(id).find((line) => line.event === "outbox_delivery_failed"), {
      what: "a failed delivery to the stopped worker",
    });
    exits = [workerExit, await pair.gateway.stop()];
    await Promise.all([pair.worker.start(), pair.gateway.start()]);
    notification = await settled(taskId);
  });

  it("lets the gateway stop cleanly with the delivery still owed", () => {
    expect(exits).toEqual([0, 0]);
  });

  it("delivers it once, under its original correlation id, from the new gateway", () => {
    const calls = pair.receiver.callsForTask(taskId);
    expect(calls.map((call) => call.headers["x-correlation-id"])).toEqual([id]);
    expect(pair.receiver.acceptedWithKey(notification.id)).toBe(1);
    const relayed = pair.gateway.runs.at(-1)?.logs.lines.filter((line) => line.correlation_id === id);
    expect(relayed?.map((line) => line.event)).toContain("outbox_delivered");
  });
});

describe("failed attempts", () => {
  it("log no secret value, not even in their errors", () => {
    expect(pair.lines().some((line) => line.event === "outbox_delivery_failed")).toBe(true);
    expect(pair.leakedSecrets()).toEqual([]);
  });
});
