import { Redis } from "ioredis";
import {
  createTestDatabase,
  TEST_REDIS_URL,
  testKeySpace,
  type TestDatabase,
  type TestKeySpace,
  startWebhookReceiver,
  type WebhookReceiver,
} from "@ward/shared/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { notificationFigures, recordFigures } from "./support/figures.js";
import { settled } from "./support/outage.js";
import { FAST_WORKER, startFaultPair, type FaultPair, type NotificationRow } from "./support/pair.js";

const BURST = 50;
const KILL_ON_CALL = 10;

describe("the worker killed with SIGKILL in the middle of a burst of jobs, then started again", () => {
  let db: TestDatabase;
  let keys: TestKeySpace;
  let receiver: WebhookReceiver;
  let pair: FaultPair;
  let killedAt = 0;
  let diedAt = 0;
  let restartedAt = 0;
  let settledAt = 0;
  let allSettled = false;
  let created: string[] = [];
  let rows: NotificationRow[] = [];

  beforeAll(async () => {
    db = await createTestDatabase();
    keys = testKeySpace();
    receiver = await startWebhookReceiver();
    pair = await startFaultPair({
      databaseUrl: db.url,
      redisUrl: TEST_REDIS_URL,
      keyPrefix: keys.prefix,
      webhookUrl: receiver.url,
    });
    // Each call takes 100 ms; the tenth is cut off by the kill while the receiver holds it, with
    // the jobs read alongside it still running.
    const firstRun = pair.worker.current();
    receiver.answer = () => {
      if (receiver.calls.length + 1 === KILL_ON_CALL) {
        killedAt = Date.now();
        firstRun.child.kill("SIGKILL");
      }
      return { status: 200, delayMs: 100 };
    };
    created = await pair.createTasks(Array.from({ length: BURST }, (_, i) => `burst ${i}`));
    await firstRun.exited;
    diedAt = Date.now();
    await pair.worker.start();
    restartedAt = Date.now();
    allSettled = await settled(pair, receiver, created);
    settledAt = Date.now();
    rows = await pair.notifications();
  }, 60_000);

  afterAll(async () => {
    if (settledAt) {
      const { lost, notifiedTwice, redeliveries } = notificationFigures(receiver, created);
      recordFigures("worker_sigkill", {
        fault: `worker SIGKILLed during webhook call ${KILL_ON_CALL} of a burst, restarted at once`,
        load: `${BURST} tasks created at once; receiver takes 100 ms per call; STALLED_JOB_MS=${FAST_WORKER.STALLED_JOB_MS}`,
        tasks_accepted: created.length,
        notifications_stored: rows.length,
        all_delivered_after_restart_ms: settledAt - restartedAt,
        restart_took_ms: restartedAt - killedAt,
        notifications_lost: lost.length,
        notifications_duplicated: notifiedTwice.length,
        redeliveries,
        jobs_claimed_from_dead_consumer: claimedLines().length,
      });
    }
    await pair?.close();
    await receiver?.close();
    await keys?.clean();
    await db?.drop();
  });

  const claimedLines = () => (pair.worker.runs[1]?.logs.lines ?? []).filter((l) => l.event === "job_claimed");

  it("was killed while it still had jobs in flight", () => {
    expect(pair.worker.runs[0]?.child.signalCode).toBe("SIGKILL");
    const beforeDeath = receiver.calls.filter((call) => call.at <= diedAt);
    expect(new Set(beforeDeath.map((call) => call.key)).size).toBeLessThan(BURST);
  });

  it("delivers every accepted notification: each one's idempotency key reaches the receiver", () => {
    expect(allSettled).toBe(true);
    expect(rows).toHaveLength(BURST);
    expect(new Set(rows.map((row) => row.task_id))).toEqual(new Set(created));
    expect(new Set(receiver.handled().keys())).toEqual(new Set(rows.map((row) => row.id)));
  });

  it("calls again only for jobs the killed worker had in flight, under the same key", () => {
    const repeated = [...receiver.handled().values()].filter((calls) => calls.length > 1);
    expect(repeated.length).toBeGreaterThan(0);
    for (const calls of repeated) {
      // The first call came from the killed worker (a call it had sent may land just after the kill).
      expect(calls[0]!.at).toBeLessThanOrEqual(diedAt);
      expect(calls.slice(1).every((call) => call.at > diedAt)).toBe(true);
      expect(new Set(calls.map((call) => call.json?.task.id)).size).toBe(1);
    }
    expect(notificationFigures(receiver, created).notifiedTwice).toEqual([]);
  });

  it("takes over the dead consumer's unacknowledged jobs (job_claimed) once they stall", () => {
    expect(claimedLines().length).toBeGreaterThan(0);
  });

  it("leaves nothing pending: every row delivered, no job unacknowledged in the stream", async () => {
    expect(rows.filter((row) => row.status !== "delivered")).toEqual([]);
    const redis = new Redis(TEST_REDIS_URL, { keyPrefix: keys.prefix, lazyConnect: true });
    await redis.connect();
    try {
      const [pending] = (await redis.xpending("notifications:jobs", "notifiers")) as [number];
      expect(pending).toBe(0);
    } finally {
      redis.disconnect();
    }
  });
});
