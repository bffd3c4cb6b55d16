import { setTimeout as sleep } from "node:timers/promises";
import {
  createTestDatabase,
  TEST_REDIS_URL,
  testKeySpace,
  waitFor,
  type LogLine,
  type TestDatabase,
  type TestKeySpace,
  startWebhookReceiver,
  type WebhookReceiver,
} from "@ward/shared/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { notificationFigures, recordFigures } from "./support/figures.js";
import { settled } from "./support/outage.js";
import { startFaultPair, type FaultPair } from "./support/pair.js";

interface Servers {
  db: TestDatabase;
  keys: TestKeySpace;
  receiver: WebhookReceiver;
}

async function servers(): Promise<Servers> {
  return { db: await createTestDatabase(), keys: testKeySpace(), receiver: await startWebhookReceiver() };
}

async function cleanUp(pair: FaultPair | undefined, those: Servers | undefined): Promise<void> {
  await pair?.close();
  await those?.receiver.close();
  await those?.keys.clean();
  await those?.db.drop();
}

const PHASE_MS = 1200;
const RETRY = { baseMs: 100, maxMs: 800 };

describe("the webhook receiver failing (500s, then timeouts, then refused connections), then recovering", () => {
  const TASKS = 5;
  let those: Servers;
  let pair: FaultPair;
  let created: string[] = [];
  let recoveredAt = 0;
  let settledAt = 0;
  let allDelivered = false;

  const retries = (): LogLine[] => pair.worker.lines().filter((line) => line.event === "job_retry_scheduled");

  beforeAll(async () => {
    those = await servers();
    pair = await startFaultPair({
      databaseUrl: those.db.url,
      redisUrl: TEST_REDIS_URL,
      keyPrefix: those.keys.prefix,
      webhookUrl: those.receiver.url,
      worker: {
        MAX_ATTEMPTS: "30",
        RETRY_BASE_MS: String(RETRY.baseMs),
        RETRY_MAX_MS: String(RETRY.maxMs),
        WEBHOOK_TIMEOUT_MS: "400",
      },
    });
    const { receiver } = those;
    // Each phase lasts PHASE_MS, and at least until every notification has met it once.
    const phase = async (what: string) => {
      const callsBefore = receiver.calls.length;
      await sleep(PHASE_MS);
      await waitFor(() => receiver.calls.length >= callsBefore + TASKS, { what: `${TASKS} calls ${what}` });
    };
    receiver.answer = () => ({ status: 500 });
    created = await pair.createTasks(Array.from({ length: TASKS }, (_, i) => `receiver away ${i}`));
    await phase("answered 500");
    receiver.answer = () => "hang";
    await phase("left hanging");
    await receiver.stop();
    await sleep(PHASE_MS);
    receiver.answer = () => ({ status: 200 });
    await receiver.start();
    recoveredAt = Date.now();
    allDelivered = await settled(pair, receiver, created);
    settledAt = Date.now();
  }, 60_000);

  afterAll(async () => {
    if (settledAt) {
      const { lost, notifiedTwice, redeliveries } = notificationFigures(those.receiver, created);
      const attempts = (await pair.notifications()).map((row) => row.attempts);
      recordFigures("webhook_outage", {
        fault: `receiver answers 500, then hangs past WEBHOOK_TIMEOUT_MS=400, then refuses connections, ${PHASE_MS} ms each`,
        load: `${TASKS} notifications; retries from ${RETRY.baseMs} ms doubling to ${RETRY.maxMs} ms`,
        attempts_per_notification: `${Math.min(...attempts)}-${Math.max(...attempts)}`,
        retries_scheduled: retries().length,
        all_delivered_after_recovery_ms: settledAt - recoveredAt,
        notifications_lost: lost.length,
        notifications_duplicated: notifiedTwice.length,
        redeliveries,
      });
    }
    await cleanUp(pair, those);
  });

  it("retries each notification, attempt after attempt, logging job_retry_scheduled", () => {
    for (const id of new Set(retries().map((line) => String(line.notification_id)))) {
      const attempts = retries()
        .filter((line) => line.notification_id === id)
        .map((line) => line.attempt);
      expect(attempts).toEqual(attempts.map((_, i) => i + 1));
      expect(attempts.length).toBeGreaterThan(3);
    }
    expect(new Set(retries().map((line) => line.notification_id)).size).toBe(TASKS);
  });

  it("waits longer after each failure: exponential backoff with jitter, capped", () => {
    for (const line of retries()) {
      const exponential = Math.min(RETRY.maxMs, RETRY.baseMs * 2 ** (Number(line.attempt) - 1));
      expect(line.retry_in_ms).toBeGreaterThanOrEqual(exponential / 2);
      expect(line.retry_in_ms).toBeLessThanOrEqual(exponential);
    }
    const delays = (attempts: (n: number) => boolean) =>
      retries()
        .filter((line) => attempts(Number(line.attempt)))
        .map((line) => Number(line.retry_in_ms));
    expect(Math.min(...delays((n) => n >= 4))).toBeGreaterThan(Math.max(...delays((n) => n === 1)));
  });

  it("counts an error answer, a timeout and a refused connection each as a failed attempt", () => {
    const errors = retries().map((line) => String(line.error));
    expect(errors.some((error) => error === "webhook answered 500")).toBe(true);
    expect(errors.some((error) => /timeout/i.test(error))).toBe(true);
    expect(errors.some((error) => error.includes("ECONNREFUSED"))).toBe(true);
  });

  it("delivers every notification once the receiver recovers, each exactly once", async () => {
    expect(allDelivered).toBe(true);
    const delivered = [...those.receiver.handled().values()];
    expect(delivered).toHaveLength(TASKS);
    expect(delivered.filter((calls) => calls.length !== 1)).toEqual([]);
    expect(delivered.every((calls) => calls[0]!.at >= recoveredAt)).toBe(true);
    expect((await pair.notifications()).filter((row) => row.status !== "delivered")).toEqual([]);
  });
});

describe("a notification the receiver always refuses", () => {
  const MAX_ATTEMPTS = 4;
  const HEALTHY = 10;
  let those: Servers;
  let pair: FaultPair;
  let poison: string | undefined;
  let healthy: string[] = [];
  let allSettled = false;
  let rows: {
    id: string;
    task_id: string;
    status: string;
    attempts: number;
    last_error: string | null;
    finished_at: Date;
  }[] = [];

  beforeAll(async () => {
    those = await servers();
    pair = await startFaultPair({
      databaseUrl: those.db.url,
      redisUrl: TEST_REDIS_URL,
      keyPrefix: those.keys.prefix,
      webhookUrl: those.receiver.url,
      // Giving up takes at least 1 s: retries after 200-400, 400-800 and 400-800 ms.
      worker: { MAX_ATTEMPTS: String(MAX_ATTEMPTS), RETRY_BASE_MS: "400", RETRY_MAX_MS: "800" },
    });
    // 500 for the poisoned notification's calls only.
    those.receiver.answer = (call) => ({ status: call.json?.task.title === "poison" ? 500 : 200 });
    [poison] = await pair.createTasks(["poison"]);
    await waitFor(() => those.receiver.calls.length > 0, { what: "the first call" });
    healthy = await pair.createTasks(Array.from({ length: HEALTHY }, (_, i) => `healthy ${i}`));
    allSettled = await waitFor(
      async () => {
        const finished = await pair.sql`
          select count(*)::int as n from notifications where status in ('delivered', 'failed')`;
        return finished[0]?.n === HEALTHY + 1;
      },
      { timeoutMs: 30_000, what: "every notification finished" },
    ).catch(() => false);
    rows = await pair.sql`
      select id, payload->'task'->>'id' as task_id, status, attempts, last_error,
             coalesce(delivered_at, updated_at) as finished_at
      from notifications`;
  }, 60_000);

  afterAll(async () => {
    if (rows.length) {
      const failed = rows.find((row) => row.task_id === poison);
      const others = rows.filter((row) => row.task_id !== poison);
      const lastHealthy = Math.max(...others.map((row) => row.finished_at.getTime()));
      recordFigures("webhook_poison", {
        fault: "receiver answers 500 to one notification, always",
        load: `1 poisoned + ${HEALTHY} healthy notifications; MAX_ATTEMPTS=${MAX_ATTEMPTS}`,
        poisoned_status: failed?.status,
        poisoned_attempts: failed?.attempts,
        healthy_delivered: others.filter((row) => row.status === "delivered").length,
        healthy_done_before_poison_failed_ms: failed ? failed.finished_at.getTime() - lastHealthy : null,
        notifications_lost: notificationFigures(those.receiver, healthy).lost.length,
      });
    }
    await cleanUp(pair, those);
  });

  it("marks it failed after MAX_ATTEMPTS calls, with the last error", async () => {
    expect(allSettled).toBe(true);
    const failed = rows.find((row) => row.task_id === poison);
    expect(failed).toMatchObject({
      status: "failed",
      attempts: MAX_ATTEMPTS,
      last_error: "webhook answered 500",
    });
    expect(those.receiver.calls.filter((call) => call.json?.task.id === poison)).toHaveLength(MAX_ATTEMPTS);
    // The line leaves at the end of the event-loop turn that stored the outcome.
    const jobFailed = await waitFor(() => pair.worker.lines().find((line) => line.event === "job_failed"));
    expect(jobFailed).toMatchObject({
      level: "error",
      notification_id: failed?.id,
      attempts: MAX_ATTEMPTS,
    });
  });

  it("does not hold up the others: each is delivered once, before the failing one gives up", () => {
    const failed = rows.find((row) => row.task_id === poison)!;
    const others = rows.filter((row) => row.task_id !== poison);
    expect(others.map((row) => row.status)).toEqual(Array(HEALTHY).fill("delivered"));
    expect(others.every((row) => row.finished_at < failed.finished_at)).toBe(true);
    expect(notificationFigures(those.receiver, healthy)).toMatchObject({
      lost: [],
      notifiedTwice: [],
      redeliveries: 0,
    });
  });
});
