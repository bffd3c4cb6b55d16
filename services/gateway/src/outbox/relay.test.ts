import { randomUUID } from "node:crypto";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createServiceClient } from "@ward/shared/http";
import { createLogger } from "@ward/shared/logging";
import { LogCapture, waitFor } from "@ward/shared/testing";
import { createBacking, startGateway, WORKER_TOKEN, type Backing, type Gateway } from "../../test/harness.js";
import { WorkerStandIn } from "../../test/worker-stand-in.js";
import { createOutboxRelay } from "./relay.js";

let backing: Backing;
let worker: WorkerStandIn;
const gateways: Gateway[] = [];

beforeAll(async () => {
  backing = await createBacking();
  worker = await WorkerStandIn.start();
});

afterEach(async () => {
  await Promise.all(gateways.splice(0).map((gateway) => gateway.close()));
  await backing.sql`delete from outbox`; // each test delivers only its own entries
  worker.answer = () => ({ status: 202 });
  await worker.start(); // a test may have stopped it
});

afterAll(async () => {
  await worker?.stop();
  await backing?.close();
});

function gatewayWithRelay(relay: Parameters<typeof startGateway>[1] = {}): Gateway {
  const gateway = startGateway(backing, { workerUrl: worker.url, ...relay });
  gateways.push(gateway);
  return gateway;
}

const newOrg = () => ({ sub: "user-1", org_id: `org-${randomUUID()}` });

interface OutboxRow {
  attempts: number;
  delivered_at: Date | null;
  failed_at: Date | null;
  last_error: string | null;
  correlation_id: string;
}

const outboxRow = async (key: string) =>
  (await backing.sql<OutboxRow[]>`select * from outbox where idempotency_key = ${key}`)[0];

describe("the outbox relay", () => {
  it("asks the worker to announce task.created, with the contract's body and headers", async () => {
    const gateway = gatewayWithRelay();
    const caller = newOrg();
    const task = await gateway.createTask("Announce me", caller, { "x-correlation-id": "created-123" });
    const request = await waitFor(() => worker.receivedFor(`${task.id}:task.created`).at(0));
    expect(request).toEqual({
      idempotencyKey: `${task.id}:task.created`,
      correlationId: "created-123",
      authorization: `Bearer ${WORKER_TOKEN}`,
      body: {
        event: "task.created",
        org_id: caller.org_id,
        task: { id: task.id, title: "Announce me", status: "open" },
      },
    });
  });

  it("asks for task.completed under the correlation ID of the request that completed the task", async () => {
    const gateway = gatewayWithRelay();
    const caller = newOrg();
    const task = await gateway.createTask("Complete me", caller);
    await gateway.call(`/api/v1/tasks/${task.id}/complete`, {
      method: "POST",
      as: caller,
      headers: { "x-correlation-id": "completed-456" },
    });
    const request = await waitFor(() => worker.receivedFor(`${task.id}:task.completed`).at(0));
    expect(request).toMatchObject({
      correlationId: "completed-456",
      body: { event: "task.completed", task: { id: task.id, status: "completed" } },
    });
  });

  it("records the delivery and logs outbox_delivered under the original correlation ID", async () => {
    const gateway = gatewayWithRelay();
    const task = await gateway.createTask("Recorded", newOrg(), { "x-correlation-id": "recorded-789" });
    const key = `${task.id}:task.created`;
    await waitFor(async () => Boolean((await outboxRow(key))?.delivered_at), { what: "the delivery" });
    expect(await outboxRow(key)).toMatchObject({
      attempts: 1,
      last_error: null,
      correlation_id: "recorded-789",
    });
    const line = await waitFor(() =>
      gateway.logs.find((l) => l.event === "outbox_delivered" && l.task_id === task.id),
    );
    expect(line).toMatchObject({
      correlation_id: "recorded-789",
      attempt: 1,
      notification_id: expect.any(String) as string,
    });
  });

  it("delivers right after the commit, without waiting for the next poll", async () => {
    const gateway = gatewayWithRelay({ relay: { pollIntervalMs: 60_000 } });
    // The relay's first pass is over once it is waiting for the next poll or a kick.
    await new Promise((resolve) => setTimeout(resolve, 100));
    const task = await gateway.createTask("Kicked", newOrg());
    await waitFor(() => worker.receivedFor(`${task.id}:task.created`).length === 1, { timeoutMs: 10_000 });
  });

  describe("when the worker is down", () => {
    it("still creates the task (201)", async () => {
      await worker.stop();
      const gateway = gatewayWithRelay();
      const response = await gateway.call("/api/v1/tasks", {
        method: "POST",
        json: { title: "Worker away" },
      });
      expect(response.status).toBe(201);
    });

    it("delivers exactly once, under the original correlation ID, when the worker is back", async () => {
      await worker.stop();
      const gateway = gatewayWithRelay();
      const task = await gateway.createTask("Delivered later", newOrg(), { "x-correlation-id": "late-abc" });
      const key = `${task.id}:task.created`;
      await waitFor(async () => ((await outboxRow(key))?.attempts ?? 0) >= 2, {
        what: "two failed attempts",
      });
      await worker.start();
      await waitFor(async () => Boolean((await outboxRow(key))?.delivered_at), { what: "the delivery" });
      // Give a wrongly repeated delivery the time to happen.
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(worker.receivedFor(key).map((request) => request.correlationId)).toEqual(["late-abc"]);
    });

    it("logs outbox_delivery_failed with the attempt and when it retries", async () => {
      await worker.stop();
      const gateway = gatewayWithRelay();
      const task = await gateway.createTask("Retried", newOrg(), { "x-correlation-id": "retry-def" });
      const line = await waitFor(() =>
        gateway.logs.find((l) => l.event === "outbox_delivery_failed" && l.task_id === task.id),
      );
      expect(line).toMatchObject({
        level: "warn",
        correlation_id: "retry-def",
        attempt: 1,
        retry_in_ms: expect.any(Number) as number,
        err: expect.objectContaining({
          message: expect.stringContaining("ECONNREFUSED") as string,
        }) as object,
      });
    });
  });

  it("retries a 503 and a 429 with growing, capped delays until the worker accepts", async () => {
    const statuses = [503, 429, 503];
    worker.answer = () => ({ status: statuses.shift() ?? 202 });
    const gateway = gatewayWithRelay({ relay: { retryBaseMs: 40, retryMaxMs: 100 } });
    const task = await gateway.createTask("Flaky worker", newOrg());
    const key = `${task.id}:task.created`;
    await waitFor(async () => Boolean((await outboxRow(key))?.delivered_at), { what: "the delivery" });
    const delays = gateway.logs.lines
      .filter((line) => line.event === "outbox_delivery_failed" && line.task_id === task.id)
      .map((line) => line.retry_in_ms as number);
    expect(delays).toHaveLength(3);
    expect(delays[1]).toBeGreaterThan(delays[0]!);
    expect(Math.max(...delays)).toBeLessThanOrEqual(100);
    expect(await outboxRow(key)).toMatchObject({ attempts: 4 });
  });

  it("gives up on a request the worker rejects with a 4xx: marked failed, logged as an error, not retried", async () => {
    worker.answer = () => ({ status: 400, body: { error: "validation_failed", message: "bad" } });
    const gateway = gatewayWithRelay();
    const task = await gateway.createTask("Rejected", newOrg());
    const key = `${task.id}:task.created`;
    await waitFor(async () => Boolean((await outboxRow(key))?.failed_at), { what: "the rejection" });
    await new Promise((resolve) => setTimeout(resolve, 300)); // several poll intervals
    expect(worker.receivedFor(key)).toHaveLength(1);
    expect(await outboxRow(key)).toMatchObject({
      attempts: 1,
      last_error: "HTTP 400 validation_failed",
      delivered_at: null,
    });
    expect(
      gateway.logs.find((l) => l.event === "outbox_delivery_rejected" && l.task_id === task.id),
    ).toMatchObject({
      level: "error",
      status_code: 400,
    });
  });

  it("finishes and records the delivery in flight when stopped", async () => {
    worker.answer = () => ({ status: 202, delayMs: 400 });
    const gateway = gatewayWithRelay();
    const task = await gateway.createTask("In flight at shutdown", newOrg());
    const key = `${task.id}:task.created`;
    await waitFor(() => worker.receivedFor(key).length === 1);
    await gateway.relay?.stop();
    expect((await outboxRow(key))?.delivered_at).toBeInstanceOf(Date);
  });

  it("never sends one entry twice at the same time from two relays, and sends each once", async () => {
    const logger = createLogger({
      service: "gateway",
      version: "test",
      environment: "test",
      destination: new LogCapture(),
    });
    const org = newOrg();
    // Twenty entries written directly, so that only the two relays below deliver them.
    const keys = Array.from({ length: 20 }, () => `${randomUUID()}:task.created`);
    for (const key of keys) {
      const payload = {
        event: "task.created",
        org_id: org.org_id,
        task: { id: key.split(":")[0], title: "t", status: "open" },
      };
      await backing.sql`
        insert into outbox (idempotency_key, event, payload, correlation_id)
        values (${key}, 'task.created', ${backing.sql.json(payload)}, 'two-relays')`;
    }
    worker.answer = () => ({ status: 202, delayMs: 30 });
    const clients = [
      createServiceClient(worker.url, { logger }),
      createServiceClient(worker.url, { logger }),
    ];
    const relays = clients.map((client) =>
      createOutboxRelay({ sql: backing.sql, worker: client, workerToken: WORKER_TOKEN, logger }),
    );
    const attempted = await Promise.all(relays.map((relay) => relay.deliverDue()));
    await Promise.all(clients.map((client) => client.close()));

    expect(attempted.every((count) => count > 0)).toBe(true); // both relays took part
    expect(worker.maxInFlight).toBeGreaterThanOrEqual(2); // ...at the same time
    expect(worker.maxInFlightPerKey).toBe(1);
    expect(keys.map((key) => worker.receivedFor(key).length)).toEqual(keys.map(() => 1));
  });
});
