import {
  privatePostgres,
  testKeySpace,
  TEST_REDIS_URL,
  type PrivatePostgres,
  type TestKeySpace,
  startWebhookReceiver,
  type WebhookReceiver,
} from "@ward/shared/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { notificationFigures, recordFigures } from "./support/figures.js";
import { failures } from "./support/load.js";
import { playOutage, type OutageObservations } from "./support/outage.js";
import { startFaultPair, type FaultPair } from "./support/pair.js";
import { PROBE_PERIOD_MS } from "./support/readiness.js";

describe("PostgreSQL stopped while both services run under steady load", () => {
  let postgres: PrivatePostgres;
  let keys: TestKeySpace;
  let receiver: WebhookReceiver;
  let pair: FaultPair;
  let seen: OutageObservations;

  beforeAll(async () => {
    postgres = await privatePostgres();
    await postgres.start();
    keys = testKeySpace();
    receiver = await startWebhookReceiver();
    pair = await startFaultPair({
      databaseUrl: postgres.url,
      redisUrl: TEST_REDIS_URL,
      keyPrefix: keys.prefix,
      webhookUrl: receiver.url,
    });
    seen = await playOutage({
      pair,
      receiver,
      breakIt: () => postgres.stop(),
      repairIt: () => postgres.start(),
    });
  }, 90_000);

  afterAll(async () => {
    if (seen) {
      const { lost, notifiedTwice, redeliveries } = notificationFigures(receiver, seen.created);
      const failed = failures(seen.outcomes);
      recordFigures("postgres_outage", {
        fault: "PostgreSQL stopped (fast shutdown) for 3 s",
        load: "2 clients creating and reading back tasks, 50 ms apart",
        gateway_unready_after_ms: seen.unready.gateway.at - seen.brokenAt,
        worker_unready_after_ms: seen.unready.worker.at - seen.brokenAt,
        gateway_ready_again_after_ms: seen.readyAgain.gateway.at - seen.repairedAt,
        worker_ready_again_after_ms: seen.readyAgain.worker.at - seen.repairedAt,
        requests_sent: seen.outcomes.length,
        requests_failed: failed.length,
        requests_failed_not_503: failed.filter((outcome) => outcome.status !== 503).length,
        tasks_accepted: seen.created.length,
        tasks_accepted_during_outage: seen.createdDuringOutage.length,
        notifications_lost: lost.length,
        notifications_duplicated: notifiedTwice.length,
        redeliveries,
        jobs_claimed_after_failure: pair.worker.lines().filter((line) => line.event === "job_claimed").length,
        restarts: pair.gateway.runs.length + pair.worker.runs.length - 2,
      });
    }
    await pair?.close();
    await receiver?.close();
    await keys?.clean();
    await postgres?.destroy();
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

  it("answers /readyz 200 again within seconds of PostgreSQL coming back", () => {
    expect(seen.readyAgain.gateway.at - seen.repairedAt).toBeLessThan(2 * PROBE_PERIOD_MS);
    expect(seen.readyAgain.worker.at - seen.repairedAt).toBeLessThan(2 * PROBE_PERIOD_MS);
  });

  it("answers requests it cannot serve meanwhile with 503 JSON carrying a correlation_id, never dropping one", () => {
    const failed = failures(seen.outcomes);
    expect(failed.length).toBeGreaterThan(0);
    for (const outcome of failed) {
      expect(outcome).toMatchObject({
        status: 503,
        error: { code: "service_unavailable", correlated: true },
      });
    }
  });

  it("notifies every task accepted before and after the outage exactly once", async () => {
    expect(seen.allNotified).toBe(true);
    const { lost, notifiedTwice } = notificationFigures(receiver, seen.created);
    expect({ lost, notifiedTwice }).toEqual({ lost: [], notifiedTwice: [] });
    const rows = await pair.notifications();
    expect(rows.filter((row) => row.status !== "delivered")).toEqual([]);
    expect(new Set(rows.map((row) => row.task_id))).toEqual(new Set(seen.created));
  });
});
