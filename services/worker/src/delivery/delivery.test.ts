import { setTimeout as sleep } from "node:timers/promises";
import {
  freePort,
  privateRedis,
  waitFor,
  startWebhookReceiver,
  type WebhookReceiver,
} from "@ward/shared/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { idOf, notificationBody, startTestWorker, type TestWorker } from "../../test/harness.js";

const STREAM = "notifications:jobs";

/** Reads one job as a consumer that then dies: the job stays pending under its name. */
async function readAsDeadConsumer(worker: TestWorker): Promise<void> {
  await worker.redis.xgroup("CREATE", STREAM, "notifiers", "0", "MKSTREAM").catch(() => {});
  const read = await worker.redis.xreadgroup(
    "GROUP",
    "notifiers",
    "dead-pod",
    "COUNT",
    10,
    "STREAMS",
    STREAM,
    ">",
  );
  expect(read?.[0]?.[1]).toHaveLength(1);
}

describe("delivery to a webhook", () => {
  let worker: TestWorker;
  let receiver: WebhookReceiver;

  beforeAll(async () => {
    // Titles say how the receiver answers: "flaky" fails once, "broken" always, "slow" takes 400 ms.
    receiver = await startWebhookReceiver((call, previous) => {
      const title = call.json?.task.title ?? "";
      if (title.startsWith("broken")) return 500;
      if (title.startsWith("flaky") && previous === 0) return 500;
      return 200;
    });
    // Retries far enough apart that "meanwhile" is observable.
    const backoff = { baseMs: 300, maxMs: 600 };
    worker = await startTestWorker({ webhookUrl: receiver.url, maxAttempts: 3, tuning: { backoff } });
  });
  afterAll(async () => {
    await worker?.close();
    await receiver?.close();
  });

  it("retries a failed call and delivers once", async () => {
    const id = await idOf(await worker.notify(notificationBody({ task: flakyTask() })));

    const row = await worker.finished(id);
    expect(row.status).toBe("delivered");
    expect(row.attempts).toBe(2);
    expect(receiver.callsFor(id).map((call) => call.json?.id)).toEqual([id, id]);
    const retry = worker.jobLines(id).find((line) => line.event === "job_retry_scheduled");
    expect(retry).toMatchObject({ level: "warn", attempt: 1, error: "webhook answered 500" });
    expect(retry?.retry_in_ms).toBeGreaterThan(0);
  });

  it("parks a notification as failed after MAX_ATTEMPTS, while others are delivered meanwhile", async () => {
    const broken = await idOf(await worker.notify(notificationBody({ task: task("broken") })));
    await waitFor(() => receiver.callsFor(broken).length >= 1);
    const healthy = await idOf(await worker.notify(notificationBody()));

    expect((await worker.finished(healthy)).status).toBe("delivered");
    expect((await worker.row(broken))?.status).not.toBe("failed"); // still retrying
    const row = await worker.finished(broken);
    expect(row).toMatchObject({ status: "failed", attempts: 3, last_error: "webhook answered 500" });
    expect(receiver.callsFor(broken)).toHaveLength(3);
    expect(worker.jobLines(broken).find((line) => line.event === "job_failed")).toMatchObject({
      level: "error",
      attempts: 3,
    });
  });

  it("stops retrying a failed notification", async () => {
    const id = await idOf(await worker.notify(notificationBody({ task: task("broken") })));
    await worker.finished(id);
    await sleep(500);
    expect(receiver.callsFor(id)).toHaveLength(3);
  });

  it("writes the job's correlation id on every line of the job", async () => {
    const id = await idOf(
      await worker.notify(notificationBody({ task: flakyTask() }), { correlationId: "job-777" }),
    );
    await worker.finished(id);

    const lines = worker.jobLines(id);
    const events = lines.map((line) => line.event);
    for (const event of [
      "job_started",
      "outbound_request",
      "job_retry_scheduled",
      "webhook_delivered",
      "job_completed",
    ]) {
      expect(events).toContain(event);
    }
    expect(lines.filter((line) => line.correlation_id !== "job-777")).toEqual([]);
  });

  it("acknowledges and skips a job whose notification was already delivered", async () => {
    const id = await idOf(await worker.notify(notificationBody(), { correlationId: "dup-job-1" }));
    await worker.finished(id);
    await worker.redis.xadd(STREAM, "*", "notification_id", id, "correlation_id", "dup-job-1");

    await waitFor(() => worker.jobLines(id).find((line) => line.event === "job_skipped"));
    expect(receiver.callsFor(id)).toHaveLength(1);
  });
});

describe("jobs a consumer could not finish", () => {
  let receiver: WebhookReceiver;
  beforeAll(async () => {
    receiver = await startWebhookReceiver();
  });
  afterAll(() => receiver?.close());

  it("takes over a job a dead consumer read but never acknowledged", async () => {
    const worker = await startTestWorker({ webhookUrl: receiver.url, start: false });
    try {
      const id = await idOf(await worker.notify(notificationBody(), { correlationId: "orphan-1" }));
      await readAsDeadConsumer(worker);
      worker.worker.start();

      expect((await worker.finished(id)).status).toBe("delivered");
      expect(worker.jobLines(id).find((line) => line.event === "job_claimed")).toMatchObject({
        correlation_id: "orphan-1",
      });
      expect(receiver.callsFor(id)).toHaveLength(1);
    } finally {
      await worker.close();
    }
  });

  it("delivers a job whose consumer died mid-call once its claim expires", async () => {
    const worker = await startTestWorker({ webhookUrl: receiver.url, start: false });
    try {
      const id = await idOf(await worker.notify(notificationBody()));
      await readAsDeadConsumer(worker);
      // What the dead consumer had done: claimed the row for its first attempt.
      await worker.sql`update notifications set status = 'delivering', attempts = 1,
        next_attempt_at = now() + interval '1 second' where id = ${id}`;
      worker.worker.start();

      const row = await worker.finished(id);
      expect(row).toMatchObject({ status: "delivered", attempts: 2 });
      expect(receiver.callsFor(id)).toHaveLength(1);
    } finally {
      await worker.close();
    }
  });

  it("finishes the job in flight when stopped, and takes no new one", async () => {
    const slow = await startWebhookReceiver(() => ({ status: 200, delayMs: 400 }));
    const worker = await startTestWorker({ webhookUrl: slow.url });
    try {
      const id = await idOf(await worker.notify(notificationBody()));
      await waitFor(() => worker.jobLines(id).find((line) => line.event === "job_started"));
      await worker.worker.stop();
      expect((await worker.row(id))?.status).toBe("delivered");

      const later = await idOf(await worker.notify(notificationBody()));
      await sleep(500);
      expect((await worker.row(later))?.status).toBe("queued");
    } finally {
      await worker.close();
      await slow.close();
    }
  });
});

describe("when a dependency is away", () => {
  it("accepts while Redis is away, and delivers once the sweep finds the notification", async () => {
    const receiver = await startWebhookReceiver();
    const pod = await startTestWorker({
      webhookUrl: receiver.url,
      tuning: { scheduler: { tickMs: 50, sweepEveryMs: 100, sweepGraceMs: 300 } },
    });
    const cutOff = await startTestWorker({
      sharing: pod,
      redisUrl: `redis://127.0.0.1:${await freePort()}`,
      start: false,
    });
    try {
      const response = await cutOff.notify(notificationBody(), { correlationId: "redis-was-away" });
      const id = await idOf(response);
      expect(cutOff.logs.find((line) => line.event === "job_enqueue_failed")).toMatchObject({
        correlation_id: "redis-was-away",
      });

      expect((await pod.finished(id)).status).toBe("delivered");
      expect(pod.jobLines(id).find((line) => line.event === "job_requeued")).toBeDefined();
      expect(receiver.callsFor(id)).toHaveLength(1);
      expect(receiver.callsFor(id)[0]?.headers["x-correlation-id"]).toBe("redis-was-away");
    } finally {
      await cutOff.close();
      await pod.close();
      await receiver.close();
    }
  });

  it("is unready while Redis is away, and ready and delivering again once it is back, even empty", async () => {
    const redis = await privateRedis();
    await redis.start();
    const worker = await startTestWorker({ redisUrl: redis.url });
    try {
      const ready = async () => (await worker.request("/readyz")).status === 200;
      await waitFor(ready);
      await redis.stop();
      const outage = await waitFor(async () => {
        const response = await worker.request("/readyz");
        return response.status === 503 && ((await response.json()) as { checks: Record<string, string> });
      });
      expect(outage.checks.redis).toMatch(/^failed: /);

      await redis.start(); // without its data: the stream and the group are gone
      await waitFor(ready, { timeoutMs: 10_000 });
      const id = await idOf(await worker.notify(notificationBody()));
      expect((await worker.finished(id)).status).toBe("delivered");
    } finally {
      await worker.close();
      await redis.stop();
    }
  });

  it("answers 503 when PostgreSQL is away, so the caller retries", async () => {
    const worker = await startTestWorker({
      databaseUrl: `postgres://postgres@127.0.0.1:${await freePort()}/nowhere`,
      start: false,
    });
    try {
      const response = await worker.notify(notificationBody());
      expect(response.status).toBe(503);
      expect(((await response.json()) as { error: string }).error).toBe("service_unavailable");
    } finally {
      await worker.close();
    }
  });
});

describe("without WEBHOOK_URL", () => {
  it("stores the delivery only", async () => {
    const worker = await startTestWorker();
    try {
      const id = await idOf(await worker.notify(notificationBody(), { correlationId: "no-hook-1" }));
      const row = await worker.finished(id);
      expect(row).toMatchObject({ status: "delivered", attempts: 1, correlation_id: "no-hook-1" });
      expect(worker.jobLines(id).find((line) => line.event === "webhook_skipped")).toMatchObject({
        correlation_id: "no-hook-1",
      });
    } finally {
      await worker.close();
    }
  });
});

let taskCount = 0;
function task(prefix: string) {
  taskCount += 1;
  return { id: crypto.randomUUID(), title: `${prefix} ${taskCount}`, status: "open" };
}
function flakyTask() {
  return task("flaky");
}
