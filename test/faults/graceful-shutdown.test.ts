import {
  createTestDatabase,
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
import { notificationFigures, recordFigures } from "./support/figures.js";
import { failures, startTaskLoad, type Outcome } from "./support/load.js";
import { settled } from "./support/outage.js";
import { startFaultPair, type FaultPair } from "./support/pair.js";
import { watch, type ReadinessSample } from "./support/readiness.js";

const SHUTDOWN_DELAY_MS = 1500;
const SHUTDOWN_TIMEOUT_MS = 10_000;

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

describe("SIGTERM to the gateway under load", () => {
  let those: Servers;
  let pair: FaultPair;
  let stopped: RunningProcess;
  let sigtermAt = 0;
  let exitedAt = 0;
  let exitCode: number | string;
  let flip: ReadinessSample;
  let outcomes: Outcome[] = [];
  let allNotified = false;

  beforeAll(async () => {
    those = await servers();
    pair = await startFaultPair({
      databaseUrl: those.db.url,
      redisUrl: TEST_REDIS_URL,
      keyPrefix: those.keys.prefix,
      webhookUrl: those.receiver.url,
      gateway: {
        SHUTDOWN_DELAY_MS: String(SHUTDOWN_DELAY_MS),
        SHUTDOWN_TIMEOUT_MS: String(SHUTDOWN_TIMEOUT_MS),
      },
    });
    // The client a load balancer stands for: it polls readiness and stops sending once it fails,
    // but not before one request sent after the signal was answered, whatever the machine's
    // speed: that request is what this test judges.
    const readyz = watch(`${pair.gateway.url}/readyz`, 100);
    const answeredAfterSignal = () => sigtermAt > 0 && load.outcomes.some((o) => o.sentAt >= sigtermAt);
    const load = startTaskLoad(pair, {
      concurrency: 4,
      pauseMs: 20,
      maxMs: 30_000,
      shouldStop: () => readyz.samples.some((sample) => sample.status !== 200) && answeredAfterSignal(),
    });
    await waitFor(() => load.outcomes.length >= 8, { what: "the load to be under way" });
    stopped = pair.gateway.current();
    sigtermAt = Date.now();
    stopped.child.kill("SIGTERM");
    exitCode = await stopped.exited;
    exitedAt = Date.now();
    outcomes = await load.stop();
    await readyz.stop();
    flip = readyz.samples.find((sample) => sample.at >= sigtermAt && sample.status !== 200)!;
    // What the gateway had accepted but not yet handed to the worker, the next one sends.
    await pair.gateway.start();
    allNotified = await settled(pair, those.receiver, load.created());
  }, 60_000);

  afterAll(async () => {
    if (exitedAt) {
      const created = outcomes.flatMap((o) => (o.taskId ? [o.taskId] : []));
      const { lost, notifiedTwice } = notificationFigures(those.receiver, created);
      recordFigures("gateway_sigterm", {
        fault: `SIGTERM to the gateway (SHUTDOWN_DELAY_MS=${SHUTDOWN_DELAY_MS})`,
        load: "4 clients creating and reading back tasks, 20 ms apart, stopping when /readyz fails",
        readiness_503_after_ms: flip ? flip.at - sigtermAt : null,
        requests_sent: outcomes.length,
        requests_sent_after_sigterm: outcomes.filter((o) => o.sentAt >= sigtermAt).length,
        requests_failed: failures(outcomes).length,
        exit_code: exitCode,
        exit_after_ms: exitedAt - sigtermAt,
        notifications_lost: lost.length,
        notifications_duplicated: notifiedTwice.length,
      });
    }
    await cleanUp(pair, those);
  });

  it("turns readiness 503 first, while still answering", () => {
    expect(flip).toMatchObject({ status: 503 });
    expect(flip.at).toBeLessThan(sigtermAt + SHUTDOWN_DELAY_MS);
  });

  it("completes every request in flight: zero failed requests from a client that stops on readiness", () => {
    const afterSignal = outcomes.filter((o) => o.sentAt >= sigtermAt).length;
    expect(
      afterSignal,
      "the load never overlapped the shutdown: no request was sent after SIGTERM",
    ).toBeGreaterThan(0);
    expect(failures(outcomes)).toEqual([]);
  });

  it("exits 0 within the shutdown deadline", () => {
    expect(exitCode).toBe(0);
    expect(exitedAt - sigtermAt).toBeLessThan(SHUTDOWN_TIMEOUT_MS);
    expect(stopped.logs.find((line) => line.event === "shutdown_completed")).toMatchObject({ exit_code: 0 });
  });

  it("loses no accepted task's notification: the next gateway sends what this one had not", () => {
    expect(allNotified).toBe(true);
    const created = outcomes.flatMap((o) => (o.taskId ? [o.taskId] : []));
    expect(notificationFigures(those.receiver, created)).toMatchObject({ lost: [], notifiedTwice: [] });
  });
});

describe("SIGTERM to the worker with jobs in flight", () => {
  const TASKS = 20;
  let those: Servers;
  let pair: FaultPair;
  let stopped: RunningProcess;
  let sigtermAt = 0;
  let exitedAt = 0;
  let exitCode: number | string;
  let flip: ReadinessSample;
  let created: string[] = [];
  let inFlight: string[] = [];
  let storedAtExit = new Map<string, string>();
  let allDelivered = false;

  beforeAll(async () => {
    those = await servers();
    pair = await startFaultPair({
      databaseUrl: those.db.url,
      redisUrl: TEST_REDIS_URL,
      keyPrefix: those.keys.prefix,
      webhookUrl: those.receiver.url,
      worker: { SHUTDOWN_DELAY_MS: "500", SHUTDOWN_TIMEOUT_MS: String(SHUTDOWN_TIMEOUT_MS) },
    });
    those.receiver.answer = () => ({ status: 200, delayMs: 500 }); // a slow receiver
    created = await pair.createTasks(Array.from({ length: TASKS }, (_, i) => `slow ${i}`));
    await waitFor(() => those.receiver.calls.length >= 6, { what: "jobs in flight" });

    const readyz = watch(`${pair.worker.url}/readyz`, 50);
    stopped = pair.worker.current();
    sigtermAt = Date.now();
    stopped.child.kill("SIGTERM");
    exitCode = await stopped.exited;
    exitedAt = Date.now();
    await readyz.stop();
    flip = readyz.samples.find((sample) => sample.at >= sigtermAt && sample.status !== 200)!;
    inFlight = stopped.logs.lines
      .filter((line) => line.event === "job_started")
      .map((line) => String(line.notification_id));
    const rows = await pair.notifications();
    storedAtExit = new Map(rows.map((row) => [row.id, row.status]));

    await pair.worker.start();
    allDelivered = await settled(pair, those.receiver, created);
  }, 60_000);

  afterAll(async () => {
    if (exitedAt) {
      const { lost, notifiedTwice, redeliveries } = notificationFigures(those.receiver, created);
      recordFigures("worker_sigterm", {
        fault: "SIGTERM to the worker with webhook calls in flight (SHUTDOWN_DELAY_MS=500)",
        load: `${TASKS} tasks created at once; receiver takes 500 ms per call`,
        readiness_503_after_ms: flip ? flip.at - sigtermAt : null,
        jobs_started_before_exit: inFlight.length,
        jobs_left_unfinished_at_exit: inFlight.filter((id) => storedAtExit.get(id) !== "delivered").length,
        exit_code: exitCode,
        exit_after_ms: exitedAt - sigtermAt,
        notifications_lost: lost.length,
        notifications_duplicated: notifiedTwice.length,
        redeliveries,
      });
    }
    await cleanUp(pair, those);
  });

  it("turns readiness 503 first", () => {
    expect(flip).toMatchObject({ status: 503 });
  });

  it("finishes the jobs in flight and stores them as delivered before it exits", () => {
    expect(inFlight.length).toBeGreaterThan(0);
    expect(inFlight.filter((id) => storedAtExit.get(id) !== "delivered")).toEqual([]);
    expect([...storedAtExit.values()].filter((status) => status === "delivering")).toEqual([]);
  });

  it("exits 0 within the shutdown deadline", () => {
    expect(exitCode).toBe(0);
    expect(exitedAt - sigtermAt).toBeLessThan(SHUTDOWN_TIMEOUT_MS);
  });

  it("delivers the rest after the restart, each notification called exactly once", () => {
    expect(allDelivered).toBe(true);
    expect([...storedAtExit.values()].filter((status) => status === "queued").length).toBeGreaterThan(0);
    const calls = [...those.receiver.handled().values()];
    expect(calls).toHaveLength(TASKS);
    expect(calls.filter((each) => each.length !== 1)).toEqual([]);
  });
});
