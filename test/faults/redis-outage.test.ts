import {
  createTestDatabase,
  privateRedis,
  type PrivateRedis,
  type TestDatabase,
  startWebhookReceiver,
  type WebhookReceiver,
} from "@ward/shared/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { notificationFigures, recordFigures } from "./support/figures.js";
import { failures } from "./support/load.js";
import { playOutage, type OutageObservations } from "./support/outage.js";
import { startFaultPair, type FaultPair } from "./support/pair.js";
import { PROBE_PERIOD_MS } from "./support/readiness.js";

describe("Redis stopped while both services run under steady load", () => {
  let db: TestDatabase;
  let redis: PrivateRedis;
  let receiver: WebhookReceiver;
  let pair: FaultPair;
  let seen: OutageObservations;

  beforeAll(async () => {
    db = await createTestDatabase();
    redis = await privateRedis();
    await redis.start();
    receiver = await startWebhookReceiver();
    pair = await startFaultPair({
      databaseUrl: db.url,
      redisUrl: redis.url,
      keyPrefix: "ward:",
      webhookUrl: receiver.url,
    });
    seen = await playOutage({ pair, receiver, breakIt: () => redis.stop(), repairIt: () => redis.start() });
  }, 90_000);

  afterAll(async () => {
    if (seen) {
      const { lost, notifiedTwice, redeliveries } = notificationFigures(receiver, seen.created);
      recordFigures("redis_outage", {
        fault: "Redis stopped for 3 s (restarted empty)",
        load: "2 clients creating and reading back tasks, 50 ms apart",
        gateway_unready_after_ms: seen.unready.gateway.at - seen.brokenAt,
        worker_unready_after_ms: seen.unready.worker.at - seen.brokenAt,
        gateway_ready_again_after_ms: seen.readyAgain.gateway.at - seen.repairedAt,
        worker_ready_again_after_ms: seen.readyAgain.worker.at - seen.repairedAt,
        requests_sent: seen.outcomes.length,
        requests_failed: failures(seen.outcomes).length,
        tasks_accepted: seen.created.length,
        tasks_accepted_during_outage: seen.createdDuringOutage.length,
        notifications_lost: lost.length,
        notifications_duplicated: notifiedTwice.length,
        redeliveries,
        jobs_requeued_by_sweep: pair.worker.lines().filter((line) => line.event === "job_requeued").length,
        restarts: pair.gateway.runs.length + pair.worker.runs.length - 2,
      });
    }
    await pair?.close();
    await receiver?.close();
    await redis?.stop();
    await db?.drop();
  });

  it("answers /readyz 503 on both services within two probe periods", () => {
    expect(seen.unready.gateway.at - seen.brokenAt).toBeLessThan(2 * PROBE_PERIOD_MS);
    expect(seen.unready.worker.at - seen.brokenAt).toBeLessThan(2 * PROBE_PERIOD_MS);
  });

  it("keeps /healthz 200 and both processes running, never restarted", () => {
    for (const name of ["gateway", "worker"] as const) {
      expect(seen.health[name].length).toBeGreaterThan(10);
      expect(seen.health[name].filter((sample) => sample.status !== 200)).toEqual([]);
      expect(pair[name].runs).toHaveLength(1);
      expect(pair[name].current().child.exitCode).toBeNull();
    }
  });

  it("answers /readyz 200 again within seconds of Redis coming back", () => {
    expect(seen.readyAgain.gateway.at - seen.repairedAt).toBeLessThan(2 * PROBE_PERIOD_MS);
    expect(seen.readyAgain.worker.at - seen.repairedAt).toBeLessThan(2 * PROBE_PERIOD_MS);
  });

  it("keeps creating and reading tasks: no request fails while only the cache and the queue are away", () => {
    expect(seen.createdDuringOutage.length).toBeGreaterThan(5);
    expect(failures(seen.outcomes)).toEqual([]);
  });

  it("notifies every task accepted, during the outage too, exactly once", async () => {
    expect(seen.allNotified).toBe(true);
    const { lost, notifiedTwice } = notificationFigures(receiver, seen.created);
    expect({ lost, notifiedTwice }).toEqual({ lost: [], notifiedTwice: [] });
    const rows = await pair.notifications();
    expect(rows.filter((row) => row.status !== "delivered")).toEqual([]);
    expect(new Set(rows.map((row) => row.task_id))).toEqual(new Set(seen.created));
  });
});
