import { randomUUID } from "node:crypto";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createServiceClient } from "@ward/shared/http";
import { createLogger } from "@ward/shared/logging";
import { connectPostgres } from "@ward/shared/postgres";
import { LogCapture, waitFor } from "@ward/shared/testing";
import { createBacking, startGateway, WORKER_TOKEN, type Backing, type Gateway } from "../../test/harness.js";
import { WorkerStandIn } from "../../test/worker-stand-in.js";
import { createOutboxRelay, type OutboxRelayOptions } from "./relay.js";
import { claimDueEntries, dueEntryIds } from "./store.js";

let backing: Backing;
let worker: WorkerStandIn;
const gateways: Gateway[] = [];
const clientsToClose: { close(): Promise<void> }[] = [];

beforeAll(async () => {
  backing = await createBacking();
  worker = await WorkerStandIn.start();
});

afterEach(async () => {
  await Promise.all(gateways.splice(0).map((gateway) => gateway.close()));
  await Promise.all(clientsToClose.splice(0).map((client) => client.close()));
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

const quietLogger = () =>
  createLogger({ service: "gateway", version: "test", environment: "test", destination: new LogCapture() });

/** Writes `count` due entries straight into the outbox, so only the relays under test deliver them. */
async function insertDueEntries(count: number, correlationId: (index: number) => string): Promise<string[]> {
  const org = newOrg();
  const keys = Array.from({ length: count }, () => `${randomUUID()}:task.created`);
  for (const [index, key] of keys.entries()) {
    const payload = {
      event: "task.created",
      org_id: org.org_id,
      task: { id: key.split(":")[0], title: "t", status: "open" },
    };
    await backing.sql`
      insert into outbox (idempotency_key, event, payload, correlation_id)
      values (${key}, 'task.created', ${backing.sql.json(payload)}, ${correlationId(index)})`;
  }
  return keys;
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

  it("delivers a backlog several at a time, each entry once, under its own correlation ID", async () => {
    const keys = await insertDueEntries(50, (index) => `backlog-${index}`);
    worker.answer = () => ({ status: 202, delayMs: 20 });
    worker.maxInFlight = 0;
    const client = createServiceClient(worker.url, { logger: quietLogger() });
    const relay = createOutboxRelay({
      sql: backing.sql,
      worker: client,
      workerToken: WORKER_TOKEN,
      logger: quietLogger(),
    });
    const attempted = await relay.deliverDue();
    await client.close();

    expect(attempted).toBe(50);
    expect(worker.maxInFlight).toBeGreaterThanOrEqual(4); // several calls in flight at once
    expect(worker.maxInFlightPerKey).toBe(1);
    expect(keys.map((key) => worker.receivedFor(key).map((request) => request.correlationId))).toEqual(
      keys.map((_, index) => [`backlog-${index}`]),
    );
    const undelivered = await backing.sql`select id from outbox where delivered_at is null`;
    expect(undelivered).toHaveLength(0);
  });

  it("waits for every delivery in flight when stopped", async () => {
    const keys = await insertDueEntries(6, () => "stopped-mid-backlog");
    worker.answer = () => ({ status: 202, delayMs: 300 });
    const gateway = gatewayWithRelay({ relay: { concurrency: 3 } });
    await waitFor(
      () => worker.received.filter((request) => keys.includes(request.idempotencyKey!)).length >= 3,
    );
    await gateway.relay?.stop();
    const sent = keys.filter((key) => worker.receivedFor(key).length > 0);
    const delivered = await backing.sql<{ idempotency_key: string }[]>`
      select idempotency_key from outbox where delivered_at is not null`;
    expect(delivered.map((row) => row.idempotency_key).sort()).toEqual(sent.sort());
  });

  it("refuses a concurrency below 1 at start-up", () => {
    expect(() =>
      createOutboxRelay({
        sql: backing.sql,
        worker: createServiceClient(worker.url, { logger: quietLogger() }),
        workerToken: WORKER_TOKEN,
        logger: quietLogger(),
        concurrency: 0,
      }),
    ).toThrow(/concurrency must be a whole number above 0/);
  });

  it("never sends one entry twice at the same time from two relays, and sends each once", async () => {
    const logger = quietLogger();
    // Twenty entries written directly, so that only the two relays below deliver them.
    const keys = await insertDueEntries(20, () => "two-relays");
    worker.answer = () => ({ status: 202, delayMs: 30 });
    // Two gateway replicas: each its own PostgreSQL pool and worker client, on one database.
    const pools = [backing.sql, connectPostgres(backing.db.url, { applicationName: "ward-gateway-replica" })];
    const clients = pools.map(() => createServiceClient(worker.url, { logger }));
    const relays = clients.map((client, index) =>
      createOutboxRelay({
        sql: pools[index]!,
        worker: client,
        workerToken: WORKER_TOKEN,
        logger,
        concurrency: 4,
      }),
    );
    const attempted = await Promise.all(relays.map((relay) => relay.deliverDue()));
    await Promise.all(clients.map((client) => client.close()));
    await pools[1]!.end();

    expect(attempted.every((count) => count > 0)).toBe(true); // both relays took part
    expect(worker.maxInFlight).toBeGreaterThanOrEqual(2); // ...at the same time
    expect(worker.maxInFlightPerKey).toBe(1);
    expect(keys.map((key) => worker.receivedFor(key).length)).toEqual(keys.map(() => 1));
  });

  it("leaves an entry another relay has leased alone, and sends it once that lease runs out", async () => {
    const [key] = await insertDueEntries(1, () => "lease-ran-out");
    // A relay that claimed the entry and died before recording anything.
    await claimDueEntries(backing.sql, { limit: 1, leaseMs: 1_500 });
    const relay = standaloneRelay();
    expect(await relay.deliverDue()).toBe(0);
    expect(worker.receivedFor(key!)).toHaveLength(0);
    await waitFor(async () => (await relay.deliverDue()) === 1, {
      what: "the lease to run out",
      timeoutMs: 10_000,
    });
    expect(worker.receivedFor(key!).map((request) => request.correlationId)).toEqual(["lease-ran-out"]);
    expect(await outboxRow(key!)).toMatchObject({ attempts: 1, delivered_at: expect.any(Date) as Date });
  });

  it("claims through the index of undelivered entries, whatever the number of delivered ones", async () => {
    await backing.sql`
      insert into outbox (idempotency_key, event, payload, correlation_id, delivered_at, attempts)
      select 'planned-' || n, 'task.created', '{}', 'planned', now(), 1 from generate_series(1, 20000) as n`;
    await insertDueEntries(5, () => "planned");
    await backing.sql`analyze outbox`;
    const [row] = await backing.sql<
      { "QUERY PLAN": unknown }[]
    >`explain (format json) ${dueEntryIds(backing.sql, 32)}`;
    expect(JSON.stringify(row!["QUERY PLAN"])).toContain('"Index Name":"outbox_pending"');
  });

  it("deletes delivered entries older than the retention, in batches, and keeps every other", async () => {
    const old = await insertDueEntries(25, () => "old-delivered");
    const kept = [
      ...(await insertDueEntries(3, () => "recent-delivered")),
      ...(await insertDueEntries(2, () => "old-rejected")),
    ];
    await backing.sql`
      update outbox set delivered_at = now() - interval '2 hours', next_attempt_at = now() + interval '1 day'
      where idempotency_key = any(${old})`;
    await backing.sql`update outbox set delivered_at = now() where correlation_id = 'recent-delivered'`;
    await backing.sql`
      update outbox set failed_at = now() - interval '2 hours', created_at = now() - interval '2 hours'
      where correlation_id = 'old-rejected'`;
    const gateway = gatewayWithRelay({ relay: { retentionMs: 3_600_000, retentionBatchSize: 10 } });
    const line = await waitFor(() => gateway.logs.find((l) => l.event === "outbox_retention_deleted"));
    expect(line).toMatchObject({ level: "info", deleted: 25 });
    const left = await backing.sql<{ idempotency_key: string }[]>`select idempotency_key from outbox`;
    expect(left.map((row) => row.idempotency_key).sort()).toEqual([...kept].sort());
  });
});

function standaloneRelay(options: Partial<OutboxRelayOptions> = {}) {
  const logger = quietLogger();
  const client = createServiceClient(worker.url, { logger });
  clientsToClose.push(client);
  return createOutboxRelay({
    sql: backing.sql,
    worker: client,
    workerToken: WORKER_TOKEN,
    logger,
    ...options,
  });
}
